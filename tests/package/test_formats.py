"""The format table (``io/formats.py``): every row has a working writer, every writer has a row, and the CLI, the app
and ``Animation.save`` all read it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import still2motion.io as sio
from still2motion import cli
from still2motion.io import FORMATS, Animation, durations_for

IO_DIR = Path(sio.__file__).parent
NOT_WRITERS = {"write_bytes_atomic"}  # helpers named write_* that are not a format's writer
MAGIC = {"image/apng": b"\x89PNG", "image/png": b"\x89PNG", "image/gif": b"GIF89a", "image/webp": b"RIFF",
         "video/webm": b"\x1a\x45\xdf\xa3"}  # WebM: the EBML header


def _public_writers() -> set[str]:
    """``module:function`` for every top-level ``write_*`` function in still2motion/io, read without importing."""
    found = set()
    for path in IO_DIR.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("write_") and node.name not in NOT_WRITERS:
                found.add(f"{path.stem}:{node.name}")
    return found


def test_every_row_has_a_writer_that_takes_its_arguments():
    for row in FORMATS.values():
        write = row.write_function()
        params = inspect.signature(write).parameters
        for name in (*row.options, *row.context, *row.fixed):
            assert name in params, f"{row.name}: writer {row.writer} does not take {name!r}"
        assert row.extensions and all(ext.startswith(".") for ext in row.extensions), row.name
        assert set(row.options) <= set(sio.OPTIONS), f"{row.name}: an option without an io.OPTIONS entry"


def test_every_writer_module_has_a_row():
    rows = {row.writer for row in FORMATS.values()}
    assert _public_writers() - rows == set(), "a writer without a row in io/formats.py"


def test_cli_and_app_read_the_table():
    parser = cli.build_parser()
    animate = next(a for a in parser._subparsers._group_actions[0].choices["animate"]._actions if a.dest == "format")
    assert tuple(animate.choices) == tuple(FORMATS)
    source = (Path(__file__).resolve().parents[2] / "app.py").read_text()
    assert "FORMAT_CHOICES = [(f.label, f.name) for f in io.FORMATS.values()]" in source


@pytest.mark.parametrize("name", list(FORMATS))
def test_save_writes_every_row(name, tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(6):
        a = np.zeros((20, 24, 4), np.uint8)
        a[4:16, 4 + i : 14 + i] = (*rng.integers(0, 255, 3), 255)  # a moving square on a transparent background
        frames.append(a)
    from PIL import Image

    anim = Animation([Image.fromarray(f, "RGBA") for f in frames], durations_for(6, 6.0), 6.0)
    row = FORMATS[name]
    written = anim.save(tmp_path / f"out{row.suffix}", format=name)
    assert written.read_bytes().startswith(MAGIC.get(row.mime, b""))
    for suffix in row.companions:
        assert written.with_suffix(suffix).is_file()
    with pytest.raises(ValueError, match=f"the {name} format does not take bogus"):
        anim.save(tmp_path / f"x{row.suffix}", format=name, bogus=1)


def test_extensions_choose_their_row():
    for ext, name in sio.EXTENSIONS.items():
        assert sio.format_from_path(f"a{ext.upper()}") == name and ext in FORMATS[name].extensions
    assert sio.render_size("line", 66, 91) == sio.line_size(66, 91)


def test_gif_dithering_is_an_option(tmp_path):
    """``dither`` reaches the GIF writer: on a gradient of 4096 colours (> 256), dithering changes the pixels."""
    y, x = np.mgrid[:32, :64]
    grad = np.zeros((32, 64, 4), np.uint8)
    grad[..., 0], grad[..., 1], grad[..., 2], grad[..., 3] = x * 4, y * 8, (x * y) % 256, 255
    from PIL import Image

    frames = [Image.fromarray(np.roll(grad, i, axis=1), "RGBA") for i in range(4)]
    anim = Animation(frames, durations_for(4, 8.0), 8.0)
    flat, dithered = (anim.save(tmp_path / f"d{d}.gif", dither=d) for d in (0.0, 1.0))
    a, b = (sio.read_animation(p).frames[1] for p in (flat, dithered))
    assert a.shape == b.shape == (32, 64, 4) and not np.array_equal(a, b)
