"""LINE animated stickers: every written file meets every limit; impossible requests fail clearly."""

import numpy as np
import pytest
from PIL import Image

from still2motion.io import LINE_LIMITS, Animation, durations_for, encode_apng, line_size, read_animation, render_size
from still2motion.io.png_chunks import iter_chunks


def _blocky_frames(n, size=(320, 270), seed=0):
    """Colourful frames: 4x4 blocks of random colours with +-2 noise, shifting each frame, on a transparent margin.

    Lossless they are far over 300 KB; with one palette they compress well, so the budget path runs.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    blocks = rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3))
    out = []
    for i in range(n):
        a = np.zeros((h, w, 4), np.uint8)
        colour = np.repeat(np.repeat(blocks, 4, 0), 4, 1)[i % 4 : i % 4 + h, :w]
        colour = np.clip(colour + rng.integers(-2, 3, colour.shape), 0, 255)
        a[..., :3] = colour
        a[8:-8, 8:-8, 3] = 255
        out.append(a)
    return out


def _num_plays(data):
    actl = next(c for c in iter_chunks(data) if c.type == b"acTL")
    return int.from_bytes(actl.data[4:8], "big")


def _check_limits(path, *, main=False):
    data = path.read_bytes()
    anim = read_animation(path)
    h, w = anim.frames[0].shape[:2]
    total = sum(anim.durations_ms)
    loops = _num_plays(data)
    assert 5 <= len(anim.frames) <= 20
    if main:
        assert (w, h) == (240, 240)
    else:
        assert w <= 320 and h <= 270 and max(w, h) >= 270
    assert 1 <= loops <= 4 and loops * total <= 4000
    assert len(data) <= LINE_LIMITS.max_bytes
    assert any(not np.array_equal(anim.frames[0], f) for f in anim.frames[1:])
    assert all((f[..., 3] == 0).any() for f in anim.frames)
    return anim, loops, len(data)


def test_noisy_sticker_goes_through_colour_reduction_and_meets_limits(tmp_path):
    frames = _blocky_frames(8)
    durations = durations_for(8, 8)  # 1 s per play -> 4 loops
    assert len(encode_apng(frames, durations)) > LINE_LIMITS.max_bytes  # the lossless file is over budget
    path = Animation([Image.fromarray(f) for f in frames], durations, 8.0).save(tmp_path / "s.png", format="line")
    anim, loops, size = _check_limits(path)
    assert loops == 4 and len(anim.frames) == 8 and anim.durations_ms == durations
    assert len(np.unique(np.concatenate(anim.frames).reshape(-1, 4), axis=0)) <= 256  # palette applied


def test_other_sizes_are_resized_aspect_kept(tmp_path):
    frames = [f[:100, :200] for f in _blocky_frames(6, (200, 100))]
    for f in frames:
        f[:4] = 0  # keep a transparent margin after cropping
    path = Animation([Image.fromarray(f) for f in frames], durations_for(6, 10), 10.0).save(tmp_path / "s.png", format="line")
    anim, loops, _ = _check_limits(path)
    assert anim.frames[0].shape[:2] == (160, 320) and loops == 4  # 600 ms -> 6 plays would be 3.6 s, capped at 4


def test_pixel_art_is_resized_with_nearest(tmp_path):
    colours = [(255, 0, 0, 255), (0, 0, 255, 255), (0, 0, 0, 0)]
    frames = []
    for i in range(5):
        a = np.zeros((27, 32, 4), np.uint8)
        a[5:20, 5 + i : 15 + i] = colours[0]
        a[10:12, 20:25] = colours[1]
        frames.append(a)
    anim = read_animation(Animation([Image.fromarray(f) for f in frames], [100] * 5, 10.0).save(tmp_path / "p.png", format="line"))
    assert anim.frames[0].shape[:2] == (270, 320)
    assert {tuple(c) for c in np.unique(np.concatenate(anim.frames).reshape(-1, 4), axis=0)} == set(colours)


def test_line_main_is_240_square(tmp_path):
    frames = [Image.fromarray(f) for f in _blocky_frames(5, (320, 270))]
    path = Animation(frames, durations_for(5, 5), 5.0).save(tmp_path / "m.png", format="line-main")
    _check_limits(path, main=True)


def test_line_size():
    assert line_size(320, 270) == (320, 270)
    assert line_size(100, 100) == (270, 270)
    assert line_size(400, 3) == (320, 2)
    assert line_size(3, 400) == (2, 270)
    assert line_size(640, 270) == (320, 135)
    for w, h in [(1, 1), (17, 1000), (1000, 17), (333, 281), (2, 3)]:
        tw, th = line_size(w, h)
        assert tw <= 320 and th <= 270 and max(tw, th) >= 270 and min(tw, th) >= 1


@pytest.mark.parametrize("n,fps,match", [
    (24, 10, "5-20 frames, got 24"),
    (4, 10, "5-20 frames, got 4"),
    (10, 2, "at most 4 s, but one loop lasts 5000 ms"),
])
def test_impossible_requests(tmp_path, n, fps, match):
    frames = [Image.fromarray(f) for f in _blocky_frames(n, (64, 54))]
    with pytest.raises(ValueError, match=match):
        Animation(frames, durations_for(n, fps), fps).save(tmp_path / "s.png", format="line")
    assert list(tmp_path.iterdir()) == []


def test_static_and_opaque_results_are_refused(tmp_path):
    still = _blocky_frames(1, (64, 54))[0]
    with pytest.raises(ValueError, match="must move, but all 6 frames are identical"):
        Animation([Image.fromarray(still)] * 6, [100] * 6, 10.0).save(tmp_path / "s.png", format="line")
    opaque = [f.copy() for f in _blocky_frames(5, (64, 54))]
    for f in opaque:
        f[..., 3] = 255
    with pytest.raises(ValueError, match="transparent background"):
        Animation([Image.fromarray(f) for f in opaque], [100] * 5, 10.0).save(tmp_path / "s.png", format="line")
    with pytest.raises(ValueError, match="1-4 loops"):
        Animation([Image.fromarray(f) for f in _blocky_frames(5, (64, 54))], [300] * 5, 10.0).save(
            tmp_path / "s.png", format="line", loops=3)
    assert list(tmp_path.iterdir()) == []


def test_render_size_per_format():
    assert render_size("line", 66, 91) == line_size(66, 91)
    assert render_size("line-main", 66, 91) == (174, 240)  # longer side 240, aspect kept
    assert render_size("line-main", 400, 3) == (240, 2)
    assert render_size("apng", 66, 91) is None and render_size("spritesheet", 5, 5) is None
