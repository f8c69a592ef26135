"""The still2motion web app (a Hugging Face Space): upload a still, watch it loop, download it.

UI only: every step is a call into ``still2motion``. The model is loaded once, here at start-up, and shared by all
requests. One API endpoint, ``/animate``, for ``gradio_client``:

    Client("http://127.0.0.1:7860/").predict(handle_file("cat.png"), format="gif", api_name="/animate")
    # -> (preview APNG path, download path)

Run with ``python app.py``.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import gradio as gr

import still2motion
from still2motion import config as cfg
from still2motion import io

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent
EXAMPLES = sorted(ROOT.glob("examples/*.png"))

MODEL_NAME = cfg.resolve_model(None)  # what load_model(None) loads: $STILL2MOTION_MODEL, else the bundled model
MODEL = still2motion.load_model(MODEL_NAME)  # the one model every request uses; never reloaded

FORMAT_CHOICES = [
    ("APNG", "apng"),
    ("GIF", "gif"),
    ("WebP", "webp"),
    ("LINE sticker (APNG)", "line"),
    ("LINE main image (240×240 APNG)", "line-main"),
    ("Sprite sheet (.zip: PNG + JSON)", "spritesheet"),
]
# Download file name after the upload's stem, per format.
DOWNLOAD_SUFFIX = {"apng": ".png", "gif": ".gif", "webp": ".webp", "line": "_line.png", "line-main": "_line_main.png"}

# Outputs of each request go to their own folder under WORK_DIR. Gradio copies returned files into its own cache
# (cleaned by delete_cache below), so a finished request's folder is only kept briefly: the newest KEEP_REQUESTS, none
# older than MAX_AGE_S, and never one still being written.
WORK_DIR = Path(tempfile.mkdtemp(prefix="still2motion-app-"))
atexit.register(shutil.rmtree, WORK_DIR, ignore_errors=True)
KEEP_REQUESTS = 16
MAX_AGE_S = 15 * 60
GRADIO_CACHE_CLEANUP = (600, 1800)  # every 10 min, delete served/uploaded files older than 30 min
_busy: set[Path] = set()
_lock = threading.Lock()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _prune_work_dir() -> None:
    now = time.time()
    finished = sorted((p for p in WORK_DIR.iterdir() if p not in _busy), key=_mtime, reverse=True)
    for rank, path in enumerate(finished):
        if rank >= KEEP_REQUESTS or now - _mtime(path) > MAX_AGE_S:
            shutil.rmtree(path, ignore_errors=True)


def _request_dir() -> Path:
    with _lock:
        _prune_work_dir()
        path = Path(tempfile.mkdtemp(dir=WORK_DIR))
        _busy.add(path)
    return path


def _release(path: Path) -> None:
    with _lock:
        _busy.discard(path)


def _stem(path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(path).stem).strip("_")[:40]
    return stem or "still"


def _zip_spritesheet(png: Path) -> Path:
    archive = png.with_name(png.stem + ".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(png, png.name)
        zf.write(png.with_suffix(".json"), png.with_suffix(".json").name)
    return archive


def animate(
    image: str | None,
    frames: int = cfg.DEFAULT_FRAMES,
    fps: float = cfg.DEFAULT_FPS,
    strength: float = cfg.DEFAULT_STRENGTH,
    seed: int | None = cfg.DEFAULT_SEED,
    resample: str = "auto",
    format: str = "apng",
) -> tuple[str, str]:
    """Animates the uploaded still; returns ``(preview APNG path, download path in the chosen format)``."""
    if not image:
        raise gr.Error("Upload an image first (PNG, WebP, JPEG, or the first frame of a GIF/APNG).")
    # An API client may send null for a cleared field: treat it as the default.
    frames = cfg.DEFAULT_FRAMES if frames is None else frames
    fps = cfg.DEFAULT_FPS if fps is None else fps
    strength = cfg.DEFAULT_STRENGTH if strength is None else strength
    resample, format = resample or "auto", format or "apng"
    out_dir = _request_dir()
    try:
        max_input, max_bytes = int(cfg.limit("max_input_pixels")), int(cfg.limit("max_output_bytes"))
        width, height = io.read_size(image, max_pixels=max_input)  # header only: refuse a too large output first
        cfg.check_output_size(io.render_size(format, width, height) or (width, height), source=image)
        read = io.read_image(image, max_pixels=max_input)
        if read.n_frames > 1:
            gr.Info(f"The upload is animated ({read.n_frames} frames); animating its first frame.")
        anim = MODEL.animate(
            read.image,
            num_frames=frames,
            fps=fps,
            strength=strength,
            seed=None if seed is None else int(seed),
            resample=resample,
            size=io.render_size(format, *read.image.size),
        )
        stem = _stem(image)
        preview = anim.save(out_dir / f"{stem}_loop.png", format="apng", max_bytes=max_bytes)
        if format == "apng":
            download = preview
        elif format == "spritesheet":
            sheet = anim.save(out_dir / f"{stem}_spritesheet.png", format="spritesheet", max_bytes=max_bytes)
            download = _zip_spritesheet(sheet)
        else:
            name = f"{stem}{DOWNLOAD_SUFFIX.get(format, '')}"
            download = anim.save(out_dir / name, format=format, max_bytes=max_bytes)
    except (ValueError, TypeError, OSError) as exc:
        # The library's one-line message, with gradio's temporary upload path shortened to the file name.
        raise gr.Error(str(exc).replace(str(image), Path(image).name)) from None
    finally:
        _release(out_dir)
    return str(preview), str(download)


def _pass_file_through(upload: gr.Image) -> gr.Image:
    """Makes ``upload`` hand the uploaded file's path to ``animate`` untouched.

    ``gr.Image`` would open the file with Pillow first: an unreadable upload would fail there with a generic error,
    and mode conversion would lose APNG/GIF first-frame composition. ``still2motion`` reads the file itself (EXIF
    orientation, every mode to RGBA, animated first frame) and reports a bad file in one line. (An instance override,
    not a subclass: a ``gr.Image`` subclass makes gradio write an ``app.pyi`` stub next to this file.)
    """
    upload.preprocess = lambda payload: None if payload is None else payload.path
    return upload


def _model_markdown() -> str:
    card = Path(MODEL_NAME) / "README.md"
    if Path(MODEL_NAME).is_dir():
        if MODEL_NAME == cfg.DEFAULT_MODEL:
            name = "the bundled default model"
            card_rel = "still2motion/default_model/README.md"
            space = os.environ.get("SPACE_ID")  # set on Hugging Face Spaces
            url = f"https://huggingface.co/spaces/{space}/blob/main/{card_rel}" if space else None
        else:
            name, url = f"`{Path(MODEL_NAME).name}` (a local folder)", None
        link = f"[model card]({url})" if url else "model card below" if card.is_file() else "no model card"
        return f"Model: {name} ({link})."
    return f"Model: [{MODEL_NAME}](https://huggingface.co/{MODEL_NAME})."


def _model_card() -> str | None:
    card = Path(MODEL_NAME) / "README.md"
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S).strip()  # drop the YAML front matter


DESCRIPTION = f"""# still2motion

