"""The one request path (``still2motion/request.py``) through the CLI and ``animate()``: each input read once, every
request-level rule refused before the model is loaded (in the CLI's own words), numpy inputs, output permissions."""

from __future__ import annotations

import os
import re
import stat

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, sprite
from still2motion import cli, io, read_animation
from still2motion import request as rq
from still2motion.io import read as read_module


def _never(*args, **kwargs):
    raise AssertionError("work started before the request was checked")


def test_the_cli_reads_each_input_once_and_checks_once(model_dir, still, tmp_path, capsys, monkeypatch):
    loads, checks = [], []
    load_bytes, check = read_module._load_bytes, rq.check
    monkeypatch.setattr(read_module, "_load_bytes", lambda path: loads.append(path) or load_bytes(path))
    monkeypatch.setattr(rq, "check", lambda *a, **k: checks.append(a) or check(*a, **k))
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 4, "--model", model_dir], capsys)
    assert code == 0, err
    assert loads == [still] and len(checks) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-o", "{tmp}/o.png", "--quality", "50"], "--quality applies to webp only, not apng"),
        (["-o", "{tmp}/o.gif", "--quality", "50"], "--quality applies to webp only, not gif"),
        (["-o", "{tmp}/o.png", "--dither", "0.5"], "--dither applies to gif only, not apng"),
        (["-o", "{tmp}/o.gif", "--fps", "60"], "gif plays at most 50 fps, got --fps 60"),
        (["-o", "{tmp}/o.png", "--format", "line", "--frames", "30"], "line needs 5-20 frames, got --frames 30"),
        (["-o", "{tmp}/o.png", "--format", "line", "--fps", "4"], "line loops last at most 4 s"),
        (["-o", "{tmp}/o.png", "--format", "line", "--size", "64x64"], "--size cannot be used with --format line"),
        (["-o", "{tmp}/m.gif", "--format", "webp"], "m.gif' has the extension .gif, but --format webp writes .webp"),
        (["-o", "{tmp}/s.webp", "--format", "spritesheet"], "has the extension .webp, but --format spritesheet writes .png"),
        (["-o", "{tmp}/noext"], "choose with --format"),
        (["-o", "{tmp}/folder", "--format", "gif"], "-o '{tmp}/folder' is a folder"),
        (["-o", "{tmp}/o.webp", "--quality", "101"], "--quality must be an integer in 0..100, got 101"),
        (["-o", "{tmp}/o.png", "--size", "5000x5000"], "more than the output limit of 4194304"),
        (["-o", "{tmp}/o.png", "--frames", "0"], "--frames must be between 1 and 240, got 0"),
    ],
)
def test_request_rules_are_refused_before_the_model_loads(argv, message, still, tmp_path, capsys, monkeypatch):
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(cli, "load_model", _never)
    before = sorted(tmp_path.rglob("*"))
    code, _, err = run_cli(["animate", still, *(a.replace("{tmp}", str(tmp_path)) for a in argv)], capsys)
    assert code == 1 and message.replace("{tmp}", str(tmp_path)) in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "num_frames" not in err
    assert sorted(tmp_path.rglob("*")) == before


def test_too_large_input_names_the_cli_option(model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_PIXELS", "700")
    monkeypatch.setattr(io, "decode_image", _never)  # refused from the header
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--model", model_dir], capsys)
    assert code == 1 and "24x32 = 768 pixels" in err and "ask for a smaller --size" in err
    monkeypatch.undo()
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_PIXELS", "700")
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--size", "20x30", "--frames", 3,
                            "--model", model_dir], capsys)
    assert code == 0, err
    assert read_animation(tmp_path / "o.png").frames[0].shape == (30, 20, 4)


def test_seed_minus_one_prints_the_seed_that_repeats_it(model_dir, still, tmp_path, capsys):
    code, out, err = run_cli(["animate", still, "-o", tmp_path / "a.png", "--frames", 4, "--seed", -1,
                              "--model", model_dir], capsys)
    assert code == 0, err
    seed = int(out.split("seed ")[1].split()[0])
    assert run_cli(["animate", still, "-o", tmp_path / "b.png", "--frames", 4, "--seed", seed, "--model", model_dir],
                   capsys)[0] == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_ctrl_c_is_one_line_and_exit_130(model_dir, still, tmp_path, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.Animation, "save", interrupt)
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--model", model_dir], capsys)
    assert code == 130 and err.strip() == "still2motion: interrupted" and not (tmp_path / "o.png").exists()


def test_help_shows_each_default_once_and_keeps_the_examples(capsys):
    code, out, _ = run_cli(["animate", "--help"], capsys)
    assert code == 0 and "(default: None)" not in out and out.count("(default:") >= 8
    assert "default: 20)" in out and "\n  still2motion animate cat.png -o cat.gif --frames 12 --fps 12 --seed 3\n" in out


def test_a_folder_as_model_is_one_short_line(still, tmp_path, capsys):
    for i in range(200):
        (tmp_path / f"file_{i:03d}.txt").write_text("x")
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--model", tmp_path], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and len(err) < 300 and "and 196 more)" in err


