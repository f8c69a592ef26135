"""Blob Wars: Metal Blob Solid (blobwars-data 2.00): pixel-art blobs, droids and pickups, black colour key.

``data/mainSprites`` (and the ``SPRITE`` lines of the level files, same syntax) declare explicit frame lists:
``BobRight  0 0 0 gfx/sprites/bobRight1.png 8 gfx/sprites/bobRight2.png 8 … @none@ 0`` = name, three colour
numbers (not applied), then ``file ticks`` pairs at 60 ticks per second until ``@none@``. Pure black is
transparent. Deaths, explosions, smoke, particles and the teleport star are one-shots, and the radar arrows are four directions,
not frames; the rest loop.
Character = the name without its direction and number (``SpiderBlob2Right`` → ``SpiderBlob``); colour variants
with identical frames are dropped as duplicates.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, color_key, frames_md5, open_rgba, pad_centered

PACKAGE = Package("blobwars-data", "2.00-2", (
    "./usr/share/games/blobwars/data/*", "./usr/share/games/blobwars/gfx/sprites/*",
    "./usr/share/doc/blobwars-data/copyright"),
    "GPL-2.0-or-later")  # copyright: "Files: *  License: GPL-2+" (only music and sounds are listed apart)

GAME_DIR = "usr/share/games/blobwars"
TICKS_PER_SECOND = 60.0
NON_LOOP = re.compile(r"death|explosion|smoke|particle|teleportstar|piece|arrow", re.IGNORECASE)  # arrows: 4 directions
_DIRECTION = re.compile(r"(?:Right|Left|Spin|Death)$")


def parse_sprite_line(line: str) -> tuple[str, list[tuple[str, int]]] | None:
    """``Name r g b file ticks … @none@ 0`` (optionally after ``EMH SPRITE``) → ``(name, [(file, ticks)])``."""
    parts = line.split()
    if "SPRITE" in parts[:3]:
        parts = parts[parts.index("SPRITE") + 1 :]
    if len(parts) < 6 or "@none@" not in parts or not all(re.fullmatch(r"-?\d+", t) for t in parts[1:4]):
        return None
    body = parts[4 : parts.index("@none@")]
    if len(body) % 2 or not all(t.isdigit() for t in body[1::2]):
        return None
    return parts[0], [(f, int(t)) for f, t in zip(body[0::2], body[1::2])]


def character_of(name: str) -> str:
    stem = re.sub(r"\d+$", "", name)
    stem = _DIRECTION.sub("", stem)
    return re.sub(r"\d+$", "", stem) or name


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per declared sprite with ≥ 2 frames whose files exist (first declaration of a name wins)."""
    game = extract_root / GAME_DIR
    main = game / "data/mainSprites"
    if not main.is_file():
        raise FileNotFoundError(f"no Blob Wars mainSprites at {main}")
    declared: dict[str, tuple[Path, list[tuple[str, int]]]] = {}
    for path in [main] + sorted(p for p in (game / "data").iterdir() if p.is_file() and p != main):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            parsed = parse_sprite_line(line)
            if parsed is not None and parsed[0] not in declared:
                declared[parsed[0]] = (path, parsed[1])
    specs = []
    for name, (path, frames) in sorted(declared.items()):
        files = [game / f for f, _ in frames]
        if len(files) < 2 or not all(f.is_file() for f in files):
            continue
        ticks = sum(t for _, t in frames) / len(frames)
        character = character_of(name)
        specs.append(SeqSpec(
            seq=f"blobwars.{character}#{name}", source="blobwars", character=f"blobwars:{character}", anim=name,
            source_path=path.relative_to(extract_root).as_posix(), files=[str(f) for f in files],
            fps=round(TICKS_PER_SECOND / ticks, 3) if ticks > 0 else 10.0, loop=not NON_LOOP.search(name)))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Opens the frames, keys out black, pads mixed sizes centred."""
    raw = [color_key(open_rgba(f), (0, 0, 0)) for f in spec.files]
    h = max(f.shape[0] for f in raw)
    w = max(f.shape[1] for f in raw)
    frames = [clear_transparent(pad_centered(f, h, w)) for f in raw]
    return frames, frames_md5(frames)