Turn **one still image** — a sticker, a sprite, an illustration, transparency kept — into a **seamlessly looping
animation**. A small network predicts how the pixels *move* and warps your image, so it stays as sharp as the input:
frame 0 is your image and the last frame flows back into the first. {_model_markdown()}
"""

TITLE = "still2motion: a still image in, a looping animation out"

with gr.Blocks(title=TITLE, delete_cache=GRADIO_CACHE_CLEANUP) as demo:
    gr.Markdown(DESCRIPTION)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            image = _pass_file_through(
                gr.Image(
                    type="filepath",
                    image_mode=None,
                    label="Still image (transparency kept)",
                    sources=["upload", "clipboard"],
                    height=300,
                )
            )
            gr.Examples(examples=[[str(p)] for p in EXAMPLES], inputs=[image], label="CC0 examples (Kenney)")
        with gr.Column(scale=1, min_width=300):
            with gr.Row():
                frames = gr.Slider(1, 60, value=cfg.DEFAULT_FRAMES, step=1, precision=0, label="Frames")
                fps = gr.Slider(1, 50, value=cfg.DEFAULT_FPS, step=0.5, label="FPS")
            strength = gr.Slider(0.0, 3.0, value=cfg.DEFAULT_STRENGTH, step=0.05, label="Motion strength (0 = still)")
            with gr.Row(equal_height=True):
                seed = gr.Number(value=cfg.DEFAULT_SEED, precision=0, minimum=0, label="Seed (which motion)", scale=3)
                random_seed = gr.Button("Random seed", scale=1, size="md")
            resample = gr.Radio(
                list(cfg.RESAMPLE_MODES), value="auto", label="Resampling (auto: nearest for small sprites and pixel art)"
            )
            format = gr.Dropdown(FORMAT_CHOICES, value="apng", label="Download format")
            run = gr.Button("Animate", variant="primary", size="lg")
        with gr.Column(scale=1, min_width=300):
            preview = gr.Image(
                type="filepath", format="png", label="Preview (APNG, loops)", interactive=False, height=300
            )
            download = gr.File(label="Download", interactive=False)
    card = _model_card()
    if card:
        with gr.Accordion("About the model", open=False):
            gr.Markdown(card)

    # The seed is drawn in the browser: no server round trip and no extra API endpoint.
    random_seed.click(None, None, seed, js="() => Math.floor(Math.random() * 2147483647)")
    run.click(
        animate,
        inputs=[image, frames, fps, strength, seed, resample, format],
        outputs=[preview, download],
        api_name="animate",
    )

# Two cores: two requests at a time, the rest wait in a bounded queue.
demo.queue(max_size=64, default_concurrency_limit=2)
LAUNCH_OPTIONS = {"max_file_size": "25mb", "theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="pink")}

if __name__ == "__main__":
    demo.launch(**LAUNCH_OPTIONS)
