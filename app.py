"""The still2motion web app (a Hugging Face Space): upload a still, watch it loop, download it.

UI only: every step is a call into ``still2motion``. The model is loaded once, here at start-up, and shared by all
requests. One API endpoint, ``/animate``, for ``gradio_client``:

    Client("http://127.0.0.1:7860/").predict(handle_file("cat.png"), format="gif", api_name="/animate")
    # -> (preview APNG path, download path); client.submit(...) also sees the preview first, before the download

Run with ``python app.py``.
"""

from __future__ import annotations

import atexit
import ctypes
import dataclasses
import logging
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import numpy as np

import still2motion
from still2motion import config as cfg
from still2motion import io
from still2motion import request as rq
from still2motion.presets import PRESETS

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent
EXAMPLES = sorted(ROOT.glob("examples/*.png"))

MODEL_NAME = cfg.resolve_model(None)  # what load_model(None) loads: $STILL2MOTION_MODEL, else the bundled model
MODEL = still2motion.load_model(MODEL_NAME)  # the one model every request uses; never reloaded

FORMAT_CHOICES = [(f.label, f.name) for f in io.FORMATS.values()]  # the format table, in its order
MOTION_CHOICES = [("Auto (learned)", "auto")] + [(f"{name.capitalize()}: {p.description}", name) for name, p in PRESETS.items()]
# How the request's fields are spelled in messages: the /animate parameter names.
NAMES = {"num_frames": "frames"}
# The Space's own caps (its sliders), tighter than the CLI's limits (config.py) so one request cannot hold a worker
# for minutes; README lists both.
APP_MAX_FRAMES, APP_MAX_FPS, APP_MAX_STRENGTH = 60, 50, 3.0

# Outputs of each request go to their own folder under WORK_DIR. Gradio copies returned files into its own cache
# (cleaned by delete_cache below), so a finished request's folder is only kept briefly: the newest KEEP_REQUESTS, none
# older than MAX_AGE_S, and never one still being written.
WORK_DIR = Path(tempfile.mkdtemp(prefix="still2motion-app-"))
atexit.register(shutil.rmtree, WORK_DIR, ignore_errors=True)
KEEP_REQUESTS = 16
MAX_AGE_S = 15 * 60
GRADIO_CACHE_CLEANUP = (600, 1800)  # every 10 min, delete served/uploaded files older than 30 min
# The download is encoded here while the preview is being sent to the browser: the queue runs 2 requests at a time.
ENCODER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")
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
    ENCODER.submit(_trim_heap)  # ~10 ms: off the request's path (this runs before gradio sends "completed")


def _load_libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # glibc only  # noqa: B018
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()


def _trim_heap() -> None:
    """Hands the memory a finished request freed back to the system (glibc keeps it in per-thread arenas otherwise:
    requests run on gradio's many worker threads, and under load the idle arenas add up to more than the renders)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _stem(path: str) -> str:
    """The upload's name for the download: letters of any script, digits, ``_`` and ``-`` kept (``スプライト_画像``)."""
    stem = re.sub(r"[^\w-]+", "_", Path(path).stem).strip("_")[:40]
    return stem or "still"


def _download(anim: io.Animation, out_dir: Path, stem: str, request: rq.Request) -> Path:
    """The file in the chosen format; a format that writes companions (a sprite sheet's JSON) comes as one .zip."""
    row = io.FORMATS[request.format]
    written = rq.save(anim, out_dir / f"{stem}{row.download_suffix}", request)
    if not row.companions:
        return written
    archive = written.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in [written, *(written.with_suffix(s) for s in row.companions)]:
            zf.write(path, path.name)
    return archive


def _error(exc: BaseException, image: str | None) -> gr.Error:
    """The library's one-line message, with gradio's temporary upload path shortened to the file name, for the user;
    the same one line in the server log (a user's mistake is not the server's: no traceback)."""
    message = str(exc) if image is None else str(exc).replace(str(image), Path(image).name)
    logger.warning("request refused: %s", message)
    return gr.Error(message, print_exception=False)


