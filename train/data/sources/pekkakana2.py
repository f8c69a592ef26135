"""Pekka Kana 2 (pekka-kana-2-data 1.2.7-1): cartoon hens, pigs, frogs, bunnies; **evaluation only**.

Held out like SuperTux (``PACKAGE.training = False`` although BSD-2-Clause would fit the weights): the second
unseen-style source, squat cartoon characters no training source draws; its characters go to unseen-val /
unseen-test by ``sha1 % 2``.

``data/sprites/*.spr`` (format ``1.3``: the 4-byte version, then the engine's little-endian struct) name an 8-bit
BMP sheet, a frame rectangle and up to 20 animations of up to 10 one-based frame numbers with a loop flag. Frame
``i`` is cut at ``x + i (w + 3)`` (wrapping to the next band, ``y += h + 3``, when it would pass x = 640);
palette index 255 is transparent; a sprite with a colour (``vari`` ≠ 255) maps every other index ``c`` to
``c % 32 + vari``, as the engine does. Files of older formats (1.0–1.2) are skipped.

Loops: an animation flagged looping, or one that starts and ends on the same frame (the blink idles
``[1, 1, 1, 1, 1, 2, 1]`` are flagged not-looping but close; the closing repeat is dropped), with ≥ 2 distinct
frames; damage (5) and death (6) never. Character = the first sprite (by file name) drawing the same frames
(sheet + rectangle), without trailing digits: ``frog1``…``frog5`` are one frog, ``rooster`` and ``r_naked`` two.
fps = ``60 / frame_rate`` (frame_rate = engine ticks per frame, at the engine's assumed 60 ticks a second).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .common import Package, SeqSpec, frames_md5

PACKAGE = Package("pekka-kana-2-data", "1.2.7-1", (
    "./usr/share/games/pekka-kana-2/data/sprites/*", "./usr/share/doc/pekka-kana-2-data/copyright"),
    "BSD-2-Clause", training=False)  # copyright: "Files: *  License: BSD-2-Clause"; evaluation only by design
SPRITES_DIR = "usr/share/games/pekka-kana-2/data/sprites"
VERSION = b"1.3\0"
RECORD_SIZE = 1672  # the 1.3 struct after the version
TRANSPARENT = 255
GAP = 3
SHEET_WIDTH = 640
TICKS_PER_SECOND = 60.0
ANIM_NAMES = ("idle", "walk", "jump_up", "jump_down", "crouch", "damage", "death", "attack1", "attack2")
NEVER_LOOP = {5, 6}


@dataclass
class Sprite:
    """The fields of a ``.spr`` 1.3 record this parser uses."""

    image: str
    n_frames: int
    animations: list[tuple[int, list[int], bool]]  # (slot, one-based frames, loop flag)
    frame_rate: int
    rect: tuple[int, int, int, int]  # x, y, w, h of frame 1
    name: str
    color: int


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1")


def parse_spr(data: bytes) -> Sprite:
    """Parses a ``.spr`` 1.3 file.

    Raises:
        ValueError: another version, or too short.
    """
    if data[:4] != VERSION:
        raise ValueError(f"sprite version {data[:4]!r}, only {VERSION!r} is read")
    p = data[4:]
    if len(p) < RECORD_SIZE:
        raise ValueError(f"sprite record of {len(p)} bytes, expected {RECORD_SIZE}")
    animations = []
    for slot in range(20):
        o = 833 + 12 * slot
        count = min(p[o + 10], 10)
        if count:
            animations.append((slot, list(p[o : o + count]), bool(p[o + 11])))
    x, y, w, h = struct.unpack_from("<4I", p, 1076)
    return Sprite(image=_cstr(p[4:104]), n_frames=p[832], animations=animations, frame_rate=p[1074],
                  rect=(x, y, w, h), name=_cstr(p[1096:1126]), color=p[1220])


def frame_rects(sprite: Sprite) -> list[tuple[int, int, int, int]]:
    """``(x, y, w, h)`` of every frame, laid out as the engine cuts them."""
    x0, y, w, h = sprite.rect
    x, rects = x0, []
    for _ in range(sprite.n_frames):
        if x + w > SHEET_WIDTH:
            y += h + GAP
            x = x0
        rects.append((x, y, w, h))
        x += w + GAP
    return rects


def loop_frames(slot: int, frames: list[int], flag: bool) -> list[int] | None:
    """The frames of a loop (closing repeat dropped), or None when the animation is not one."""
    if slot in NEVER_LOOP or slot >= len(ANIM_NAMES) or len(set(frames)) < 2:
        return None
    closed = frames[0] == frames[-1]
    if not (flag or closed):
        return None
    return frames[:-1] if closed else frames


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per looping animation of every 1.3 sprite whose sheet exists."""
    folder = Path(extract_root) / SPRITES_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"no Pekka Kana 2 sprites folder at {folder}")
    sprites = {}
    for path in sorted(folder.glob("*.spr")):
        try:
            sprites[path] = parse_spr(path.read_bytes())
        except ValueError:
            continue
    owner: dict[tuple, str] = {}  # (sheet, rect) -> character
    specs = []
    for path, spr in sprites.items():
        sheet = folder / spr.image
        if not sheet.is_file() or spr.n_frames < 2:
            continue
        character = owner.setdefault((spr.image.lower(), spr.rect), re.sub(r"\d+$", "", path.stem) or path.stem)
        rects = frame_rects(spr)
        for slot, frames, flag in spr.animations:
            keep = loop_frames(slot, frames, flag)
            if keep is None or max(keep) > len(rects) or min(keep) < 1:
                continue
            anim = f"{path.stem}.{ANIM_NAMES[slot]}"
            specs.append(SeqSpec(
                seq=f"pekkakana2.{character}#{anim}", source="pekkakana2", character=f"pekkakana2:{character}",
                anim=anim, source_path=path.relative_to(extract_root).as_posix(), files=[str(sheet)],
                fps=round(TICKS_PER_SECOND / max(spr.frame_rate, 1), 3), loop=True,
                params={"rects": [rects[i - 1] for i in keep], "color": spr.color}))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Cuts the frames from the 8-bit sheet; index 255 transparent, the sprite's colour applied."""
    with Image.open(spec.files[0]) as im:
        if im.mode != "P":
            raise ValueError(f"{spec.files[0]}: mode {im.mode}, expected an 8-bit palette BMP")
        index = np.asarray(im).copy()
        palette = np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)
    palette = np.vstack([palette, np.zeros((256 - len(palette), 3), np.uint8)])
    color = int(spec.params["color"])
    frames = []
    for x, y, w, h in spec.params["rects"]:
        if y + h > index.shape[0] or x + w > index.shape[1]:
            raise ValueError(f"frame ({x}, {y}, {w}, {h}) outside the {index.shape[1]}x{index.shape[0]} sheet")
        cell = index[y : y + h, x : x + w].astype(np.int32)
        opaque = cell != TRANSPARENT
        if color != TRANSPARENT:
            cell = np.where(opaque, cell % 32 + color, cell).clip(0, 255)
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[..., :3] = palette[cell]
        rgba[..., 3] = np.where(opaque, 255, 0)
        rgba[~opaque, :3] = 0
        frames.append(rgba)
    return frames, frames_md5(frames)
