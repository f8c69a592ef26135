"""GIF composition: each frame's own disposal, transparency, per-frame delays, loop counts."""

from pathlib import Path

import numpy as np
import pytest

from _io_builders import build_gif
from still2motion.io import read_animation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]
T = (0, 0, 0, 0)
R, G, B = (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)


def _gif(tmp_path, frames, **kw):
    path = tmp_path / "a.gif"
    path.write_bytes(build_gif(4, 4, PALETTE, frames, **kw))
    return read_animation(path)


def _frame(index, h, w, x=0, y=0, **kw):
    return {"indices": np.full((h, w), index, np.uint8), "x": x, "y": y, "transparent": 0, **kw}


def test_disposal_0_accumulates(tmp_path):
    anim = _gif(tmp_path, [_frame(1, 1, 4, disposal=0), _frame(2, 1, 4, y=1, disposal=0), _frame(3, 1, 4, y=2, disposal=0)])
    last = anim.frames[2]
    assert [tuple(last[r, 0]) for r in range(4)] == [R, G, B, T]


def test_disposal_2_clears_to_transparent(tmp_path):
    anim = _gif(tmp_path, [_frame(1, 4, 4, disposal=2), _frame(2, 1, 1, x=3, y=3, disposal=2), _frame(3, 1, 1, disposal=2)])
    expected = np.zeros((4, 4, 4), np.uint8)
    expected[3, 3] = G
    np.testing.assert_array_equal(anim.frames[1], expected)
    expected = np.zeros((4, 4, 4), np.uint8)
    expected[0, 0] = B
    np.testing.assert_array_equal(anim.frames[2], expected)


def test_mixed_disposals_each_frame_uses_its_own(tmp_path):
    frames = [
        _frame(1, 4, 4, disposal=1),  # keep the red background
        _frame(2, 2, 2, x=1, y=1, disposal=2),  # green square, then cleared
        _frame(3, 1, 1, disposal=3),  # blue pixel, then restored to red
        _frame(2, 1, 1, x=3, disposal=0),
    ]
    anim = _gif(tmp_path, frames)
    red = np.broadcast_to(np.array(R, np.uint8), (4, 4, 4)).copy()
    e1 = red.copy()
    e1[1:3, 1:3] = G
    e2 = red.copy()
    e2[1:3, 1:3] = T
    e2[0, 0] = B
    e3 = red.copy()
    e3[1:3, 1:3] = T
    e3[0, 3] = G
    for got, want in zip(anim.frames, [red, e1, e2, e3]):
        np.testing.assert_array_equal(got, want)


def test_transparent_index_leaves_canvas(tmp_path):
    top = np.array([[2, 0], [0, 2]], np.uint8)
    anim = _gif(tmp_path, [_frame(1, 4, 4, disposal=1), {"indices": top, "x": 0, "y": 0, "transparent": 0, "disposal": 1}])
    assert tuple(anim.frames[1][0, 0]) == G and tuple(anim.frames[1][0, 1]) == R and tuple(anim.frames[1][1, 1]) == G


def test_per_frame_durations_and_loop(tmp_path):
    frames = [_frame(i % 3 + 1, 4, 4, delay_cs=d) for i, d in enumerate([10, 20, 5, 70])]
    anim = _gif(tmp_path, frames, loop=0)
    assert anim.durations_ms == [100, 200, 50, 700] and anim.loop == 0
    assert _gif(tmp_path, frames, loop=2).loop == 3  # NETSCAPE repeats 2 -> 3 plays
    assert _gif(tmp_path, frames, loop=None).loop == 1  # no NETSCAPE block: plays once


def test_real_disposal_0_gif_accumulates():
    anim = read_animation(FIXTURES / "arcade_anim.gif")
    assert len(anim.frames) == 8 and anim.durations_ms == [100] * 8
    opaque = [int((f[..., 3] > 0).sum()) for f in anim.frames]
    assert opaque == sorted(opaque) and opaque[0] == 4076 and opaque[-1] == 4981  # the arcade fixture decodes with ghost legs


def test_robot_gif_fixture():
    anim = read_animation(FIXTURES / "robot_walk.gif")
    ref = read_animation(FIXTURES / "robot_walk.png")
    assert len(anim.frames) == 8 and anim.frames[0].shape == (40, 32, 4)
    for g, p in zip(anim.frames, ref.frames):
        np.testing.assert_array_equal(g[..., 3] > 0, p[..., 3] > 0)  # Pillow's GIF writer keeps any alpha > 0
        visible = p[..., 3] > 0
        assert np.abs(g[visible, :3].astype(int) - p[visible, :3]).max() <= 24


def test_max_frames(tmp_path):
    with pytest.raises(ValueError, match="4 frames is more than the limit of 3"):
        path = tmp_path / "a.gif"
        path.write_bytes(build_gif(4, 4, PALETTE, [_frame(1, 4, 4)] * 4))
        read_animation(path, max_frames=3)
