"""read_image: every mode to straight RGBA, EXIF orientation, and every bad input as a one-line ValueError."""

import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _io_builders import chunk, SIG
from still2motion.io import read_animation, read_image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _save(tmp_path, image, name, **kw):
    path = tmp_path / name
    image.save(path, **kw)
    return path


def _rgba(result):
    assert result.image.mode == "RGBA"
    return np.asarray(result.image)


def test_palette_with_trns(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    im.putdata([0, 1, 2])
    path = _save(tmp_path, im, "p.png", transparency=b"\x00\x80\xff")
    np.testing.assert_array_equal(_rgba(read_image(path))[0], [[255, 0, 0, 0], [0, 255, 0, 128], [0, 0, 255, 255]])


@pytest.mark.parametrize("mode,value,expected", [("L", 200, (200, 200, 200, 255)), ("LA", (90, 30), (90, 90, 90, 30)),
                                                 ("RGB", (1, 2, 3), (1, 2, 3, 255)), ("RGBA", (1, 2, 3, 4), (1, 2, 3, 4)),
                                                 ("1", 1, (255, 255, 255, 255))])
def test_simple_modes(tmp_path, mode, value, expected):
    path = _save(tmp_path, Image.new(mode, (2, 2), value), f"{mode}.png")
    assert tuple(_rgba(read_image(path))[1, 1]) == expected


def test_16_bit_gray_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 32896, 65535]], np.uint16)  # -> 0, 1, 128, 255
    path = _save(tmp_path, Image.fromarray(values), "g16.png")
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    np.testing.assert_array_equal(_rgba(read_image(path))[0, :, 0], [0, 1, 128, 255])


def test_int32_and_float_modes():
    i = Image.fromarray(np.array([[0, 65535]], np.int32))
    np.testing.assert_array_equal(np.asarray(read_image(i).image)[0, :, 0], [0, 255])
    f = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    np.testing.assert_array_equal(np.asarray(read_image(f).image)[0, :, 0], [0, 128, 255])


def test_cmyk_jpeg(tmp_path):
    path = _save(tmp_path, Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "c.jpg", quality=95)
    with Image.open(path) as im:
        assert im.mode == "CMYK"
    r, g, b, a = _rgba(read_image(path))[8, 8].astype(int)
    assert r > 230 and g < 25 and b < 25 and a == 255


@pytest.mark.parametrize("orientation,top", [(6, "red"), (8, "blue")])
def test_exif_orientation(tmp_path, orientation, top):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)  # left half red
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _save(tmp_path, Image.fromarray(arr), "o.jpg", exif=exif, quality=95)
    out = _rgba(read_image(path))
    assert out.shape == (40, 20, 4)
    red_on_top = out[5, 10, 0] > 200 and out[35, 10, 2] > 200
    assert red_on_top == (top == "red")


def test_pil_image_input_and_still_formats(tmp_path):
    im = Image.new("RGB", (5, 4), (10, 20, 30))
    result = read_image(im)
    assert result.n_frames == 1 and tuple(np.asarray(result.image)[0, 0]) == (10, 20, 30, 255)
    for name in ["a.bmp", "a.webp", "a.gif", "a.png"]:
        kw = {"lossless": True} if name.endswith("webp") else {}
        r = read_image(_save(tmp_path, im, name, **kw))
        assert r.image.size == (5, 4) and r.n_frames == 1
    assert read_image(tmp_path / "a.bmp").format == "BMP"


def test_animated_inputs_give_first_frame_and_count():
    for name in ["robot_walk.png", "robot_walk.gif"]:
        r = read_image(FIXTURES / name)
        assert r.n_frames == 8 and r.image.size == (32, 40)
        np.testing.assert_array_equal(np.asarray(r.image), read_animation(FIXTURES / name).frames[0])


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_image(tmp_path / "nope.png")


def _bad(tmp_path, data, name="x.png"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        read_image(path)
    message = str(info.value)
    assert name in message and "\n" not in message
    return message


def test_zero_bytes_random_bytes_svg_pdf(tmp_path):
    assert "empty" in _bad(tmp_path, b"")
    assert "not an image" in _bad(tmp_path, np.random.default_rng(1).integers(0, 256, 1000, dtype=np.uint8).tobytes(), "r.png")
    assert "not an image" in _bad(tmp_path, b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "s.png")
    assert "not an image" in _bad(tmp_path, b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "d.png")


@pytest.mark.parametrize("name", ["robot_walk.png", "robot_walk.gif", "still.png", "still.jpg"])
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.7, 0.98])
def test_truncated(tmp_path, name, fraction):
    if name.startswith("still"):
        rng = np.random.default_rng(0)
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG" if name.endswith("png") else "JPEG")
        data = buf.getvalue()
    else:
        data = (FIXTURES / name).read_bytes()
    message = _bad(tmp_path, data[: int(len(data) * fraction)], "t" + Path(name).suffix)
    assert "truncated" in message or "not an image" in message


def _png_header(width, height):
    return SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width,height", [(30000, 30000), (9000, 9000)])
def test_bomb_png_rejected_from_header_without_allocating(tmp_path, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(width, height))
    tracemalloc.start()
    with pytest.raises(ValueError, match=rf"bomb.png.*{width}x{height}.*limit of 64000000"):
        read_image(path)
    with pytest.raises(ValueError, match="limit"):
        read_animation(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000


def test_bomb_bmp_through_pillow_is_our_error(tmp_path):
    # 30000 x 30000 x 24-bit BMP header over a few bytes: Pillow raises DecompressionBombError on open
    header = b"BM" + struct.pack("<IHHI", 54 + 16, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0, 0, 0, 0, 0)
    path = tmp_path / "bomb.bmp"
    path.write_bytes(header + b"\0" * 16)
    with pytest.raises(ValueError, match="bomb.bmp.*900000000 pixels.*limit"):
        read_image(path)
    path.write_bytes(header.replace(struct.pack("<ii", 30000, 30000), struct.pack("<ii", 9000, 9000)) + b"\0" * 16)
    with pytest.raises(ValueError, match="9000x9000"):
        read_image(path)


def test_max_pixels_argument(tmp_path):
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "a.png")
    assert read_image(path, max_pixels=10_000).image.size == (100, 100)
    with pytest.raises(ValueError, match="100x100 = 10000 pixels, more than the limit of 9999"):
        read_image(path, max_pixels=9999)
    gif = _save(tmp_path, Image.new("RGB", (100, 100)), "a.gif")
    with pytest.raises(ValueError, match="limit of 9999"):
        read_animation(gif, max_pixels=9999)
