"""Blobby Volley 2 (blobby-data 1.0-3.1): the blob's squash and the ball's spin, from ``gfx.zip``.

``gfx.zip`` holds BMPs: ``gfx/blobbym1..5.bmp`` (75×89, the blob from tall to squashed; the game plays them
1→5→1, so the loop is 1 2 3 4 5 4 3 2) and ``gfx/ball01..16.bmp`` (64×64, one spin). Pure black is the colour
key. The blob is grey on disk (the game tints it per player); it is kept grey. Frame rates are not on disk:
``DEFAULT_FPS`` (assumed).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from .common import Package, SeqSpec, clear_transparent, color_key, frames_md5

PACKAGE = Package("blobby-data", "1.0-3.1", (
    "./usr/share/blobby/gfx.zip", "./usr/share/doc/blobby-data/copyright"),
    "GPL-2.0-or-later")  # copyright: "Files: *  License: GPL-2+" (only src/lua, src/raknet, src/tinyxml apart)
GFX_ZIP = "usr/share/blobby/gfx.zip"
DEFAULT_FPS = 10.0
SEQUENCES = {  # character -> (anim, member names in play order)
    "blob": ("squash", [f"gfx/blobbym{i}.bmp" for i in (1, 2, 3, 4, 5, 4, 3, 2)]),
    "ball": ("spin", [f"gfx/ball{i:02d}.bmp" for i in range(1, 17)]),
}


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """The blob squash and the ball spin, when all their members are in ``gfx.zip``."""
    path = Path(extract_root) / GFX_ZIP
    if not path.is_file():
        raise FileNotFoundError(f"no Blobby Volley gfx.zip at {path}")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    specs = []
    for character, (anim, members) in SEQUENCES.items():
        if not set(members) <= names:
            continue
        specs.append(SeqSpec(
            seq=f"blobby.{character}#{anim}", source="blobby", character=f"blobby:{character}", anim=anim,
            source_path=f"{GFX_ZIP}:{members[0]}", files=[str(path)], fps=DEFAULT_FPS, loop=True,
            params={"members": members}))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Reads the members from the zip, keys out black."""
    frames = []
    with zipfile.ZipFile(spec.files[0]) as z:
        for name in spec.params["members"]:
            with Image.open(io.BytesIO(z.read(name))) as im:
                rgba = np.asarray(im.convert("RGB"))
            rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
            frames.append(clear_transparent(color_key(rgba, (0, 0, 0))))
    if len({f.shape for f in frames}) != 1:
        raise ValueError(f"{spec.source_path}: frames of different sizes {sorted({f.shape for f in frames})}")
    return frames, frames_md5(frames)
