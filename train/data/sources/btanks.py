"""Battle Tanks (btanks-data 0.9.8083): top-down pre-rendered vehicles, soldiers and props.

``data/resources.xml`` has ``<animation-model id speed>`` blocks of ``<pose id [speed]>1,2,3,2</pose>`` (frame order)
and ``<animation id tile model [size | tile_width tile_height]>`` lines binding a sheet in ``data/tiles/`` to a model.
Cells are 64 px (the root's ``tile_width``/``tile_height``) unless ``size=`` or ``tile_width=`` say otherwise.
A sheet whose rows cover every frame index a model uses is directional: columns are directions, rows frame
indices (one sequence per column); otherwise frames run row by row through the whole sheet (one sequence).
``walk run move burn main thinking`` loop; ``fade-in fade-out dead fire throw`` (and the rest) do not.
Many animations are colour variants of one sheet layout (``green-tank``, ``red-tank``…): the first of each
(model, id without colour words) is kept. Character = that colourless id.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, frames_md5, open_rgba

PACKAGE = Package("btanks-data", "0.9.8083-9", (
    "./usr/share/games/btanks/data/resources.xml", "./usr/share/games/btanks/data/tiles/*",
    "./usr/share/doc/btanks-data/copyright"),
    # copyright, Files: *: "distributed in accordance with the terms and conditions of the GNU GPL with the following
    # interpretation and a specific Exception" -- no version is named (GPL-2 section 9: any version may be chosen);
    # the Exception only lets Netive Company combine the game with non-free content.
    "GPL (no version named; GPL-2 9) with the Battle-Tanks exception")

DATA_DIR = "usr/share/games/btanks/data"
LOOP_POSES = ("walk", "run", "move", "burn", "main", "thinking")
_COLOURS = re.compile(r"(?:^|-)(?:green|red|yellow|blue)(?=-|$)")


def parse_resources(text: str) -> tuple[dict[str, dict], list[dict]]:
    """``resources.xml`` → ``(models, animations)``; a model: ``{"speed", "poses": {id: (frames, speed)}}``."""
    root = ET.fromstring(text)
    cell_w = int(root.get("tile_width", 64))
    cell_h = int(root.get("tile_height", 64))
    models = {}
    for m in root.iter("animation-model"):
        speed = float(m.get("speed", 10))
        poses = {}
        for pose in m.iter("pose"):
            frames = [int(v) for v in (pose.text or "").replace(" ", "").split(",") if v.strip().isdigit()]
            poses[pose.get("id")] = (frames, float(pose.get("speed", speed)))
        models[m.get("id")] = {"speed": speed, "poses": poses}
    animations = []
    for a in root.iter("animation"):
        size = a.get("size")
        w = int(size) if size else int(a.get("tile_width", cell_w))
        h = int(size) if size else int(a.get("tile_height", cell_h))
        animations.append({"id": a.get("id"), "tile": a.get("tile"), "model": a.get("model"), "cell": (w, h)})
    return models, animations


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per (kept animation, pose with ≥ 2 frames, direction)."""
    from PIL import Image

    data = extract_root / DATA_DIR
    xml = data / "resources.xml"
    if not xml.is_file():
        raise FileNotFoundError(f"no btanks resources.xml at {xml}")
    models, animations = parse_resources(xml.read_text(errors="replace"))
    seen: set[tuple[str, str]] = set()
    specs = []
    for anim in animations:
        model = models.get(anim["model"])
        tile = (data / "tiles" / anim["tile"]) if anim["tile"] else None
        if model is None or tile is None or not tile.is_file():
            continue
        character = _COLOURS.sub("", anim["id"]).strip("-") or anim["id"]
        if (anim["model"], character) in seen:
            continue
        seen.add((anim["model"], character))
        with Image.open(tile) as im:
            sw, sh = im.size
        cw, ch = anim["cell"]
        cols, rows = sw // cw, sh // ch
        for pose, (order, speed) in sorted(model["poses"].items()):
            if len(order) < 2 or not order:
                continue
            directional = max(order) < rows
            if not directional and max(order) >= cols * rows:
                continue
            for d in range(cols if directional else 1):
                cells = [(d, i) for i in order] if directional else [(i % cols, i // cols) for i in order]
                name = f"{pose}.d{d}" if directional and cols > 1 else pose
                specs.append(SeqSpec(
                    seq=f"btanks.{character}#{name}", source="btanks", character=f"btanks:{character}",
                    anim=name, source_path=tile.relative_to(extract_root).as_posix(), files=[str(tile)],
                    fps=speed, loop=pose in LOOP_POSES, params={"cell": [cw, ch], "cells": cells}))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Cuts the listed ``(column, row)`` cells in pose order."""
    sheet = open_rgba(spec.files[0])
    cw, ch = spec.params["cell"]
    frames = []
    for c, r in spec.params["cells"]:
        cell = sheet[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw]
        if cell.shape[:2] != (ch, cw):
            raise ValueError(f"cell ({c}, {r}) is outside {spec.source_path}")
        frames.append(clear_transparent(cell))
    return frames, frames_md5(frames)
