"""letterbox geometry and premultiplied resizing; uint8 <-> premultiplied tensors; the pixel-art rule."""

import numpy as np
import pytest
import torch
from PIL import Image

from still2motion.io import Box, from_tensor, is_pixel_art, letterbox, letterbox_box, to_tensor


def test_letterbox_box_extreme_aspect_and_centring():
    assert letterbox_box(400, 3, 64) == Box(0, 31, 64, 1)
    assert letterbox_box(3, 400, 64) == Box(31, 0, 1, 64)
    assert letterbox_box(100, 50, 64) == Box(0, 16, 64, 32)
    assert letterbox_box(64, 64, 64) == Box(0, 0, 64, 64)
    assert letterbox_box(10, 7, 100) == Box(0, 15, 100, 70)  # upscaling too
    with pytest.raises(ValueError, match="got 0, 5, 64"):
        letterbox_box(0, 5, 64)


def test_letterbox_places_image_in_box_and_round_trips():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (30, 60, 4), dtype=np.uint8)
    arr[..., 3] = 255
    canvas, box = letterbox(Image.fromarray(arr), 120, resample="nearest")
    assert canvas.size == (120, 120) and box == Box(0, 30, 120, 60)
    c = np.asarray(canvas)
    assert (c[:30, :, 3] == 0).all() and (c[90:, :, 3] == 0).all() and (c[30:90, :, 3] == 255).all()
    back = canvas.crop((box.left, box.top, box.left + box.width, box.top + box.height)).resize((60, 30), Image.NEAREST)
    np.testing.assert_array_equal(np.asarray(back), arr)
    canvas2, _ = letterbox(Image.fromarray(arr), 120, resample="nearest")
    assert canvas.tobytes() == canvas2.tobytes()


def test_letterbox_resizes_premultiplied_no_colour_bleed():
    arr = np.zeros((40, 40, 4), np.uint8)
    arr[..., :3] = (255, 0, 0)  # fully transparent red
    arr[:, 20:] = (0, 0, 255, 255)  # opaque blue right half
    for size in (17, 64, 23):
        canvas, _ = letterbox(Image.fromarray(arr), size, resample="bilinear")
        c = np.asarray(canvas)
        visible = c[..., 3] > 0
        assert visible.any() and c[visible, 0].max() == 0  # no red appears anywhere visible
    with pytest.raises(ValueError, match="resample"):
        letterbox(Image.fromarray(arr), 16, resample="cubic")


def test_bilinear_downscale_antialiases():
    checker = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    arr = np.stack([checker] * 3 + [np.full_like(checker, 255)], -1)
    canvas, _ = letterbox(Image.fromarray(arr), 16, resample="bilinear")
    rgb = np.asarray(canvas)[..., 0].astype(int)
    assert np.abs(rgb - 127.5).max() < 10  # averaged, not aliased samples


def test_tensor_round_trip_and_premultiplication():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    arr[0, 0, 3] = 0
    t = to_tensor(arr)
    assert t.shape == (4, 5, 7) and t.dtype == torch.float32
    assert torch.allclose(t[:3], torch.from_numpy(arr[..., :3]).permute(2, 0, 1) / 255 * torch.from_numpy(arr[..., 3]) / 255)
    back = from_tensor(t)
    visible = arr[..., 3] > 0
    np.testing.assert_array_equal(back[visible], arr[visible])
    assert tuple(back[0, 0]) == (0, 0, 0, 0)
    np.testing.assert_array_equal(from_tensor(to_tensor(Image.fromarray(arr))), back)
    assert from_tensor(torch.full((4, 2, 2), 2.0)).min() == 255  # clamped
    batch = from_tensor(torch.stack([t, t.flip(-1)]))  # (2, 4, H, W) -> (2, H, W, 4)
    assert batch.shape == (2, 5, 7, 4)
    np.testing.assert_array_equal(batch[0], back)
    np.testing.assert_array_equal(batch[1], back[:, ::-1])
    with pytest.raises(ValueError, match=r"\(4, H, W\)"):
        from_tensor(torch.zeros(3, 2, 2))


def test_is_pixel_art():
    sprite = np.zeros((32, 32, 4), np.uint8)
    sprite[4:28, 4:28] = (200, 30, 30, 255)
    sprite[10:12, 10:20] = (20, 20, 20, 255)
    assert is_pixel_art(sprite)
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 4), dtype=np.uint8)
    noise[..., 3] = 255
    assert not is_pixel_art(noise)
    assert not is_pixel_art(np.tile(sprite, (9, 9, 1)))  # 288 px: too large
    soft = sprite.copy()
    soft[4:28, 4:28, 3] = 128  # mostly partial alpha: smooth art, not pixel art
    assert not is_pixel_art(soft)


def test_auto_resample_is_nearest_for_pixel_art_only():
    from still2motion.io import auto_resample

    rng = np.random.default_rng(0)
    noisy = lambda side: rng.integers(0, 256, (side, side, 4), dtype=np.uint8)  # noqa: E731 - many colours, soft alpha
    assert auto_resample(noisy(32)) == "bicubic"  # small but not pixel art (issue 32, item 13)
    assert auto_resample(noisy(128)) == "bicubic"
    assert auto_resample(noisy(200)) == "bicubic"
    flat = np.zeros((200, 200, 4), np.uint8)
    flat[50:150, 50:150] = (200, 30, 30, 255)
    assert auto_resample(flat) == "nearest"  # 200 px but pixel art
