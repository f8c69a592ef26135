"""FreedroidRPG (freedroidrpg-data 1.0): pre-rendered 3D robots and people, one texture atlas per droid model.

``graphics/droids/<model>/atlas.txt`` lists the pages (``* harvester_1.png size 2048 2048``) and, below each, one line
per frame: ``enemy_rot_03_walk-02.png 102 0 51 88 off -23 -77`` = name, rect ``x y w h`` in the page, and the offset
at which the engine draws the crop's top-left corner relative to the droid's position. One sequence per
(model, direction ``rot_DD``, animation); every crop goes on one shared canvas at its offset, so the droid stays put.
``walk`` and ``stand`` loop; ``attack``, ``gethit`` and ``death`` are one-shots. Character = model (all directions
of a model in one split). ``tux_motion_parts/`` (paper-doll layers of the player) is not read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, frames_md5, open_rgba, paste_at

PACKAGE = Package("freedroidrpg-data", "1.0-1", (
    "./usr/share/freedroidrpg/data/graphics/droids/*", "./usr/share/doc/freedroidrpg-data/copyright"),
    "GPL-2.0-or-later")  # copyright: "Files: *  License: GPL-2+"

DROIDS_DIR = "usr/share/freedroidrpg/data/graphics/droids"
LOOP_ANIMS = ("walk", "stand")
DEFAULT_FPS = 10.0  # the engine's droid animation speed is per archetype (droid_archetypes.dat, not shipped here)
_FRAME = re.compile(r"^(?P<kind>[a-z]+)_rot_(?P<rot>\d+)_(?P<anim>[a-z]+)-(?P<idx>\d+)\.png$")


def parse_atlas(text: str) -> list[dict]:
    """``atlas.txt`` → ``[{"page", "name", "rect": (x, y, w, h), "off": (ox, oy)}]`` in file order."""
    page, entries = None, []
    for raw in text.splitlines():
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == "*":
            page = parts[1]
            continue
        if len(parts) != 8 or parts[5] != "off" or page is None:
            raise ValueError(f"bad atlas line {raw.strip()!r}")
        x, y, w, h, ox, oy = (int(v) for v in parts[1:5] + parts[6:8])
        entries.append({"page": page, "name": parts[0], "rect": (x, y, w, h), "off": (ox, oy)})
    return entries


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per (model, direction, animation) with ≥ 2 frames."""
    droids = extract_root / DROIDS_DIR
    if not droids.is_dir():
        raise FileNotFoundError(f"no FreedroidRPG droids folder at {droids}")
    specs = []
    for atlas in sorted(droids.glob("*/atlas.txt")):
        model = atlas.parent.name
        groups: dict[tuple[str, str], dict[int, dict]] = {}
        for entry in parse_atlas(atlas.read_text(errors="replace")):
            m = _FRAME.match(entry["name"])
            if m is None:
                continue
            groups.setdefault((m["rot"], m["anim"]), {})[int(m["idx"])] = entry
        for (rot, anim), frames in sorted(groups.items()):
            if len(frames) < 2:
                continue
            order = [frames[i] for i in sorted(frames)]
            name = f"rot_{rot}_{anim}"
            specs.append(SeqSpec(
                seq=f"freedroidrpg.{model}#{name}", source="freedroidrpg", character=f"freedroidrpg:{model}",
                anim=name, source_path=atlas.relative_to(extract_root).as_posix(),
                files=sorted({str(atlas.parent / e["page"]) for e in order}), fps=DEFAULT_FPS,
                loop=anim in LOOP_ANIMS,
                params={"frames": [(e["page"], *e["rect"], *e["off"]) for e in order]}))
    return specs


@lru_cache(maxsize=2)
def _page(path: str) -> np.ndarray:
    page = open_rgba(path)  # 2048² pages: decode each once per worker
    page.flags.writeable = False
    return page


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Crops each frame from its page and pastes it at its draw offset on one canvas."""
    folder = Path(spec.files[0]).parent
    crops, corners = [], []
    for page, x, y, w, h, ox, oy in spec.params["frames"]:
        crop = _page(str(folder / page))[y : y + h, x : x + w]
        if crop.shape[:2] != (h, w):
            raise ValueError(f"rect {x},{y},{w},{h} is outside {page}")
        crops.append(crop)
        corners.append((ox, oy))
    frames = paste_at(crops, corners)
    return frames, frames_md5(frames)
