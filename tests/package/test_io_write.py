"""Writers, read back: frame counts, durations, sizes, alpha, loop counts; atomic saves."""

import json

import numpy as np
import pytest
from PIL import Image

from still2motion.io import (GIF_ALPHA_THRESHOLD, Animation, atomic_output, durations_for, format_from_path,
                             read_animation, write_apng, write_gif, write_webp)


def _frames(n, size=(24, 16), seed=0, identical_pairs=False):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if identical_pairs and i % 2 == 1:
            out.append(out[-1].copy())
            continue
        a = np.zeros((size[1], size[0], 4), np.uint8)
        a[2:-2, 2 + i % 5 : 10 + i % 5] = (*rng.integers(0, 256, 3), 255)
        a[0, 0] = (10, 200, 30, 255)
        out.append(Image.fromarray(a, "RGBA"))
    return out


def test_durations_for_sums_exactly():
    for n, fps in [(20, 10), (7, 3), (24, 30), (5, 7.5), (1, 0.3)]:
        d = durations_for(n, fps)
        assert len(d) == n and sum(d) == round(1000 * n / fps) and all(isinstance(x, int) for x in d)
    assert durations_for(3, 3) == [333, 334, 333]
    with pytest.raises(ValueError, match="fps must be > 0, got 0"):
        durations_for(3, 0)


def test_format_from_path():
    assert format_from_path("a.PNG") == "apng" and format_from_path("a.apng") == "apng"
    assert format_from_path("a.gif") == "gif" and format_from_path("a.webp") == "webp"
    assert format_from_path("a.png", "line") == "line" and format_from_path("x", "spritesheet") == "spritesheet"
    with pytest.raises(ValueError, match=r"\.bmp.*\.png, \.apng, \.gif, \.webp"):
        format_from_path("a.bmp")
    with pytest.raises(ValueError, match="choose one of: apng, gif, webp, line, line-main, spritesheet"):
        format_from_path("a.png", "mp4")


def test_apng_keeps_identical_frames_and_durations(tmp_path):
    frames = _frames(6, identical_pairs=True)
    durations = durations_for(6, 3)
    path = write_apng(frames, durations, tmp_path / "a.png", loop=3)
    anim = read_animation(path)
    assert len(anim.frames) == 6 and anim.durations_ms == durations and anim.loop == 3
    for got, want in zip(anim.frames, frames):
        np.testing.assert_array_equal(got, np.asarray(want))


def test_gif_delays_track_timeline_at_3_fps_with_identical_frames(tmp_path):
    frames = _frames(7, identical_pairs=True)
    durations = durations_for(7, 3)  # total 2333 ms, not a multiple of 10
    path = write_gif(frames, durations, tmp_path / "a.gif", fps=3)
    anim = read_animation(path)
    assert len(anim.frames) == 7
    assert abs(sum(anim.durations_ms) - 2333) <= 10
    starts = np.cumsum([0] + durations)
    got = np.cumsum([0] + anim.durations_ms)
    assert np.abs(got - starts).max() <= 5  # every frame starts within 5 ms of its exact time
    assert anim.frames[0].shape == (16, 24, 4) and anim.loop == 0


def test_gif_alpha_threshold_and_loop(tmp_path):
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., :3] = (200, 40, 40)
    a[0, :] = 0
    a[1, 0, 3] = GIF_ALPHA_THRESHOLD - 1
    a[1, 1, 3] = GIF_ALPHA_THRESHOLD
    a[2:, :, 3] = 255
    b = a.copy()
    b[3, 3] = (0, 0, 255, 255)
    anim = read_animation(write_gif([a, b], [100, 100], tmp_path / "a.gif", loop=2))
    alpha = anim.frames[0][..., 3]
    assert alpha[0].tolist() == [0, 0, 0, 0] and alpha[1, 0] == 0 and alpha[1, 1] == 255 and (alpha[2:] == 255).all()
    assert set(np.unique(anim.frames[1][..., 3])) == {0, 255}
    assert tuple(anim.frames[1][3, 3]) == (0, 0, 255, 255)
    assert np.abs(anim.frames[0][2:, :, :3].astype(int) - (200, 40, 40)).max() <= 2
    assert anim.loop == 2


