"""The CLI (in-process) for the sticker and engine exports: --format telegram / telegram-emoji / godot, --sheet-json."""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from still2motion.io import TELEGRAM_LIMITS, read_telegram


def _outputs(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "in")


def test_telegram_sticker_and_emoji(model_dir, still, tmp_path, capsys):
    for fmt, size in [("telegram", (384, 512)), ("telegram-emoji", (100, 100))]:
        out = tmp_path / f"{fmt}.webm"
        code, stdout, err = run_cli(["animate", still, "-o", out, "--format", fmt, "--frames", 8, "--fps", 8,
                                    "--model", model_dir], capsys)
        assert code == 0, err
        frames, info = read_telegram(out)
        assert (info["codec"], info["pix_fmt"], (info["width"], info["height"])) == ("vp9", "yuva420p", size)
        assert len(frames) == 8 and info["duration_ms"] == 1000 and info["audio_streams"] == 0
        assert out.stat().st_size <= TELEGRAM_LIMITS.max_bytes and (frames[0][..., 3] == 0).any()
        assert f"wrote {out}" in stdout


@pytest.mark.parametrize("argv, message", [
    (["--frames", 20, "--fps", 60], "telegram plays at most 30 fps, got --fps 60"),
    (["--frames", 50, "--fps", 10], "telegram loops last at most 3 s, but 50 frames at 10 fps last 5 s"),
    (["--frames", 8, "--size", "64x64"], "--size cannot be used with --format telegram"),
])
def test_impossible_telegram_request_fails_before_rendering(still, tmp_path, capsys, argv, message):
    # --model names no model: the request is refused before any model is loaded or anything rendered
    code, out, err = run_cli(["animate", still, "-o", tmp_path / "s.webm", "--format", "telegram", *argv,
                             "--model", tmp_path / "no-model"], capsys)
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert _outputs(tmp_path) == []


def test_missing_pyav_names_the_extra(still, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "s.webm", "--format", "telegram",
                           "--model", tmp_path / "no-model"], capsys)
    assert code == 1 and "pip install 'still2motion[telegram]'" in err and err.count("\n") == 1, err
    assert _outputs(tmp_path) == []


def test_webm_is_a_telegram_sticker(model_dir, still, tmp_path, capsys):
    # issue 32, item 10: README lists .webm for Telegram, so -o s.webm alone picks it
    code, out, err = run_cli(["animate", still, "-o", tmp_path / "s.webm", "--frames", 4, "--fps", 8,
                              "--model", model_dir], capsys)
    assert code == 0, err
    frames, info = read_telegram(tmp_path / "s.webm")
    assert (info["codec"], (info["width"], info["height"]), len(frames)) == ("vp9", (384, 512), 4)
    assert "telegram)" in out


def test_godot_writes_png_and_tres_next_to_it(model_dir, still, tmp_path, capsys):
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "walk.png", "--format", "godot", "--frames", 6,
                           "--fps", 12, "--columns", 2, "--model", model_dir], capsys)
    assert code == 0, err
    assert _outputs(tmp_path) == ["walk.png", "walk.tres"]
    tres = (tmp_path / "walk.tres").read_text()
    assert tres.startswith('[gd_resource type="SpriteFrames" load_steps=8 format=3]\n')
    assert 'path="walk.png"' in tres and '"loop": true' in tres and '"speed": 12.0' in tres
    assert tres.count('[sub_resource type="AtlasTexture"') == 6 and "region = Rect2(24, 64, 24, 32)" in tres
    sheet = np.asarray(Image.open(tmp_path / "walk.png"))
    assert sheet.shape[:2] == (3 * 32, 2 * 24)  # 2 columns x 3 rows of 24x32
    np.testing.assert_array_equal(sheet[:32, :24], np.asarray(Image.open(still).convert("RGBA")))  # frame 0


def test_sheet_json_array(model_dir, still, tmp_path, capsys):
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "walk.png", "--format", "spritesheet", "--sheet-json",
                           "array", "--frames", 7, "--fps", 3, "--model", model_dir], capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "walk.json").read_text())
    assert [f["filename"] for f in data["frames"]] == [f"walk_{i:04d}.png" for i in range(7)]
    assert sum(f["duration"] for f in data["frames"]) == round(1000 * 7 / 3)
    assert data["meta"]["frameTags"] == [{"name": "walk", "from": 0, "to": 6, "direction": "forward"}]


def test_sheet_json_with_another_format_is_refused(still, tmp_path, capsys):
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "a.gif", "--sheet-json", "array",
                           "--model", tmp_path / "no-model"], capsys)
    assert code == 1 and "--sheet-json applies to spritesheet only, not gif" in err
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "a.png", "--format", "spritesheet",
                            "--sheet-json", "xml"], capsys)
    assert code == 2 and "--sheet-json" in err and "'xml'" in err
    assert _outputs(tmp_path) == []