def _fit_to_space(image: str, request: rq.Request) -> tuple[rq.Request, str | None]:
    """The Space has no size control: an upload too large for the output limits (a frame, and a loop of
    ``num_frames``) is rendered downscaled to the largest size within them, its aspect kept. Returns the request
    (with ``size`` set when downscaled) and the status message that says so (``None`` when it fits)."""
    if io.FORMATS[request.format].fit is not None:
        return request, None  # telegram, line: they render at their own size
    width, height = io.load_image(image, max_pixels=int(cfg.limit("max_input_pixels"))).size  # EXIF rotation applied
    cap = min(int(cfg.limit("max_output_pixels")), int(cfg.limit("max_total_pixels")) // request.num_frames)
    if width * height <= cap:
        return request, None
    scale = math.sqrt(cap / (width * height))
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    while w * h > cap:  # rounding: trim the longer side until it fits
        w, h = (w - 1, h) if w >= h else (w, h - 1)
    note = (f"The upload is {width}x{height}; the Space renders at most {cap} pixels a frame, so it was downscaled "
            f"to {w}x{h}.")
    logger.info("downscaled %dx%d to %dx%d", width, height, w, h)
    return dataclasses.replace(request, size=(w, h)), note


def _brushed(mask: dict | None):
    """The painted part of the brush editor's value (its layers' alpha, all layers together), or ``None`` when
    nothing is painted: ``bool (H, W)``."""
    if not mask or not mask.get("layers"):
        return None
    alphas = [np.asarray(layer.convert("RGBA"))[..., 3] > 0 for layer in mask["layers"] if layer is not None]
    painted = np.logical_or.reduce(alphas) if alphas else None
    return painted if painted is not None and painted.any() else None


def _editor_background(image: str | None):
    """Shows the uploaded still under the brush, with nothing painted yet."""
    return {"background": image, "layers": [], "composite": image} if image else None


def animate(
    image: str | None,
    frames: int | None = cfg.DEFAULT_FRAMES,
    fps: float | None = cfg.DEFAULT_FPS,
    strength: float | None = cfg.DEFAULT_STRENGTH,
    seed: int | None = cfg.DEFAULT_SEED,
    resample: str | None = "auto",
    format: str | None = "apng",
    motion: str | None = "auto",
    mask: dict | None = None,
):
    """Animates the uploaded still: yields the preview as soon as it is rendered (a fast APNG), then
    ``(preview APNG path, download path in the chosen format)``. ``None`` for any option means its default.
    ``motion`` is ``auto`` or a preset; ``mask`` the brush editor's value (what is painted moves)."""
    if not image:
        raise _error(ValueError("Upload an image first (PNG, WebP, JPEG, or the first frame of a GIF/APNG)."), None)
    request = rq.Request(
        num_frames=cfg.DEFAULT_FRAMES if frames is None else frames,
        fps=cfg.DEFAULT_FPS if fps is None else fps,
        strength=cfg.DEFAULT_STRENGTH if strength is None else strength,
        seed=None if seed is None else int(seed),
        resample=resample or "auto",
        format=format or "apng",
        motion=motion or "auto",
        mask=_brushed(mask),
    )
    out_dir = _request_dir()
    try:
        try:
            request = rq.check(request, names=NAMES)
            request, downscaled = _fit_to_space(image, request)
            still = rq.load(image, request, names=NAMES)
            anim, input_frames = rq.render(MODEL, still, request)
            if downscaled:
                gr.Info(downscaled)
            if input_frames > 1:
                gr.Info(f"The upload is animated ({input_frames} frames); animating its first frame.")
            stem = _stem(image)
            preview = anim.save(out_dir / f"{stem}_preview.png", format="apng", optimize="none",
                                max_bytes=int(cfg.limit("max_output_bytes")))
            # After the preview, not beside it: on two cores the two encodes would slow each other down.
            download = ENCODER.submit(_download, anim, out_dir, stem, request)
        except (ValueError, TypeError, OSError, ImportError) as exc:
            raise _error(exc, image) from None
        yield str(preview), None
        try:
            yield str(preview), str(download.result())
        except (ValueError, TypeError, OSError, ImportError) as exc:
            raise _error(exc, image) from None
    finally:
        _release(out_dir)


def _pass_file_through(upload: gr.Image) -> gr.Image:
    """Makes ``upload`` hand the uploaded file's path to ``animate`` untouched.

    ``gr.Image`` would open the file with Pillow first: an unreadable upload would fail there with a generic error,
    and mode conversion would lose APNG/GIF first-frame composition. ``still2motion`` reads the file itself (EXIF
    orientation, every mode to RGBA, animated first frame) and reports a bad file in one line. (An instance override,
    not a subclass: a ``gr.Image`` subclass makes gradio write an ``app.pyi`` stub next to this file.)
    """
    upload.preprocess = lambda payload: None if payload is None else payload.path
    return upload


def _none_is_default(component):
    """Lets an API client send ``None`` for this option (``animate`` then uses the default): gradio's own
    preprocessing of a slider fails on ``None`` before ``animate`` is called. An instance override, as above."""
    preprocess = component.preprocess
    component.preprocess = lambda payload: None if payload is None else preprocess(payload)
    return component


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

BRUSH_HINT = "**Brush** (optional): paint what moves; the rest stays."
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
            # The editor's toolbar sits over the top of its label: the instruction goes above it, the label stays short.
            gr.Markdown(BRUSH_HINT, elem_id="brush-hint")
            brush = gr.ImageEditor(
                type="pil",
                label="Brush",
                show_label=False,
                brush=gr.Brush(colors=["#ff3070"], color_mode="fixed", default_size=12),
                layers=False,
                sources=(),
                transforms=(),
                height=300,
            )
        with gr.Column(scale=1, min_width=300):
            with gr.Row():
                frames = gr.Slider(1, APP_MAX_FRAMES, value=cfg.DEFAULT_FRAMES, step=1, precision=0, label="Frames")
                fps = gr.Slider(1, APP_MAX_FPS, value=cfg.DEFAULT_FPS, step=0.5, label="FPS")
            motion = gr.Dropdown(MOTION_CHOICES, value="auto", label="Motion")
            strength = gr.Slider(0.0, APP_MAX_STRENGTH, value=cfg.DEFAULT_STRENGTH, step=0.05, label="Motion strength (0 = still)")
            with gr.Row(equal_height=True):
                seed = gr.Number(value=cfg.DEFAULT_SEED, precision=0, minimum=0, label="Seed (which motion)", scale=3)
                random_seed = gr.Button("Random seed", scale=1, size="md")
            resample = gr.Radio(
                list(cfg.RESAMPLE_MODES), value="auto", label="Resampling (auto: nearest for pixel art, bicubic otherwise)"
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
    image.change(_editor_background, image, brush, api_visibility="private", queue=False)
    for option in (frames, fps, strength, seed, resample, format, motion):
        _none_is_default(option)
    run.click(
        animate,
        inputs=[image, frames, fps, strength, seed, resample, format, motion, brush],
        outputs=[preview, download],
        api_name="animate",
    )

# Two cores: two requests at a time, the rest wait in a bounded queue.
demo.queue(max_size=64, default_concurrency_limit=2)
LAUNCH_OPTIONS = {"max_file_size": "25mb", "theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="pink")}


def _exit_on_sigterm(signum, frame) -> None:
    sys.exit(128 + signum)  # SystemExit runs the atexit handlers, which remove WORK_DIR (SIGTERM's default skips them)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo.launch(**LAUNCH_OPTIONS)