@pytest.mark.parametrize("channels", [3, 4])
def test_animate_takes_uint8_numpy_arrays(model, channels):
    image = np.asarray(sprite(24, 32).convert("RGBA" if channels == 4 else "RGB"))
    from_array = model.animate(image, num_frames=4)
    from_pil = model.animate(Image.fromarray(image), num_frames=4)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(from_array.frames, from_pil.frames))
    assert from_array.frames[0].size == (24, 32)
    with pytest.raises(ValueError, match=r"uint8 \(H, W, 3\) or \(H, W, 4\), got float32 \(32, 24, 4\)"):
        model.animate(image.astype(np.float32) if channels == 4 else np.zeros((32, 24, 4), np.float32))


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_get_0666_minus_the_umask(umask, model_dir, still, tmp_path, capsys):
    old = os.umask(umask)
    try:
        for fmt, name in [("apng", "o.png"), ("webp", "o.webp"), ("spritesheet", "s.png")]:
            code, _, err = run_cli(["animate", still, "-o", tmp_path / name, "--format", fmt, "--frames", 4,
                                    "--model", model_dir], capsys)
            assert code == 0, err
    finally:
        os.umask(old)
    for path in ("o.png", "o.webp", "s.png", "s.json"):
        assert stat.S_IMODE((tmp_path / path).stat().st_mode) == 0o666 & ~umask, path


# issue 32, item 13: resample="auto" is nearest for pixel art only, at any size


def _smooth(size: int = 120) -> Image.Image:
    """A smooth emoji-like disc: a radial gradient with an anti-aliased edge (thousands of colours, soft alpha)."""
    y, x = np.mgrid[:size, :size] / (size - 1) * 2 - 1
    r = np.hypot(x, y)
    arr = np.zeros((size, size, 4), np.uint8)
    arr[..., 0] = np.clip(255 * (1 - r / 2), 0, 255)
    arr[..., 1] = np.clip(200 * (0.5 + x / 2), 0, 255)
    arr[..., 2] = np.clip(120 + 100 * y, 0, 255)
    arr[..., 3] = np.clip((0.9 - r) * size / 2, 0, 1) * 255
    return Image.fromarray(arr, "RGBA")


def _pixel_art(width: int = 100, height: int = 120) -> Image.Image:
    rng = np.random.default_rng(3)
    palette = np.array([[20, 20, 20, 255], [220, 60, 60, 255], [60, 200, 90, 255], [250, 230, 40, 255]], np.uint8)
    arr = palette[rng.integers(0, 4, size=(height // 10, width // 10))].repeat(10, 0).repeat(10, 1)
    arr[:10] = 0  # transparent margin
    return Image.fromarray(arr, "RGBA")


@pytest.mark.parametrize("size", [100, 128])
def test_auto_resample_is_bicubic_for_smooth_art_of_any_size(size):
    assert io.auto_resample(_smooth(size)) == "bicubic"


def test_auto_resample_is_nearest_for_pixel_art():
    assert io.auto_resample(_pixel_art()) == "nearest" and io.auto_resample(_pixel_art(200, 240)) == "nearest"


def test_a_smooth_128px_emoji_breathes_without_a_pause_at_the_wrap():
    from conftest import random_model

    frames = [np.asarray(f) for f in random_model().animate(_smooth(128), num_frames=20, motion="breathe").frames]
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[-1], frames[0])


# issue 35, item 3: one request path, each input read once and each check once, in one direction


def test_the_mask_is_read_once(model_dir, still, tmp_path, capsys, monkeypatch):
    from still2motion import checks
    from conftest import random_model

    arr = np.zeros((32, 24), np.uint8)
    arr[:16] = 255
    Image.fromarray(arr).save(tmp_path / "mask.png")
    reads = []
    read_mask = checks.read_mask
    monkeypatch.setattr(checks, "read_mask", lambda *a, **k: reads.append(a) or read_mask(*a, **k))
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 4, "--mask", tmp_path / "mask.png",
                            "--model", model_dir], capsys)
    assert code == 0, err
    random_model().animate(still, num_frames=4, motion="bob", mask=tmp_path / "mask.png")
    assert len(reads) == 2  # once per request, the CLI's and animate()'s


def test_config_json_is_read_once(model_dir, monkeypatch):
    from still2motion import hub, load_model

    fetched = []
    fetch = hub.fetch_file
    monkeypatch.setattr(hub, "fetch_file", lambda m, name, **k: fetched.append(name) or fetch(m, name, **k))
    load_model(model_dir)
    assert fetched.count("config.json") == 1 and fetched.count("model.safetensors") == 1


def test_animate_does_not_go_back_through_the_request_module(still, monkeypatch):
    from conftest import random_model

    # request.py is the CLI's and the app's path above the model; the model's own animate() only uses checks.py
    for name in ("check", "load", "render", "run", "save"):
        monkeypatch.setattr(rq, name, _never)
    anim = random_model().animate(still, num_frames=3)
    assert len(anim.frames) == 3


def test_the_request_modules_import_in_one_direction():
    import ast
    from pathlib import Path

    package = Path(rq.__file__).parent

    def imports(module: str) -> set[str]:
        tree = ast.parse((package / f"{module}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
        return {name.split(".")[0] for name in found}

    assert imports("checks") <= {"config", "io", "presets"}  # presets: the names, when a preset is asked for
    assert "request" not in imports("generator") and "request" not in imports("model")


def test_no_dead_twins_of_the_request_checks():
    from still2motion import config

    assert not hasattr(config, "check_request") and not hasattr(config, "check_output_size")


def test_preset_names_are_written_only_in_the_presets_table():
    import ast
    from pathlib import Path

    from still2motion.presets import PRESET_NAMES

    package = Path(rq.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "presets.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = [n for n in PRESET_NAMES if re.search(rf"\b{n}\b", node.value)]
                assert len(named) < 4, f"{path.name} types the preset names by hand: {node.value[:80]!r}"
