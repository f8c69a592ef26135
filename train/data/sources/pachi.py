"""Pachi el marciano (pachi-data 1:1.0-10): the monsters of ``Tgfx/monsters.T8``, round heads, ghosts, eyeballs, blobs.

``.T8`` is the game's own 8-bit image format: the magic ``T-1000``, width and height as big-endian ``uint16``, a
768-byte RGB palette, then ``width · height`` palette indices, row by row. ``monsters.T8`` is 576×1248: a 48-px
grid of 12 columns × 26 rows, 17 rows holding one monster each (the others are empty); pure green (2, 254, 2)
is the colour key.

Each row is checked against its real cycle: when frames 6–11 repeat frames 0–5 exactly or are their mirror image
(the monster facing the other way; the loader's flip already makes that), the loop is frames 0–5; otherwise the
row is taken as the 6-frame half or the whole 12-frame row, whichever closes better (the smaller seam ratio: the
last→first step over the mean step). No frame rate is stored on disk: ``DEFAULT_FPS`` (assumed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, color_key, frames_md5

PACKAGE = Package("pachi-data", "1:1.0-10", (
    "./usr/share/pachi/Tgfx/monsters.T8", "./usr/share/doc/pachi-data/copyright"),
    "GPL-2.0-or-later")  # copyright: "either version 2 of the License, or (at your option) any later version"
MONSTERS = "usr/share/pachi/Tgfx/monsters.T8"
MAGIC = b"T-1000"
CELL = 48
KEY = (2, 254, 2)
DEFAULT_FPS = 10.0


def read_t8(path: str | Path) -> np.ndarray:
    """Reads a ``.T8`` image as RGB ``uint8 (H, W, 3)``.

    Raises:
        ValueError: not a T8 file, or its size does not match its header.
    """
    data = Path(path).read_bytes()
    if data[:6] != MAGIC or len(data) < 10 + 768:
        raise ValueError(f"{path}: not a T8 image (magic {data[:6]!r})")
    w, h = int.from_bytes(data[6:8], "big"), int.from_bytes(data[8:10], "big")
    if len(data) != 10 + 768 + w * h:
        raise ValueError(f"{path}: {len(data)} bytes, expected {10 + 768 + w * h} for {w}x{h}")
    palette = np.frombuffer(data[10:778], np.uint8).reshape(256, 3)
    return palette[np.frombuffer(data[778:], np.uint8).reshape(h, w)]


def row_cells(sheet: np.ndarray, row: int) -> list[np.ndarray]:
    """The 48×48 RGB cells of grid row ``row``."""
    band = sheet[row * CELL : (row + 1) * CELL]
    return [band[:, c * CELL : (c + 1) * CELL] for c in range(sheet.shape[1] // CELL)]


def _seam_ratio(cells: list[np.ndarray]) -> float:
    x = np.stack(cells).astype(np.float32)
    steps = np.abs(np.diff(x, axis=0)).mean()
    return float(np.abs(x[-1] - x[0]).mean() / steps) if steps > 0 else float("inf")


def cycle_of(cells: list[np.ndarray]) -> tuple[list[int], str]:
    """The frames of a row's loop and why: ``([0..5], "repeat" | "mirror" | "half closes better")`` or all 12."""
    if len(cells) != 12:
        return list(range(len(cells))), "whole row"
    half = list(range(6))
    if all(np.array_equal(cells[i + 6], cells[i]) for i in half):
        return half, "repeat"
    if all(np.array_equal(cells[i + 6], cells[i][:, ::-1]) for i in half):
        return half, "mirror"
    if _seam_ratio(cells[:6]) <= _seam_ratio(cells):
        return half, "half closes better"
    return list(range(12)), "whole row closes better"


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One loop per non-empty monster row."""
    path = Path(extract_root) / MONSTERS
    if not path.is_file():
        raise FileNotFoundError(f"no Pachi monsters sheet at {path}")
    sheet = read_t8(path)
    key = (sheet == np.asarray(KEY, np.uint8)).all(axis=-1)
    specs = []
    for row in range(sheet.shape[0] // CELL):
        if key[row * CELL : (row + 1) * CELL].all():
            continue
        frames, why = cycle_of(row_cells(sheet, row))
        name = f"row{row:02d}"
        specs.append(SeqSpec(
            seq=f"pachi.monsters.{name}#fly", source="pachi", character=f"pachi:monsters/{name}", anim="fly",
            source_path=MONSTERS, files=[str(path)], fps=DEFAULT_FPS, loop=True,
            params={"row": row, "frames": frames, "cycle": why}))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Cuts the row's loop frames and keys out the green."""
    cells = row_cells(read_t8(spec.files[0]), int(spec.params["row"]))
    frames = []
    for i in spec.params["frames"]:
        rgba = np.dstack([cells[i], np.full(cells[i].shape[:2], 255, np.uint8)])
        frames.append(clear_transparent(color_key(rgba, KEY)))
    return frames, frames_md5(frames)
