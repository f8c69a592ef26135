"""Hedgewars (hedgewars-data 1.0.2): cartoon hedgehog idles, animated hats, graves and theme flakes. EVALUATION ONLY.

Licence: the package's copyright file gives ``Files: share/hedgewars/Data/Graphics/*`` (and ``Graves/*``, the
Olympics/Cave/Cheese themes) as **GFDL-1.3**, and every other file (the other themes) as **GPL-2** without "or later".
Neither fits GPL-3.0-or-later weights, so ``PACKAGE.training`` is False: its characters go to the unseen-style
evaluation splits only (``build_dataset.split_of``).

Sheets (``Data/``), all vertical strips of square cells read top to bottom, then the next column:
- ``Graphics/Hedgehog/Idle.png``: 32×32 cells, empty cells dropped (19 frames).
- ``Graphics/Hats/*.png`` 64×512: 32×32 cells in sync with the idle; 128×512: the left 64 px are the hat, the right
  64 px its team-colour mask (not drawn); 32×32 and 64×32 hats are stills.
- ``Graphics/Graves/*.png`` 32×256: eight 32×32 frames.
- ``Themes/<theme>/Flake.png``: ``W×W`` cells; frame count = second field of ``flakes = …`` in ``theme.cfg``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, frames_md5, grid_cells, open_rgba

PACKAGE = Package("hedgewars-data", "1.0.2-6", (
    "./usr/share/games/hedgewars/Data/Graphics/Hedgehog/*", "./usr/share/games/hedgewars/Data/Graphics/Hats/*",
    "./usr/share/games/hedgewars/Data/Graphics/Graves/*", "./usr/share/games/hedgewars/Data/Themes/*/Flake.png",
    "./usr/share/games/hedgewars/Data/Themes/*/theme.cfg", "./usr/share/doc/hedgewars-data/copyright"),
    "GFDL-1.3 (Graphics/*, Graves/*) / GPL-2 (other themes)", training=False)

DATA_DIR = "usr/share/games/hedgewars/Data"
FPS = 10.0  # not stored with the art
_FLAKES = re.compile(r"^\s*flakes\s*=\s*(\d+)\s*,\s*(\d+)", re.MULTILINE)


def flake_frames(theme_cfg: str) -> int:
    """The frame count of a theme's flake: the second field of its ``flakes =`` line (1 if absent)."""
    m = _FLAKES.search(theme_cfg)
    return int(m.group(2)) if m else 1


def _spec(extract_root: Path, path: Path, character: str, anim: str, cell: int, crop_width: int,
          max_frames: int) -> SeqSpec:
    name = f"{character.replace('/', '.')}#{anim}"
    return SeqSpec(seq=f"hedgewars.{name}", source="hedgewars", character=f"hedgewars:{character}", anim=anim,
                   source_path=path.relative_to(extract_root).as_posix(), files=[str(path)], fps=FPS, loop=True,
                   params={"cell": cell, "crop_width": crop_width, "max_frames": max_frames})


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """The idle, the animated hats, the animated graves and the multi-frame theme flakes."""
    from PIL import Image

    data = extract_root / DATA_DIR
    if not (data / "Graphics").is_dir():
        raise FileNotFoundError(f"no Hedgewars Graphics folder at {data / 'Graphics'}")
    specs = []
    idle = data / "Graphics/Hedgehog/Idle.png"
    if idle.is_file():
        specs.append(_spec(extract_root, idle, "Hedgehog", "idle", 32, 0, 0))
    for kind in ("Hats", "Graves"):
        for path in sorted((data / "Graphics" / kind).glob("*.png")):
            with Image.open(path) as im:
                w, h = im.size
            if h < 64:  # one cell (+ mask): a still
                continue
            specs.append(_spec(extract_root, path, f"{kind}/{path.stem}", kind.lower()[:-1], 32,
                               64 if w == 128 else w, 0))
    for path in sorted((data / "Themes").glob("*/Flake.png")):
        cfg = path.parent / "theme.cfg"
        n = flake_frames(cfg.read_text(errors="replace")) if cfg.is_file() else 1
        with Image.open(path) as im:
            w, h = im.size
        if n >= 2 and h >= 2 * w:
            specs.append(_spec(extract_root, path, f"Themes/{path.parent.name}", "flake", w, w, n))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Cuts square cells top to bottom, column by column; drops empty cells; keeps ``max_frames`` if set."""
    sheet = open_rgba(spec.files[0])
    if spec.params["crop_width"]:
        sheet = sheet[:, : spec.params["crop_width"]]
    cell = spec.params["cell"]
    frames = [clear_transparent(c) for c in grid_cells(sheet, cell, cell, column_major=True) if c[..., 3].any()]
    if spec.params["max_frames"]:
        frames = frames[: spec.params["max_frames"]]
    if len(frames) < 1:
        raise ValueError(f"no non-empty {cell}px cell in {spec.source_path}")
    return frames, frames_md5(frames)
