"""APNG composition, checked pixel by pixel against hand-computed composites."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _io_builders import build_apng, solid
from still2motion.io import read_animation, read_image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RED, GREEN = (255, 0, 0, 255), (0, 255, 0, 255)
HALF_BLUE = (0, 0, 255, 128)
NONE, BACKGROUND, PREVIOUS = 0, 1, 2
SOURCE, OVER = 0, 1


def _write(tmp_path, data, name="a.png"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("dispose", [NONE, BACKGROUND, PREVIOUS])
@pytest.mark.parametrize("blend", [SOURCE, OVER])
def test_dispose_and_blend_ops(tmp_path, dispose, blend):
    # frame 0: opaque red canvas; frame 1: a 2x2 half-transparent blue square at (1, 1); frame 2: one green pixel at (3, 3)
    frames = [
        {"pixels": solid(4, 4, RED)},
        {"pixels": solid(2, 2, HALF_BLUE), "x": 1, "y": 1, "dispose": dispose, "blend": blend},
        {"pixels": solid(1, 1, GREEN), "x": 3, "y": 3, "blend": OVER},
    ]
    anim = read_animation(_write(tmp_path, build_apng(4, 4, frames)))
    assert len(anim.frames) == 3
    square = (slice(1, 3), slice(1, 3))
    expected1 = solid(4, 4, RED)
    # OVER: alpha 128/255 blue over opaque red -> (255 * 127/255, 0, 255 * 128/255, 255)
    expected1[square] = HALF_BLUE if blend == SOURCE else (127, 0, 128, 255)
    np.testing.assert_array_equal(anim.frames[0], solid(4, 4, RED))
    np.testing.assert_array_equal(anim.frames[1], expected1)
    expected2 = expected1.copy()
    if dispose == BACKGROUND:
        expected2[square] = 0
    elif dispose == PREVIOUS:
        expected2[square] = RED
    expected2[3, 3] = GREEN
    np.testing.assert_array_equal(anim.frames[2], expected2)


def test_dispose_previous_on_first_frame_acts_as_background(tmp_path):
    frames = [{"pixels": solid(3, 3, RED), "dispose": PREVIOUS}, {"pixels": solid(1, 1, GREEN), "x": 1, "y": 1}]
    anim = read_animation(_write(tmp_path, build_apng(3, 3, frames)))
    expected = np.zeros((3, 3, 4), np.uint8)
    expected[1, 1] = GREEN
    np.testing.assert_array_equal(anim.frames[1], expected)


def test_semi_transparent_over_semi_transparent_matches_alpha_composite(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (6, 6, 4), dtype=np.uint8)
    top = rng.integers(0, 256, (4, 5, 4), dtype=np.uint8)
    frames = [{"pixels": base}, {"pixels": top, "x": 1, "y": 2, "blend": OVER}]
    anim = read_animation(_write(tmp_path, build_apng(6, 6, frames)))
    layer = Image.new("RGBA", (6, 6), (0, 0, 0, 0))
    layer.paste(Image.fromarray(top, "RGBA"), (1, 2))
    reference = np.asarray(Image.alpha_composite(Image.fromarray(base, "RGBA"), layer)).astype(int)
    got = anim.frames[1].astype(int)
    visible = reference[..., 3] > 0
    assert np.abs(got[..., 3] - reference[..., 3]).max() <= 1
    assert np.abs(got[visible, :3] - reference[visible, :3]).max() <= 2  # Pillow composes in 8-bit fixed point
    np.testing.assert_array_equal(got[:2], base[:2].astype(int))  # rows above the sub-rectangle untouched


def test_near_transparent_over_opaque_keeps_alpha(tmp_path):
    # Pillow 12.3's APNG reader pastes OVER frames with themselves as mask, so alpha decays here (to 97 after
    # 128 frames in Pillow's blend_op_over_near_transparent.png); straight-alpha "over" keeps it at 255.
    frames = [{"pixels": solid(2, 2, GREEN)}] + [{"pixels": solid(2, 2, (0, 255, 0, 2)), "blend": OVER}] * 20
    anim = read_animation(_write(tmp_path, build_apng(2, 2, frames)))
    assert all((f == GREEN).all() for f in anim.frames)


def test_default_image_is_not_a_frame(tmp_path):
    magenta = solid(4, 4, (255, 0, 255, 255))
    frames = [{"pixels": solid(4, 4, RED)}, {"pixels": solid(4, 4, GREEN)}]
    path = _write(tmp_path, build_apng(4, 4, frames, default_image=magenta))
    anim = read_animation(path)
    assert len(anim.frames) == 2
    np.testing.assert_array_equal(anim.frames[0], solid(4, 4, RED))
    np.testing.assert_array_equal(anim.frames[1], solid(4, 4, GREEN))
    result = read_image(path)
    assert result.n_frames == 2
    np.testing.assert_array_equal(np.asarray(result.image), solid(4, 4, RED))


def test_delays_and_loop(tmp_path):
    delays = [(1, 3), (5, 0), (0, 100), (65535, 1000)]  # 333 ms, 5/100 s (den 0), 0 ms, 65.535 s
    frames = [{"pixels": solid(2, 2, (i * 60, 0, 0, 255)), "delay": d} for i, d in enumerate(delays)]
    anim = read_animation(_write(tmp_path, build_apng(2, 2, frames, num_plays=3)))
    assert anim.durations_ms == [333, 50, 0, 65535]
    assert anim.loop == 3


def test_fixture_matches_pillow_frame_by_frame():
    path = FIXTURES / "robot_walk.png"
    anim = read_animation(path)
    assert len(anim.frames) == 8 and anim.durations_ms == [100] * 8 and anim.loop == 0
    with Image.open(path) as im:
        for i, frame in enumerate(anim.frames):
            im.seek(i)
            np.testing.assert_array_equal(frame, np.asarray(im.convert("RGBA")))
    assert len({f.tobytes() for f in anim.frames}) == 8


def test_frame_outside_canvas_is_an_error(tmp_path):
    frames = [{"pixels": solid(4, 4, RED)}, {"pixels": solid(2, 2, GREEN), "x": 3, "y": 0}]
    with pytest.raises(ValueError, match="outside the 4x4 canvas"):
        read_animation(_write(tmp_path, build_apng(4, 4, frames)))


def test_bad_sequence_number_is_an_error(tmp_path):
    data = build_apng(2, 2, [{"pixels": solid(2, 2, RED)}, {"pixels": solid(2, 2, GREEN)}])
    # rewrite the fdAT's sequence number 2 -> 7 (and fix its CRC) by rebuilding through the builder's chunk()
    from _io_builders import chunk
    import struct
    pos = data.index(b"fdAT") - 4
    n = struct.unpack(">I", data[pos : pos + 4])[0]
    body = struct.pack(">I", 7) + data[pos + 12 : pos + 8 + n]
    data = data[:pos] + chunk(b"fdAT", body) + data[pos + 12 + n :]
    with pytest.raises(ValueError, match="sequence number 7, expected 2"):
        read_animation(_write(tmp_path, data))


def test_max_frames(tmp_path):
    frames = [{"pixels": solid(2, 2, (i, 0, 0, 255))} for i in range(5)]
    with pytest.raises(ValueError, match="5 frames is more than the limit of 4"):
        read_animation(_write(tmp_path, build_apng(2, 2, frames)), max_frames=4)
