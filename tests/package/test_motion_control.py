"""animate(motion=..., mask=...): presets without a forward, masks that confine any motion byte-exactly, errors;
and the loop-level fixes of issue #22: no stall at the seam, wide inputs stay in view, a note when tiny art barely moves."""

import logging

import numpy as np
import pytest
from PIL import Image

from conftest import TX, B, C, hand_set_model, random_model
from train.evaluate.design_baselines import STNGenerator


def _pixel_sprite(width: int = 40, height: int = 48) -> Image.Image:
    """Blocky pixel art with a margin on every side, 4 colours."""
    rng = np.random.default_rng(1)
    palette = np.array([[200, 40, 40, 255], [40, 160, 60, 255], [30, 30, 200, 255], [250, 220, 0, 255]], np.uint8)
    arr = np.zeros((height, width, 4), np.uint8)
    blocks = palette[rng.integers(0, 4, size=(height // 8, width // 8))].repeat(4, 0).repeat(4, 1)
    y0, x0 = (height - blocks.shape[0]) // 2, (width - blocks.shape[1]) // 2
    arr[y0 : y0 + blocks.shape[0], x0 : x0 + blocks.shape[1]] = blocks
    return Image.fromarray(arr, "RGBA")


def _textured(width: int = 64, height: int = 48) -> Image.Image:
    """Many colours, every alpha (0 with stray RGB under it, 1, soft, opaque): byte-exactness is not free here."""
    rng = np.random.default_rng(2)
    arr = rng.integers(0, 256, size=(height, width, 4), dtype=np.uint8)
    arr[..., 3] = np.where(rng.random((height, width)) < 0.7, 255, arr[..., 3])
    arr[: height // 6, :, 3] = 0  # a transparent band whose RGB is not zero
    return Image.fromarray(arr, "RGBA")


def _arrays(anim) -> np.ndarray:
    return np.stack([np.asarray(f) for f in anim.frames])  # (T, H, W, 4)


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance in pixels from every pixel to the nearest pixel where ``mask`` is set."""
    ys, xs = np.nonzero(mask)
    gy, gx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    d2 = (gy[..., None] - ys) ** 2 + (gx[..., None] - xs) ** 2
    return np.sqrt(d2.min(axis=-1))


# presets need no network


def test_a_preset_runs_without_the_network(monkeypatch):
    model = random_model()
    monkeypatch.setattr(model, "forward", lambda *a, **k: pytest.fail("a preset ran the network"))
    still = _pixel_sprite()
    frames = _arrays(model.animate(still, num_frames=8, motion="bob"))
    assert np.array_equal(frames[0], np.asarray(still))
    assert not np.array_equal(frames[4], frames[0])


def test_presets_work_with_a_baseline_generator_too():
    model = STNGenerator(resolution=32, block_out_channels=(4, 8, 16), num_phases=16, noise_dim=4).eval()
    frames = _arrays(model.animate(_pixel_sprite(), num_frames=6, motion="sway"))
    assert not np.array_equal(frames[2], frames[0])


def test_strength_scales_a_preset_and_spin_ignores_it():
    model, still = random_model(), _pixel_sprite(64, 64)

    def top(frames):  # the highest opaque row in each frame
        return np.array([np.nonzero(f[..., 3].any(axis=1))[0][0] for f in frames])

    one = _arrays(model.animate(still, num_frames=8, motion="bob", resample="bilinear"))
    two = _arrays(model.animate(still, num_frames=8, motion="bob", strength=2.0, resample="bilinear"))
    rise1, rise2 = top(one)[0] - top(one).min(), top(two)[0] - top(two).min()
    assert rise1 >= 1 and rise2 >= 2 * rise1 - 1
    zero = _arrays(model.animate(still, num_frames=8, motion="bob", strength=0.0))
    assert (zero == zero[0]).all()
    spins = [_arrays(model.animate(still, num_frames=8, motion="spin", strength=s)) for s in (0.5, 1.0)]
    assert np.array_equal(spins[0], spins[1])
    assert np.array_equal(spins[1][4], np.asarray(still)[::-1, ::-1])  # half the loop: turned 180 degrees


# masks


@pytest.mark.parametrize("motion", ["bob", "sway", "wiggle", "auto"])
def test_a_mask_confines_the_motion_byte_exactly(motion):
    still = _textured()
    mask = np.zeros((48, 64), np.uint8)
    mask[20:36, 24:44] = 255
    model = hand_set_model({(TX, 1, "b"): 0.2})  # auto: a sway of 0.2 canvas units = 6.4 px at this size
    frames = _arrays(model.animate(still, num_frames=10, motion=motion, mask=mask, resample="bilinear"))
    reach = {"auto": 6.4}.get(motion, 4.0)  # preset amplitudes here are at most ~0.06 x 16 px; generous
    far = _distance_to(mask > 0) > reach + 1.5  # + the bilinear footprint
    assert far.sum() > 0.5 * far.size
    original = np.asarray(still)
    for frame in frames:
        assert np.array_equal(frame[far], original[far])
    near = ~far
    assert any(not np.array_equal(frame[near], original[near]) for frame in frames[1:]), "the masked region moves"


def test_a_brushed_mask_is_read_from_its_alpha(tmp_path):
    still = _textured()
    brush = Image.new("RGBA", (64, 48), (0, 0, 0, 0))  # the input's size (another size is refused)
    brush.paste((255, 0, 0, 255), (24, 20, 44, 36))
    brush.save(tmp_path / "brush.png")
    frames = _arrays(random_model().animate(still, num_frames=6, motion="shake", mask=tmp_path / "brush.png"))
    painted = np.zeros((48, 64), bool)
    painted[20:36, 24:44] = True
    far = _distance_to(painted) > 4
    for frame in frames:
        assert np.array_equal(frame[far], np.asarray(still)[far])
    assert any(not np.array_equal(f, frames[0]) for f in frames[1:])


# errors


def test_unknown_motion_is_a_one_line_error_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="'jump'") as err:
        random_model().animate(tmp_path / "does-not-exist.png", motion="jump")
    assert "\n" not in str(err.value) and "bob" in str(err.value)


@pytest.mark.parametrize(
    "mask, error, match",
    [
        ("garbage", ValueError, "garbage.png"),
        ("missing", FileNotFoundError, "missing.png"),
        (np.zeros((4, 4, 2), np.uint8), ValueError, r"\(4, 4, 2\)"),
        (np.full((4, 4), 2.0), ValueError, "2.0"),
        (12, TypeError, "int"),
    ],
)
def test_bad_masks_are_one_line_errors(tmp_path, mask, error, match):
    (tmp_path / "garbage.png").write_bytes(b"not an image at all")
    if isinstance(mask, str):
        mask = tmp_path / f"{mask}.png"
    with pytest.raises(error, match=match) as err:
        random_model().animate(_pixel_sprite(), num_frames=4, motion="bob", mask=mask)
    assert "\n" not in str(err.value)


def test_auto_with_a_mask_needs_a_layered_model():
    model = STNGenerator(resolution=32, block_out_channels=(4, 8, 16), num_phases=16, noise_dim=4).eval()
    with pytest.raises(ValueError, match="STNGenerator"):
        model.animate(_pixel_sprite(), num_frames=4, mask=np.ones((48, 40), bool))


# issue 22, item 4: a loop keeps moving through its seam


@pytest.mark.parametrize("motion, strength, num_frames", [("auto", 1.0, 20), ("bob", 10.0, 20), ("breathe", 10.0, 14)])
def test_no_two_consecutive_frames_are_identical(motion, strength, num_frames):
    # a (cos phi - 1) trajectory has zero speed at the seam: nearest sampling used to round frame N-1 to frame 0.
    # Each loop here moves >= 1.6 px a frame on average (auto: a hump of 0.4 canvas units = 16 px each way; the step
    # from frame 19 to frame 0 was 0.39 px, and frames 9 and 10, at the turn, were identical too)
    model = hand_set_model({(TX, 1, "a"): -0.2})
    still = _pixel_sprite(80, 80)
    frames = _arrays(model.animate(still, num_frames=num_frames, motion=motion, strength=strength, resample="nearest"))
    nxt = np.roll(frames, -1, axis=0)  # frame t and t + 1, and N-1 and 0
    same = [t for t in range(len(frames)) if np.array_equal(frames[t], nxt[t])]
    assert same == []


# issue 22, item 5: a very wide input keeps its content in view


def test_a_wide_bar_stays_in_its_own_strip():
    # a textured strip with alpha (a sprite: nothing is edge-padded, so what leaves the frame is lost)
    arr = np.zeros((20, 1000, 4), np.uint8)
    arr[..., 0] = np.arange(1000) % 256
    arr[..., 1], arr[..., 2], arr[..., 3] = 90, 30, 250
    bar = Image.fromarray(arr, "RGBA")
    model = hand_set_model({(B, 1, "b"): 0.1, (C, 1, "b"): -0.1, (TX, 1, "b"): 0.05})  # a turn of ~6 degrees
    frames = _arrays(model.animate(bar, num_frames=8, resample="bilinear"))
    kept = frames[..., 3].astype(float).sum(axis=(1, 2)) / (250.0 * 1000 * 20)
    assert kept.min() >= 0.85
    assert any(not np.array_equal(f, frames[0]) for f in frames[1:])  # scaled down, not stopped


# issue 22, item 9: tiny pixel art


def test_auto_moves_tiny_pixel_art_by_a_whole_pixel_without_a_note(caplog):
    """Issue 33: a guard may not buy cleanliness by standing still: a learned motion under one output pixel is
    raised to one (it used to barely move, with a note), in whole pixels (every frame a shift of the input)."""
    tiny = _pixel_sprite(8, 8)
    with caplog.at_level(logging.WARNING, logger="still2motion"):
        frames = _arrays(hand_set_model({(TX, 1, "b"): 0.05}).animate(tiny, num_frames=20))
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    moved = [f for f in frames[1:] if not np.array_equal(f, frames[0])]
    assert moved
    src = frames[0]
    for f in moved:  # a whole-pixel shift along x: some integer dx maps the input onto the frame
        assert any(np.array_equal(np.roll(src, dx, axis=1)[:, max(dx, 0) : 8 + min(dx, 0)],
                                  f[:, max(dx, 0) : 8 + min(dx, 0)]) for dx in (-2, -1, 1, 2))


def test_a_preset_moves_tiny_pixel_art_by_a_whole_pixel():
    tiny = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    tiny.paste((200, 40, 40, 255), (2, 3, 6, 8))  # 4 x 5 on the bottom edge
    frames = _arrays(random_model().animate(tiny, num_frames=20, motion="bob"))
    assert sum(not np.array_equal(f, frames[0]) for f in frames) >= 5


# the CLI: --motion, --mask, --motion list


def test_cli_motion_list_needs_no_input_or_output(capsys):
    from still2motion import cli
    from still2motion.presets import PRESET_NAMES

    assert cli.main(["animate", "--motion", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["auto", *PRESET_NAMES]


def test_cli_preset_with_a_mask_moves_only_the_masked_part(tmp_path, capsys):
    from still2motion import cli, read_animation

    still = _textured()
    arr = np.asarray(still).copy()
    arr[..., 3] = np.maximum(arr[..., 3], 1)  # no fully transparent pixel: every byte must survive the APNG writer
    Image.fromarray(arr, "RGBA").save(tmp_path / "in.png")
    mask = np.zeros((48, 64), np.uint8)
    mask[20:36, 24:44] = 255
    Image.fromarray(mask, "L").save(tmp_path / "mask.png")
    argv = ["animate", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--frames", "8",
            "--motion", "wiggle", "--mask", str(tmp_path / "mask.png")]
    assert cli.main(argv) == 0, capsys.readouterr().err
    frames = np.stack(read_animation(tmp_path / "out.png").frames)
    far = _distance_to(mask > 0) > 5.5
    assert all(np.array_equal(f[far], arr[far]) for f in frames)
    assert any(not np.array_equal(f, arr) for f in frames[1:])


@pytest.mark.parametrize("flags, match", [(["--motion", "jump"], "--motion must be auto or one of"),
                                          (["--mask", "nowhere.png"], "mask: cannot read 'nowhere.png'")])
def test_cli_bad_motion_or_mask_is_one_line_before_any_output(tmp_path, capsys, monkeypatch, flags, match):
    from still2motion import cli

    monkeypatch.chdir(tmp_path)
    _pixel_sprite().save("in.png")
    assert cli.main(["animate", "in.png", "-o", "out.gif", *flags]) == 1
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.gif").exists()


def test_a_masked_region_uncovers_the_filled_background_not_a_hole():
    """#16 over #17: the brushed region moves as the front layer over the back layer filled behind it."""
    arr = np.zeros((64, 64, 4), np.uint8)
    arr[..., 2], arr[..., 3] = 200, 255  # an opaque blue picture
    yy, xx = np.mgrid[:64, :64]
    disc = (yy - 32) ** 2 + (xx - 32) ** 2 <= 8**2
    arr[disc] = (220, 30, 30, 255)  # with a red disc
    mask = Image.fromarray(((yy - 32) ** 2 + (xx - 32) ** 2 <= 10**2).astype(np.uint8) * 255, "L")
    frames = _arrays(random_model().animate(Image.fromarray(arr, "RGBA"), num_frames=8, motion="bob", strength=3.0,
                                            mask=mask, resample="bilinear"))
    assert (frames[..., 3] == 255).all()  # no hole: the picture stays opaque
    moved = [f for f in frames[1:] if not np.array_equal(f, frames[0])]
    assert moved
    for f in moved:
        uncovered = disc & ~((f[..., 0] > 150) & (f[..., 2] < 100))  # old disc pixels no longer red
        if uncovered.sum() >= 4:
            px = f[uncovered].astype(int)
            assert (px[:, 2] > px[:, 0]).mean() > 0.9  # filled from the blue around it, not a copy of the disc
            break
    else:
        raise AssertionError("the disc never left its place")


# issue 32, item 6: a mask that moves nothing is said; a mask of another size is refused


def test_an_all_black_mask_is_one_warning_line(tmp_path, caplog):
    still = _textured()
    Image.new("L", (64, 48), 0).save(tmp_path / "black.png")
    with caplog.at_level(logging.WARNING, logger="still2motion"):
        frames = _arrays(random_model().animate(still, num_frames=4, motion="shake", mask=tmp_path / "black.png"))
    warnings = [r.getMessage() for r in caplog.records if "all black" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0] and "black.png" in warnings[0], warnings
    assert all(np.array_equal(f, frames[0]) for f in frames)  # what it warns about: nothing moves


def test_the_cli_says_an_all_black_mask_in_one_line(model_dir, still, tmp_path, capsys):
    from conftest import run_cli

    Image.new("L", (24, 32), 0).save(tmp_path / "black.png")
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 4, "--mask", tmp_path / "black.png",
                            "--model", model_dir], capsys)
    assert code == 0, err
    assert err.splitlines() == [f"still2motion: warning: --mask '{tmp_path / 'black.png'}' is all black, so nothing "
                                "will move (white moves, black stays)"]


@pytest.mark.parametrize("mask", ["file", "array"])
def test_a_mask_of_another_size_is_refused_naming_both_sizes(mask, tmp_path):
    brush = Image.new("L", (32, 24), 255)
    brush.save(tmp_path / "half.png")
    source = tmp_path / "half.png" if mask == "file" else np.asarray(brush)
    with pytest.raises(ValueError, match=r"mask is 32x24 but 'the image' is 64x48") as info:
        random_model().animate(_textured(), num_frames=4, motion="shake", mask=source)
    assert "\n" not in str(info.value)


def test_the_cli_refuses_a_mask_of_another_size_before_rendering(model_dir, still, tmp_path, capsys, monkeypatch):
    from conftest import run_cli
    from still2motion import io

    Image.new("L", (48, 64), 255).save(tmp_path / "big.png")
    monkeypatch.setattr(io, "decode_image", lambda *a, **k: pytest.fail("decoded before the mask's size was checked"))
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--mask", tmp_path / "big.png",
                            "--model", model_dir], capsys)
    assert code == 1 and f"--mask is 48x64 but '{still}' is 24x32" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.png").exists()
