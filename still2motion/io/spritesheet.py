"""Sprite sheets: a PNG grid of frames plus TexturePacker/Aseprite JSON metadata.

The "hash" layout (``frames`` keyed by name, each with ``frame``/``rotated``/``trimmed``/
``spriteSourceSize``/``sourceSize``/``duration``, and a ``meta`` block with ``image``, ``size``,
``format``, ``scale`` and Aseprite-style ``frameTags``) is what Phaser's atlas loader and the common
Godot/Unity TexturePacker importers read. The "array" layout is Aseprite's ``--format json-array``:
the same entries as a list in frame order, each with its ``filename``, and the same ``meta``.
`spritesheet_image` is the one grid both this writer and the Godot writer use.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import validate_frames
from .atomic import atomic_output, check_output_path
from .formats import SHEET_JSON

APP_NAME = "still2motion"
APP_VERSION = "0.1.0"


def spritesheet_layout(num_frames: int, columns: int | None = None) -> tuple[int, int]:
    """Grid ``(columns, rows)``: ``ceil(sqrt(N))`` columns unless given, row-major."""
    if num_frames < 1:
        raise ValueError(f"need at least one frame, got {num_frames}")
    if columns is None:
        columns = math.ceil(math.sqrt(num_frames))
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    columns = min(columns, num_frames)
    return columns, math.ceil(num_frames / columns)


def spritesheet_image(images: Sequence[Image.Image], columns: int | None = None) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Pastes same-size RGBA frames into one transparent grid (row-major, see `spritesheet_layout`).

    Returns:
        ``(sheet, cells)``: the ``"RGBA"`` sheet and each frame's ``(x, y, w, h)`` in it, in frame order.
    """
    cols, rows = spritesheet_layout(len(images), columns)
    w, h = images[0].size
    sheet = Image.new("RGBA", (cols * w, rows * h), (0, 0, 0, 0))
    cells = []
    for i, image in enumerate(images):
        x, y = (i % cols) * w, (i // cols) * h
        sheet.paste(image, (x, y))
        cells.append((x, y, w, h))
    return sheet, cells


def write_spritesheet(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    *,
    columns: int | None = None,
    sheet_json: str = "hash",
) -> Path:
    """Writes ``NAME.png`` (frames in a grid, row-major) and ``NAME.json`` (TexturePacker/Aseprite JSON).

    Frame ``i`` is named ``NAME_{i:04d}.png`` in the JSON, sits at column ``i % columns``, row
    ``i // columns``, and carries its ``duration`` in ms. Both files are written atomically.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms.
        path: the PNG path; the JSON goes next to it with the suffix ``.json``.
        columns: grid columns (default ``ceil(sqrt(N))``).
        sheet_json: ``"hash"`` (``frames`` keyed by name: TexturePacker JSON Hash, Aseprite's default) or
            ``"array"`` (``frames`` as a list in frame order, each with its ``filename``: Aseprite's json-array).

    Returns:
        The PNG path.

    Raises:
        ValueError: bad frames, an unknown ``sheet_json`` or an unwritable path. FileNotFoundError: missing folder.
    """
    if sheet_json not in SHEET_JSON:
        raise ValueError(f"sheet_json must be one of {', '.join(SHEET_JSON)}, got {sheet_json!r}")
    images = [im.convert("RGBA") for im in validate_frames(frames, durations_ms)]
    path = Path(path)
    json_path = path.with_suffix(".json")
    check_output_path(path)
    check_output_path(json_path)
    sheet, cells = spritesheet_image(images, columns)
    entries = {}
    for i, ((x, y, w, h), ms) in enumerate(zip(cells, durations_ms)):
        entries[f"{path.stem}_{i:04d}.png"] = {
            "frame": {"x": x, "y": y, "w": w, "h": h},
            "rotated": False,
            "trimmed": False,
            "spriteSourceSize": {"x": 0, "y": 0, "w": w, "h": h},
            "sourceSize": {"w": w, "h": h},
            "duration": int(ms),
        }
    meta = {
        "app": APP_NAME,
        "version": APP_VERSION,
        "image": path.name,
        "format": "RGBA8888",
        "size": {"w": sheet.width, "h": sheet.height},
        "scale": "1",
        "frameTags": [{"name": path.stem, "from": 0, "to": len(images) - 1, "direction": "forward"}],
    }
    if sheet_json == "array":  # dicts keep insertion order, so the list is in frame order
        entries = [{"filename": name, **entry} for name, entry in entries.items()]
    with atomic_output(path) as tmp_png, atomic_output(json_path) as tmp_json:
        sheet.save(tmp_png, "PNG")
        tmp_json.write_text(json.dumps({"frames": entries, "meta": meta}, indent=2) + "\n")
    return path
