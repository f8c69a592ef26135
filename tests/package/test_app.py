"""The web app end to end: ``/animate`` through ``gradio_client`` on a local server, in-process, with a hand-set model.

The model is selected through ``STILL2MOTION_MODEL`` before ``app.py`` is imported; it sways the image sideways
(``tx = 0.1 sin(phi)``), so every animation moves and frame 0 is the upload itself. Also: errors, eight concurrent
clients, temp-file pruning, and a real browser (Debian's chromium) loading the page.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import TX, free_port, hand_set_model, launched_app, sprite
from still2motion import read_animation
from still2motion.io import FORMATS, LINE_LIMITS, TELEGRAM_LIMITS, line_size, read_telegram
from still2motion.io.telegram import alpha_iou

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with launched_app(tmp_path_factory, {"GRADIO_ANALYTICS_ENABLED": "False"}) as module:
        yield module


@pytest.fixture(scope="module")
def client(app):
    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def still(tmp_path_factory):
    path = tmp_path_factory.mktemp("in") / "sprite.png"
    sprite(24, 32).save(path)
    return path


def _rgba(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


def _check_preview(path, still_path, frames: int, size=None) -> list[np.ndarray]:
    """The preview is always an APNG with exactly ``frames`` frames, looping forever, moving, alpha kept."""
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    anim = read_animation(path)
    assert len(anim.frames) == frames and anim.loop == 0
    if size is None:
        np.testing.assert_array_equal(anim.frames[0], _rgba(still_path))  # frame 0 is the upload, verbatim
    else:
        assert anim.frames[0].shape[1::-1] == size
    assert (anim.frames[0][..., 3] == 0).any(), "transparency lost"
    assert any(not np.array_equal(f, anim.frames[0]) for f in anim.frames[1:]), "the hand-set model must move"
    return anim.frames


def test_one_named_endpoint_with_optional_parameters(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/animate"} and not api["unnamed_endpoints"]
    params = [(p["parameter_name"], p["parameter_has_default"], p["parameter_default"])
              for p in api["named_endpoints"]["/animate"]["parameters"]]
    assert params == [("image", False, None), ("frames", True, 20), ("fps", True, 10.0), ("strength", True, 1.0),
                      ("seed", True, 0), ("resample", True, "auto"), ("format", True, "apng"),
                      ("motion", True, "auto"), ("mask", True, None)]
    assert len(api["named_endpoints"]["/animate"]["returns"]) == 2


def test_defaults_give_a_20_frame_apng(app, client, still):
    preview, download = client.predict(handle_file(str(still)), api_name="/animate")
    _check_preview(preview, still, 20)
    anim = read_animation(download)
    assert len(anim.frames) == 20 and sum(anim.durations_ms) == 2000
    assert Path(download).name == "sprite_loop.png"
    assert app.MODEL.resolution == 32, "STILL2MOTION_MODEL (the hand-set test model) must be the one loaded"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format(client, still, fmt):
    n, fps = 8, 8.0  # one loop of 1000 ms
    preview, download = client.predict(
        handle_file(str(still)), frames=n, fps=fps, strength=1.0, seed=3, resample="nearest", format=fmt,
        api_name="/animate",
    )
    own_size = {"line": line_size(24, 32), "line-main": (180, 240), "telegram": (384, 512), "telegram-emoji": (75, 100)}
    shown = _check_preview(preview, still, n, size=own_size.get(fmt))
    want = _rgba(still)
    if fmt in ("telegram", "telegram-emoji"):  # VP9 + alpha WebM at the Telegram size, decoded with libvpx-vp9
        frames, info = read_telegram(download)
        assert Path(download).name == f"sprite{FORMATS[fmt].download_suffix}"
        assert info["codec"] == "vp9" and info["pix_fmt"] == "yuva420p" and info["duration_ms"] == 1000
        assert (info["width"], info["height"]) == ((384, 512) if fmt == "telegram" else (100, 100))
        assert len(frames) == n and Path(download).stat().st_size <= TELEGRAM_LIMITS.max_bytes
        if fmt == "telegram":
            assert min(alpha_iou(a, b) for a, b in zip(shown, frames)) >= 0.95
        return
    if fmt == "godot":
        with zipfile.ZipFile(download) as zf:
            assert sorted(zf.namelist()) == ["sprite_godot.png", "sprite_godot.tres"]
            sheet = np.asarray(Image.open(zf.open("sprite_godot.png")).convert("RGBA"))
            tres = zf.read("sprite_godot.tres").decode()
        assert 'path="sprite_godot.png"' in tres and '"loop": true' in tres and '"speed": 8.0' in tres
        regions = [tuple(map(int, r)) for r in re.findall(r"region = Rect2\((\d+), (\d+), (\d+), (\d+)\)", tres)]
        assert len(regions) == n
        for (x, y, w, h), frame in zip(regions, shown):
            np.testing.assert_array_equal(sheet[y : y + h, x : x + w], frame)
        return
    if fmt == "spritesheet":
        with zipfile.ZipFile(download) as zf:
            assert sorted(zf.namelist()) == ["sprite_spritesheet.json", "sprite_spritesheet.png"]
            sheet = np.asarray(Image.open(zf.open("sprite_spritesheet.png")).convert("RGBA"))
            meta = json.loads(zf.read("sprite_spritesheet.json"))
        cells = list(meta["frames"].values())
        assert len(cells) == n and sum(c["duration"] for c in cells) == 1000
        for cell, frame in zip(cells, shown):
            r = cell["frame"]
            np.testing.assert_array_equal(sheet[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"]], frame)
        return
    anim = read_animation(download)
    first = anim.frames[0]
    if fmt == "apng":  # the download is the preview's frames, compressed harder
        assert len(anim.frames) == n and all(np.array_equal(a, b) for a, b in zip(anim.frames, shown))
    elif fmt == "gif":
        assert len(anim.frames) == n and abs(sum(anim.durations_ms) - 1000) <= 10
        np.testing.assert_array_equal(first[..., 3], np.where(want[..., 3] >= 128, 255, 0))  # 1-bit alpha
        np.testing.assert_array_equal(first[want[..., 3] > 0][:, :3], want[want[..., 3] > 0][:, :3])
    elif fmt == "webp":
        changes = 1 + sum(not np.array_equal(a, b) for a, b in zip(shown, shown[1:]))
        assert len(anim.frames) == changes and sum(anim.durations_ms) == 1000  # libwebp merges identical frames
        np.testing.assert_array_equal(first[..., 3], want[..., 3])
        np.testing.assert_array_equal(first[want[..., 3] > 0], want[want[..., 3] > 0])  # lossless where visible
    else:  # LINE: exact frames, LINE size, 1-4 loops within 4 s, under the byte budget, transparent
        assert len(anim.frames) == n and sum(anim.durations_ms) == 1000
        size = line_size(24, 32) if fmt == "line" else (240, 240)
        assert first.shape[1::-1] == size and 1 <= anim.loop <= 4 and anim.loop * 1000 <= 4000
        assert Path(download).stat().st_size <= LINE_LIMITS.max_bytes and (first[..., 3] == 0).any()


def _error(client, path, **kwargs) -> str:
    with pytest.raises(AppError) as info:
        client.predict(handle_file(str(path)), api_name="/animate", **kwargs)
    message = str(info.value)
    assert "Traceback" not in message and "\n" not in message.strip() and "/tmp" not in message
    return message


def test_unreadable_upload_is_a_clear_error(client, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"definitely not a png" * 20)
    assert _error(client, bad).startswith("cannot read 'bad.png': not an image")


def test_oversized_upload_is_a_clear_error(client, still, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_INPUT_PIXELS", "500")  # read at request time; the sprite is 768 pixels
    assert "more than the limit of 500" in _error(client, still)


def test_impossible_telegram_request_names_the_rule(client, still):
    assert "telegram plays at most 30 fps, got fps 40" in _error(client, still, frames=20, fps=40, format="telegram")
    assert "telegram loops last at most 3 s" in _error(client, still, frames=50, fps=10, format="telegram")


def test_impossible_line_request_names_the_rule(client, still):
    assert "line needs 5-20 frames, got frames 24" in _error(client, still, frames=24, format="line")
    assert "4 s" in _error(client, still, frames=20, fps=2, format="line")


def test_eight_concurrent_clients_each_get_their_own_animation(app, tmp_path):
    paths = []
    for i in range(8):  # eight different images, eight sizes
        path = tmp_path / f"still{i}.png"
        sprite(20 + 2 * i, 28 + i, seed=i).save(path)
        paths.append(path)

    def request(path):
        client = Client(app.url, verbose=False)  # one client per thread
        return client.predict(handle_file(str(path)), frames=6, format="gif", api_name="/animate")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(request, paths))
    for path, (preview, download) in zip(paths, results):
        _check_preview(preview, path, 6)
        gif = read_animation(download)
        assert len(gif.frames) == 6 and gif.frames[0].shape[1::-1] == Image.open(path).size
        assert Path(download).name == f"{path.stem}.gif"


def test_request_folders_are_pruned(app, client, still, monkeypatch):
    monkeypatch.setattr(app, "KEEP_REQUESTS", 2)
    for _ in range(4):
        client.predict(handle_file(str(still)), frames=2, api_name="/animate")
    assert len(list(app.WORK_DIR.iterdir())) <= 3  # the 2 newest finished + the last one
    assert app.demo.delete_cache is not None  # gradio's own cache of served files is cleaned too


def test_model_is_never_reloaded_per_request(app, client, still, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_model called during a request")

    monkeypatch.setattr(app.still2motion, "load_model", refuse)
    monkeypatch.setattr(app.still2motion.Still2Motion, "from_pretrained", refuse)
    preview, _ = client.predict(handle_file(str(still)), frames=3, api_name="/animate")
    assert len(read_animation(preview).frames) == 3


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (CI installs it)")
def test_real_browser_loads_the_app(app, tmp_path):
    assert CHROMIUM, "CI must have chromium (.ci/run installs it with apt-get)"

    def chromium(profile: str, *args: str) -> subprocess.CompletedProcess:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / profile}", "--virtual-time-budget=15000"]
        return subprocess.run([CHROMIUM, *flags, *args, app.url], capture_output=True, text=True, timeout=180)

    dom = chromium("dom", "--dump-dom").stdout
    assert "<title>still2motion" in dom
    assert 'type="file"' in dom and "Drop Image Here" in dom  # the upload component rendered, not a spinner
    assert "Animate" in dom and "Download format" in dom and "Motion" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "app.png"
    shot.unlink(missing_ok=True)
    chromium("shot", "--hide-scrollbars", "--window-size=1280,1000", f"--screenshot={shot}")
    image = np.asarray(Image.open(shot).convert("L"))
    assert image.shape == (1000, 1280) and image.std() > 5, "blank screenshot"


def test_a_preset_with_a_brushed_mask_moves_only_the_painted_part(client, tmp_path):
    # an opaque textured still (every pixel visible), a stroke painted over its middle on the brush layer
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(48, 64, 4), dtype=np.uint8)
    arr[..., 3] = 255
    Image.fromarray(arr, "RGBA").save(tmp_path / "still.png")
    layer = np.zeros((48, 64, 4), np.uint8)
    layer[18:34, 24:40] = (255, 48, 112, 255)
    Image.fromarray(layer, "RGBA").save(tmp_path / "layer.png")
    brush = {"background": handle_file(str(tmp_path / "still.png")), "layers": [handle_file(str(tmp_path / "layer.png"))],
             "composite": None}
    _, download = client.predict(handle_file(str(tmp_path / "still.png")), frames=8, motion="shake", mask=brush,
                                 api_name="/animate")
    frames = np.stack(read_animation(download).frames)
    ys, xs = np.mgrid[:48, :64]
    far = (np.maximum(np.maximum(18 - ys, ys - 33), np.maximum(24 - xs, xs - 39)) > 6)  # > 6 px from the stroke
    assert all(np.array_equal(f[far], arr[far]) for f in frames), "pixels far from the brush stroke must not change"
    assert any(not np.array_equal(f[~far], arr[~far]) for f in frames[1:]), "the painted part moves"
    with pytest.raises(AppError, match="jump"):
        client.predict(handle_file(str(tmp_path / "still.png")), motion="jump", api_name="/animate")


def test_null_options_mean_the_defaults(client, still):
    preview, download = client.predict(handle_file(str(still)), frames=None, fps=None, strength=None, seed=0,
                                       resample=None, format=None, api_name="/animate")
    anim = read_animation(download)
    assert len(anim.frames) == 20 and sum(anim.durations_ms) == 2000


def test_a_non_ascii_upload_keeps_its_name(client, tmp_path):
    path = tmp_path / "スプライト 画像.png"
    sprite(24, 32).save(path)
    _, download = client.predict(handle_file(str(path)), frames=4, format="gif", api_name="/animate")
    assert Path(download).name == "スプライト_画像.gif"


def test_the_preview_comes_before_the_download(client, still):
    job = client.submit(handle_file(str(still)), frames=6, format="gif", api_name="/animate")
    final = job.result()
    first = job.outputs()[0]
    assert first[1] is None and len(read_animation(first[0]).frames) == 6  # the preview alone, then...
    assert Path(final[1]).suffix == ".gif" and len(read_animation(final[1]).frames) == 6  # ...the download


def test_the_temp_folder_is_removed_on_sigterm(tmp_path):
    model_dir = tmp_path / "model"
    hand_set_model({(TX, 1, "b"): 0.1}).save_pretrained(model_dir)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = free_port()
    env = {**os.environ, "STILL2MOTION_MODEL": str(model_dir), "TMPDIR": str(tmp), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_TEMP_DIR": str(tmp / "gradio"), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # up when the port answers
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.5)
        assert list(tmp.glob("still2motion-app-*")), "the app's work folder should exist while it runs"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not list(tmp.glob("still2motion-app-*"))


def test_a_large_upload_is_downscaled_to_the_cap_and_the_status_says_so(app, client, still, monkeypatch):
    """The Space has no size control: a still over the output limit is rendered at the largest size within it (aspect
    kept), with a status message, instead of an error that asks for a smaller size."""
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_PIXELS", "300")  # read at request time; the sprite is 24x32 = 768
    infos = []
    monkeypatch.setattr(app.gr, "Info", lambda message, *args, **kwargs: infos.append(message))
    preview, download = client.predict(handle_file(str(still)), frames=6, api_name="/animate")
    assert read_animation(preview).frames[0].shape[:2] == (20, 15)  # 15 x 20 = 300 pixels, 3:4 as the upload
    assert read_animation(download).frames[0].shape[:2] == (20, 15)
    assert infos == ["The upload is 24x32; the Space renders at most 300 pixels a frame, so it was downscaled to 15x20."]
    monkeypatch.setenv("STILL2MOTION_MAX_TOTAL_PIXELS", "1200")  # the loop's limit too: 6 frames of 200 pixels
    preview, _ = client.predict(handle_file(str(still)), frames=6, api_name="/animate")
    assert read_animation(preview).frames[0].shape[:2] == (16, 12)


def test_a_user_error_is_one_line_in_the_server_log(app, client, tmp_path, capfd, caplog):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"definitely not a png" * 20)
    capfd.readouterr()
    with caplog.at_level("WARNING", logger="app"):
        _error(client, bad)
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out
    refused = [r.getMessage() for r in caplog.records if r.name == "app"]
    assert refused == ["request refused: cannot read 'bad.png': not an image, or a format that is not supported"]


def test_the_brush_hint_is_above_the_editor_not_under_its_toolbar(app):
    """The editor's toolbar covers the top of its label ("Brush (optional): paint what moves; t" was all one saw):
    the editor shows no label, and the hint is the line right above it."""
    assert app.brush.show_label is False
    siblings = app.brush.parent.children
    hint = siblings[siblings.index(app.brush) - 1]
    assert type(hint).__name__ == "Markdown" and "paint what moves; the rest stays" in hint.value


def test_readme_says_how_to_pick_the_port():
    """README's Space section names GRADIO_SERVER_PORT (test_the_temp_folder_is_removed_on_sigterm runs app.py on
    a port chosen that way)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    space = readme.split("## The Space", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"`GRADIO_SERVER_PORT=\d+ python app\.py`", space)
