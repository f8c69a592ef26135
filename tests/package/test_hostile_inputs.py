"""One corpus of bad and odd inputs, end to end: through ``model.animate`` and the CLI in-process.

Every case either works (the stated size, 4 frames, frame 0 = the decoded input, transparency kept or not) or fails
with one line naming the file: a ``ValueError``/``FileNotFoundError`` from the library, exit 1 and no traceback from
the CLI, and no output or temp file left behind. Each run is under an alarm, so a hang fails the test.
The reader's own cases (every truncation fraction, modes, bombs) are in test_io_read.py; this file checks that the
entry points pass them through correctly.
"""

from __future__ import annotations

import io
import re
import signal
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from _io_builders import SIG, build_apng, chunk, solid
from conftest import sprite
from still2motion import cli, read_animation, read_image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FRAMES = 4
TIMEOUT_S = 30


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]  # writes the input into a folder, returns its path
    size: tuple[int, int] | None = None  # (w, h) of every output frame; None: the input must be refused
    error: str = ""  # regex the one-line error matches (besides naming the file)
    alpha: bool | None = None  # whether frame 0 has transparent pixels
    animated: bool = False  # the CLI prints a note that only the first frame is used


def _save(name: str, image: Image.Image | None = None, data: bytes | None = None, **kw) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        else:
            image.save(path, **kw)
        return path

    return make


