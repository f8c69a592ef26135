"""Telegram video stickers on the CC0 examples: VP9 + alpha in WebM, 512 px, <= 3 s, <= 30 fps, <= 256 KB."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from still2motion.io import (FORMATS, TELEGRAM_LIMITS, check_telegram_request, durations_for, read_telegram,
                             render_size, telegram_size, write_telegram)
from still2motion.io.letterbox import resize_rgba
from still2motion.io.telegram import TELEGRAM_CRF_STEPS, alpha_iou

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _bob(name: str, num_frames: int, size=None) -> list[np.ndarray]:
    """An example sprite at ``size`` (default: the Telegram size), bobbing up and down and swaying: one loop."""
    image = Image.open(EXAMPLES / name).convert("RGBA")
    image = resize_rgba(image, size or telegram_size(*image.size), "nearest")
    base = np.asarray(image)  # (H, W, 4)
    pad = 16
    canvas = np.zeros((base.shape[0] + 2 * pad, base.shape[1] + 2 * pad, 4), np.uint8)
    canvas[pad:-pad, pad:-pad] = base
    frames = []
    for t in range(num_frames):
        phase = 2 * np.pi * t / num_frames
        dy, dx = round(12 * np.sin(phase)), round(6 * np.sin(2 * phase))
        frames.append(np.ascontiguousarray(canvas[pad - dy : pad - dy + base.shape[0], pad - dx : pad - dx + base.shape[1]]))
    return frames


def _check_sticker(path: Path, frames: list[np.ndarray], durations: list[int]):
    data = path.read_bytes()
    decoded, info = read_telegram(path)
    assert info["codec"] == "vp9" and info["pix_fmt"] == "yuva420p" and info["alpha_mode"] == "1"
    assert max(info["width"], info["height"]) == 512 and min(info["width"], info["height"]) <= 512
    assert info["duration_ms"] == sum(durations) <= 3000 and info["audio_streams"] == 0
    assert len(data) <= TELEGRAM_LIMITS.max_bytes
    assert len(decoded) == len(frames) and decoded[0].shape == frames[0].shape
    ious = [alpha_iou(a, b) for a, b in zip(frames, decoded)]
    assert min(ious) >= 0.95, ious
    assert not all(np.array_equal(decoded[0][..., 3], d[..., 3]) for d in decoded[1:])  # it moves
    opaque = [f[..., 3] == 255 for f in frames]
    rgb_error = np.mean([np.abs(f[..., :3].astype(int) - d[..., :3])[m].mean() for f, d, m in zip(frames, decoded, opaque)])
    assert rgb_error < 8, rgb_error  # the colour survives too (mean abs error on opaque pixels, 0-255)
    return len(data), min(ious)


@pytest.mark.parametrize("name", ["robot_idle.png", "femalePerson_idle.png"])
def test_sticker_on_examples_keeps_alpha_and_limits(tmp_path, name):
    frames = _bob(name, 24)
    durations = durations_for(24, 12)
    path = write_telegram(frames, durations, tmp_path / "s.webm", fps=12)
    _check_sticker(path, frames, durations)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.webm"]


def test_longest_fastest_sticker_fits_and_other_sizes_are_resized(tmp_path):
    frames = _bob("zombie_idle.png", 90)  # 3 s at 30 fps: both limits exactly
    durations = durations_for(90, 30)
    _check_sticker(write_telegram(frames, durations, tmp_path / "s.webm", fps=30), frames, durations)
    small = [np.asarray(Image.fromarray(f).resize((34, 51), Image.Resampling.NEAREST)) for f in frames[:6]]
    _, info = read_telegram(write_telegram(small, durations_for(6, 10), tmp_path / "small.webm"))
    assert (info["width"], info["height"]) == telegram_size(34, 51) == (341, 512)


def test_emoji_is_100x100(tmp_path):
    frames = _bob("maleAdventurer_idle.png", 8, size=(68, 106))
    _, info = read_telegram(write_telegram(frames, durations_for(8, 8), tmp_path / "e.webm", emoji=True))
    assert (info["width"], info["height"]) == (100, 100) and info["pix_fmt"] == "yuva420p"


def test_format_table_rows_apply_the_same_rules():
    # The request path checks the table's fit / max_fps / max_loop_ms before rendering; they must be Telegram's.
    for name, emoji in [("telegram", False), ("telegram-emoji", True)]:
        row = FORMATS[name]
        assert row.max_fps == TELEGRAM_LIMITS.max_fps and row.max_loop_ms == TELEGRAM_LIMITS.max_ms
        for w, h in [(64, 96), (1000, 10), (7, 7), (3, 2000), (513, 512)]:
            assert render_size(name, w, h) == telegram_size(w, h, emoji=emoji)


def test_sizes_and_request_rule():
    assert telegram_size(64, 96) == (341, 512) and telegram_size(1000, 10) == (512, 5) and telegram_size(7, 7) == (512, 512)
    assert telegram_size(64, 96, emoji=True) == (67, 100)
    check_telegram_request(90, 30)  # exactly 3 s at 30 fps
    with pytest.raises(ValueError, match=r"at most 30 fps, got fps=60"):
        check_telegram_request(20, 60)
    with pytest.raises(ValueError, match=r"at most 3 s, but 50 frames at 10 fps last 5000 ms"):
        check_telegram_request(50, 10)


@pytest.mark.parametrize("num_frames, fps, message", [
    (50, 10, r"at most 3 s, but .* 5000 ms"),  # 5 s
    (20, 60, r"at most 30 fps, got fps=60"),
])
def test_impossible_request_fails_in_one_line_and_writes_nothing(tmp_path, num_frames, fps, message):
    frames = _bob("robot_idle.png", num_frames)
    with pytest.raises(ValueError, match=message) as exc:
        write_telegram(frames, durations_for(num_frames, fps), tmp_path / "s.webm", fps=fps)
    assert "\n" not in str(exc.value)
    with pytest.raises(ValueError, match=r"at most 30 fps, but 20 frames in 333 ms"):  # fps read from the durations
        write_telegram(frames[:20], durations_for(20, 60), tmp_path / "s.webm")
    assert list(tmp_path.iterdir()) == []


def test_quality_steps_down_to_fit_else_fails_naming_the_rule(tmp_path, caplog):
    frames = _bob("femalePerson_idle.png", 12)
    durations = durations_for(12, 12)
    first = write_telegram(frames, durations, tmp_path / "a.webm").stat().st_size
    budget = first - 1  # the first quality step no longer fits
    with caplog.at_level("INFO", logger="still2motion.io.telegram"):
        caplog.clear()  # only this write's log (another test may have left the logger at INFO)
        path = write_telegram(frames, durations, tmp_path / "b.webm", max_bytes=budget)
    assert path.stat().st_size <= budget
    assert f"crf {TELEGRAM_CRF_STEPS[0]}," not in caplog.text and f"crf {TELEGRAM_CRF_STEPS[1]}," in caplog.text
    _check_sticker(path, frames, durations)
    emoji = _bob("robot_idle.png", 8, size=(66, 91))  # 100x100: six quick encodes
    with pytest.raises(ValueError, match=r"must be at most 500 bytes, but even at the lowest quality \(crf 63\)") as exc:
        write_telegram(emoji, durations_for(8, 8), tmp_path / "c.webm", emoji=True, max_bytes=500)
    assert "\n" not in str(exc.value) and not (tmp_path / "c.webm").exists()


def test_missing_pyav_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'still2motion\[telegram\]'"):
        write_telegram(_bob("robot_idle.png", 2), [100, 100], tmp_path / "s.webm")
    assert list(tmp_path.iterdir()) == []