def test_gif_above_50_fps_is_refused_and_leaves_nothing(tmp_path):
    anim = Animation(_frames(4), durations_for(4, 60), 60.0)
    with pytest.raises(ValueError, match="at most 50 fps.*got 60.*APNG.*WebP"):
        anim.save(tmp_path / "a.gif")
    with pytest.raises(ValueError, match="shorter than 20 ms"):
        write_gif(_frames(4), [10, 10, 10, 10], tmp_path / "b.gif")
    assert list(tmp_path.iterdir()) == []


def test_webp_round_trip_exact_total_with_identical_frames(tmp_path):
    frames = _frames(6, identical_pairs=True)
    durations = durations_for(6, 3)
    anim = read_animation(write_webp(frames, durations, tmp_path / "a.webp", loop=2))
    assert sum(anim.durations_ms) == sum(durations) == 2000 and anim.loop == 2
    # libwebp merges identical consecutive frames; the timeline must still match frame for frame
    t = 0
    expected_at = []
    for f, d in zip(frames, durations):
        expected_at.append((t, np.asarray(f)))
        t += d
    starts = np.cumsum([0] + anim.durations_ms[:-1])
    for start, want in expected_at:
        shown = anim.frames[int(np.searchsorted(starts, start, side="right")) - 1]
        np.testing.assert_array_equal(shown, want)


def test_webp_lossy_quality(tmp_path):
    anim = read_animation(write_webp(_frames(3), [100] * 3, tmp_path / "a.webp", quality=50))
    assert len(anim.frames) == 3 and anim.frames[0].shape == (16, 24, 4)
    with pytest.raises(ValueError, match="quality must be in 0..100"):
        write_webp(_frames(3), [100] * 3, tmp_path / "b.webp", quality=101)


@pytest.mark.parametrize("n", [1, 5, 9, 10])
def test_spritesheet_tiles_and_durations(tmp_path, n):
    frames = _frames(n)
    durations = durations_for(n, 7)
    png = Animation(frames, durations, 7.0).save(tmp_path / "walk.png", format="spritesheet")
    meta = json.loads((tmp_path / "walk.json").read_text())
    sheet = np.asarray(Image.open(png).convert("RGBA"))
    assert meta["meta"]["image"] == "walk.png" and meta["meta"]["size"] == {"w": sheet.shape[1], "h": sheet.shape[0]}
    assert meta["meta"]["format"] == "RGBA8888" and meta["meta"]["frameTags"][0]["to"] == n - 1
    names = sorted(meta["frames"])
    assert names == [f"walk_{i:04d}.png" for i in range(n)]
    covered = np.zeros(sheet.shape[:2], int)
    for name, frame in zip(names, frames):
        r = meta["frames"][name]["frame"]
        covered[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"]] += 1
        np.testing.assert_array_equal(sheet[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"]], np.asarray(frame))
    assert covered.max() == 1  # no overlaps
    cols = -(-sheet.shape[1] // 24)
    assert covered.sum() == n * 24 * 16 and sheet.shape[0] == 16 * -(-n // cols)  # rows hold exactly the frames
    assert sum(f["duration"] for f in meta["frames"].values()) == round(1000 * n / 7)


def test_save_errors_leave_nothing(tmp_path):
    anim = Animation(_frames(3), [100] * 3, 10.0)
    with pytest.raises(FileNotFoundError, match="missing.*does not exist"):
        anim.save(tmp_path / "missing" / "a.png")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        anim.save(tmp_path / "file" / "a.gif")
    with pytest.raises(ValueError, match="choose"):
        anim.save(tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="need one duration per frame"):
        Animation(_frames(3), [100] * 2, 10.0).save(tmp_path / "a.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_atomic_output_removes_temp_on_error_and_keeps_old_file(tmp_path):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.png"]
    Animation(_frames(2), [50, 50], 20.0).save(target)
    assert len(read_animation(target).frames) == 2  # an existing file is replaced