def _noise_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48, 4), dtype=np.uint8), "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _bomb() -> bytes:
    """A 30000 x 30000 RGBA PNG header over a 100-byte stream (3.6 GB if decoded)."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 6, 0, 0, 0))
    return SIG + ihdr + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _apng_bad_sequence() -> bytes:
    """Three frames whose second fcTL carries sequence number 5 instead of 1."""
    data = build_apng(4, 4, [{"pixels": solid(4, 4, (255, 0, 0, 255))}, {"pixels": solid(4, 4, (0, 255, 0, 255))},
                             {"pixels": solid(4, 4, (0, 0, 255, 255))}])
    pos = data.index(b"fcTL", data.index(b"fcTL") + 1) - 4
    body = struct.pack(">I", 5) + data[pos + 12 : pos + 8 + 26]
    return data[:pos] + chunk(b"fcTL", body) + data[pos + 12 + 26 :]


def _palette_with_transparency() -> Image.Image:
    image = Image.fromarray(np.arange(24 * 16, dtype=np.uint8).reshape(16, 24) % 4, "L").convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    image.info["transparency"] = 0
    return image


def _gray_alpha() -> Image.Image:
    gray = np.tile(np.linspace(0, 255, 20, dtype=np.uint8), (12, 1))
    alpha = np.where(np.arange(20) < 10, 0, 255).astype(np.uint8)[None].repeat(12, 0)
    return Image.fromarray(np.stack([gray, alpha], -1), "LA")


def _sixteen_bit() -> Image.Image:
    return Image.fromarray(np.tile(np.linspace(0, 65535, 18).astype(np.uint16), (10, 1)))  # mode I;16


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 40x20, displayed rotated 90 degrees clockwise: 20x40
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


ROBOT_PNG, ROBOT_GIF = (FIXTURES / "robot_walk.png").read_bytes(), (FIXTURES / "robot_walk.gif").read_bytes()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

CASES: dict[str, Case] = {
    "zero_bytes": Case(_save("empty.png", data=b""), error="empty"),
    "random_bytes": Case(_save("noise.png", data=np.random.default_rng(1).bytes(2000)), error="not an image"),
    "svg_named_png": Case(_save("drawing.png", data=SVG), error="not an image"),
    "pdf_named_png": Case(_save("document.png", data=PDF), error="not an image"),
    "missing_path": Case(lambda folder: folder / "nope.png", error="no such file|does not exist"),
    **{f"png_truncated_{f}": Case(_save(f"cut{f}.png", data=_truncated(_noise_png(), f)), error="truncated|not an image")
       for f in (0.05, 0.5, 0.95)},
    **{f"apng_truncated_{f}": Case(_save(f"cut{f}.apng", data=_truncated(ROBOT_PNG, f)), error="truncated|not an image")
       for f in (0.05, 0.5, 0.95)},
    **{f"gif_truncated_{f}": Case(_save(f"cut{f}.gif", data=_truncated(ROBOT_GIF, f)), error="truncated|not an image")
       for f in (0.05, 0.5, 0.95)},
    "apng_bad_fctl_sequence": Case(_save("badseq.png", data=_apng_bad_sequence()), error="sequence number 5, expected 1"),
    "bomb_30000x30000": Case(_save("bomb.png", data=_bomb()), error=r"(30000x30000|900000000 pixels).*limit"),
    "single_frame_gif": Case(_save("one.gif", Image.new("P", (12, 9), 3)), size=(12, 9), alpha=False),
    "one_pixel": Case(_save("dot.png", Image.new("RGBA", (1, 1), (255, 0, 0, 255))), size=(1, 1), alpha=False),
    "wide_4000x2": Case(_save("wide.png", sprite(4000, 2)), size=(4000, 2), alpha=True),
    "tall_2x4000": Case(_save("tall.png", Image.new("RGBA", (2, 4000), (0, 90, 0, 128))), size=(2, 4000), alpha=True),
    "palette_transparency": Case(_save("pal.png", _palette_with_transparency()), size=(24, 16), alpha=True),
    "gray_alpha": Case(_save("la.png", _gray_alpha()), size=(20, 12), alpha=True),
    "sixteen_bit": Case(_save("deep.png", _sixteen_bit()), size=(18, 10), alpha=False),
    "cmyk_jpeg": Case(_save("cmyk.jpg", Image.new("CMYK", (30, 20), (0, 255, 255, 0)), quality=95), size=(30, 20), alpha=False),
    "exif_rotated_jpeg": Case(_save("rotated.jpg", data=_exif_rotated_jpeg()), size=(20, 40), alpha=False),
    "jpeg_named_png": Case(_save("actually_jpeg.png", Image.new("RGB", (16, 8), (9, 9, 200)), format="JPEG"), size=(16, 8), alpha=False),
    "animated_gif": Case(_save("walk.gif", data=ROBOT_GIF), size=(32, 40), alpha=True, animated=True),
    "animated_apng": Case(_save("walk.png", data=ROBOT_PNG), size=(32, 40), alpha=True, animated=True),
}


@pytest.fixture(autouse=True)
def no_hang():
    def expire(signum, frame):
        raise TimeoutError(f"no answer within {TIMEOUT_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TIMEOUT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def folders(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def _check_frames(frames: list[np.ndarray], case: Case, source: Path) -> None:
    assert len(frames) == FRAMES
    assert all(f.shape == (case.size[1], case.size[0], 4) for f in frames)
    np.testing.assert_array_equal(frames[0], np.asarray(read_image(source).image))  # frame 0 is the input
    assert bool((frames[0][..., 3] < 255).any()) == case.alpha


def _one_line_naming(message: str, source: Path, case: Case) -> None:
    assert len(message.strip().splitlines()) == 1 and "Traceback" not in message, message
    assert source.name in message and re.search(case.error, message), message


@pytest.mark.parametrize("name", CASES)
def test_library(name, model, folders):
    case, (inputs, _) = CASES[name], folders
    source = case.make(inputs)
    if case.size is None:
        with pytest.raises((ValueError, FileNotFoundError)) as info:
            model.animate(source, num_frames=FRAMES)
        _one_line_naming(str(info.value), source, case)
    else:
        anim = model.animate(source, num_frames=FRAMES, fps=8)
        _check_frames([np.asarray(f) for f in anim.frames], case, source)
        assert all(f.mode == "RGBA" for f in anim.frames) and sum(anim.durations_ms) == 500


@pytest.mark.parametrize("name", CASES)
def test_cli(name, model_dir, folders, capsys):
    case, (inputs, outputs) = CASES[name], folders
    source = case.make(inputs)
    out = outputs / "result.png"
    code = cli.main(["animate", str(source), "-o", str(out), "--frames", str(FRAMES), "--model", str(model_dir)])
    stdout, err = capsys.readouterr()
    if case.size is None:
        assert code == 1
        _one_line_naming(err, source, case)
        assert list(outputs.iterdir()) == []  # no output, no temp file
    else:
        assert code == 0, err
        _check_frames(read_animation(out).frames, case, source)
        assert [p.name for p in outputs.iterdir()] == ["result.png"]
        assert ("animated" in err and "first frame" in err) == case.animated, err
        assert "Traceback" not in err


@pytest.mark.parametrize("where", ["missing_folder", "under_a_file", "is_a_folder"])
def test_unwritable_output(where, model, model_dir, folders, capsys):
    """Library (``Animation.save``) and CLI: one line naming the output, nothing written anywhere."""
    inputs, outputs = folders
    source = CASES["one_pixel"].make(inputs)
    blocker = outputs / "file.txt"
    blocker.write_text("x")
    target = {"missing_folder": outputs / "missing" / "o.png", "under_a_file": blocker / "o.png", "is_a_folder": outputs / "dir.png"}[where]
    if where == "is_a_folder":
        target.mkdir()
    before = sorted(p.relative_to(outputs) for p in outputs.rglob("*"))
    anim = model.animate(source, num_frames=FRAMES)
    with pytest.raises((ValueError, FileNotFoundError), match=re.escape(target.name)):
        anim.save(target)
    code = cli.main(["animate", str(source), "-o", str(target), "--frames", str(FRAMES), "--model", str(model_dir)])
    _, err = capsys.readouterr()
    assert code == 1 and len(err.strip().splitlines()) == 1 and target.name in err and "Traceback" not in err
    assert sorted(p.relative_to(outputs) for p in outputs.rglob("*")) == before
