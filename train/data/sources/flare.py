"""Flare (flare-game): animation definitions ``mods/<mod>/animations/**.txt`` over packed atlases (docs/data-sources.md).

A file names its atlas with ``image=`` and holds sections ``[stance]`` with ``frames=``, ``duration=``,
``type=looped|back_forth|play_once`` and ``frame=index,direction,x,y,w,h,ox,oy`` lines. One sequence per
(file, section, direction); rects are pasted on a canvas so that every anchor ``(ox, oy)`` lands on one point.
``back_forth`` is written out as a ping-pong (0 … N−1 … 1). ``avatar/`` (paper-doll layers) and files without
their own ``image=`` (``INCLUDE`` + ``color_mod`` tints of another file) are skipped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, frames_md5, open_rgba

PACKAGE = Package("flare-game", "1.14-1", (
    "./usr/share/games/flare/mods/*/animations/*", "./usr/share/games/flare/mods/*/images/*",
    "./usr/share/doc/flare-game/copyright"), "CC-BY-SA-3.0-or-later")
MODS_DIR = "usr/share/games/flare/mods"
LOOP_TYPES = ("looped", "back_forth")
NON_LOOP = re.compile(r"hit|die|critdie")  # reactions typed "looped" in a few files


def parse_duration_ms(text: str) -> float:
    """``800ms`` → 800, ``3s`` → 3000, a bare number is frames at Flare's 60 ticks per second."""
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2])
    if text.endswith("s"):
        return float(text[:-1]) * 1000.0
    return float(text) * 1000.0 / 60.0


def parse_animation_file(text: str) -> tuple[str | None, list[dict]]:
    """Returns ``(image, sections)``; each section: name, frames, duration_ms, type, rects {(index, dir): 6 ints}."""
    image = None
    sections: list[dict] = []
    cur: dict | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = {"name": line[1:-1], "frames": 0, "duration_ms": 0.0, "type": "play_once", "rects": {},
                   "image": image}
            sections.append(cur)
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "image":
            image = value.split(",")[0]
            if cur is not None:
                cur["image"] = image
        elif cur is None:
            continue
        elif key == "frames":
            cur["frames"] = int(value)
        elif key == "duration":
            cur["duration_ms"] = parse_duration_ms(value)
        elif key == "type":
            cur["type"] = value
        elif key == "frame":
            v = [int(x) for x in value.split(",")]
            cur["rects"][(v[0], v[1])] = tuple(v[2:8])
    return image, sections


def _resolve_image(mods: Path, mod: str, rel: str) -> Path | None:
    for m in [mod] + sorted(p.name for p in mods.iterdir() if p.is_dir() and p.name != mod):
        if (mods / m / rel).is_file():
            return mods / m / rel
    return None


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per (file, section, direction) with ≥ 2 frames, outside ``animations/avatar``."""
    mods = extract_root / MODS_DIR
    if not mods.is_dir():
        raise FileNotFoundError(f"no Flare mods folder at {mods}")
    specs = []
    for txt in sorted(mods.glob("*/animations/**/*.txt")):
        mod = txt.relative_to(mods).parts[0]
        rel = txt.relative_to(mods / mod / "animations").as_posix()
        if rel.startswith("avatar/"):
            continue
        image, sections = parse_animation_file(txt.read_text(errors="replace"))
        if image is None:
            continue
        for sec in sections:
            atlas = _resolve_image(mods, mod, sec["image"]) if sec["image"] else None
            n = sec["frames"]
            if atlas is None or n < 2:
                continue
            character = atlas.relative_to(mods).with_suffix("").as_posix()  # group by atlas
            for d in sorted({d for (_, d) in sec["rects"]}):
                rects = [sec["rects"].get((i, d)) for i in range(n)]
                if any(r is None for r in rects):
                    continue
                anim = f"{txt.stem}.{sec['name']}.d{d}"
                specs.append(SeqSpec(
                    seq=f"flare.{character.replace('/', '.')}#{anim}", source="flare",
                    character=f"flare:{character}", anim=anim,
                    source_path=txt.relative_to(extract_root).as_posix(), files=[str(atlas)],
                    fps=round(n * 1000.0 / sec["duration_ms"], 3) if sec["duration_ms"] > 0 else 10.0,
                    loop=sec["type"] in LOOP_TYPES and not NON_LOOP.match(sec["name"]),
                    params={"rects": rects, "back_forth": sec["type"] == "back_forth"}))
    return specs


@lru_cache(maxsize=4)
def _atlas(path: str) -> np.ndarray:
    # sequences of one atlas arrive together (sorted by seq), and atlases are up to 4 MP: decode each once
    atlas = open_rgba(path)
    atlas.flags.writeable = False
    return atlas


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Crops the rects from the atlas and pastes them anchor-aligned on one canvas (ping-pong for back_forth)."""
    atlas = _atlas(spec.files[0])
    rects = spec.params["rects"]
    left = max(r[4] for r in rects)
    top = max(r[5] for r in rects)
    width = left + max(r[2] - r[4] for r in rects)
    height = top + max(r[3] - r[5] for r in rects)
    frames = []
    for x, y, w, h, ox, oy in rects:
        canvas = np.zeros((height, width, 4), np.uint8)
        crop = atlas[y : y + h, x : x + w]
        canvas[top - oy : top - oy + crop.shape[0], left - ox : left - ox + crop.shape[1]] = crop
        frames.append(clear_transparent(canvas))
    key = frames_md5(frames)
    if spec.params.get("back_forth") and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    return frames, key
