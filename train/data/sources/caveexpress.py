"""CaveExpress (caveexpress-data 2.5.2): painterly hand-drawn cave creatures, CC-BY-SA-4.0 art.

``textures/complete.lua`` holds two atlases (``texturesbig``, ``texturessmall``; the big one is read) of entries
``["npc-mammut-idle-DIR-middle-03"] = { image = "caveexpress-npc_mammut-big", x0 = …, y0 = …, x1 = …, y1 = …,
trimmedoffsetx, trimmedoffsety, trimmedwidth, trimmedheight, untrimmedwidth, untrimmedheight }``: ``x0``/``y0`` are
the normalised corner in ``pics/<image>.png`` and ``x1``/``y1`` normalised **sizes**; the trimmed crop goes back at
its offset on the untrimmed canvas. Names are ``<sprite>-<back|middle|front>-NN``: the layers of one frame are drawn
back to front. ``DIR`` sprites are drawn mirrored for the other direction (our flip augmentation), so one is kept.
``sprites.lua`` gives ``fps``. Idles, flaps, swims, walks and spins loop; wakeup, dazed, falling, knockout, attack,
turn and crashed do not. Character = the creature or object (``npc-mammut``, ``tile-geyser-rock-01``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from .common import Package, SeqSpec, frames_md5, open_rgba, paste_at

PACKAGE = Package("caveexpress-data", "2.5.2-1", (
    "./usr/share/games/caveexpress/textures/*", "./usr/share/games/caveexpress/pics/*",
    "./usr/share/games/caveexpress/sprites.lua", "./usr/share/doc/caveexpress-data/copyright"),
    "CC-BY-SA-4.0")  # copyright: "Files: *.png … License: CC-BY-SA-4.0" (GPLv3-compatible one way, per CC)

GAME_DIR = "usr/share/games/caveexpress"
LAYERS = ("back", "middle", "front")
NON_LOOP = re.compile(r"dazed|wakeup|falling|knockout|attack|turn|crash")
_ENTRY = re.compile(r'\["([^"]+)"\]\s*=\s*\{([^{}]*)\}')
_FIELD = re.compile(r'(\w+)\s*=\s*("[^"]*"|-?[\d.]+)')
_NAME = re.compile(r"^(?P<sprite>.+)-(?P<layer>back|middle|front)-(?P<idx>\d+)$")


def parse_atlas(text: str, table: str = "texturesbig") -> dict[str, dict]:
    """The entries of one table of ``complete.lua``: ``{name: {field: str | float}}``."""
    start = text.find(f"{table} = {{")
    if start < 0:
        raise ValueError(f"no table {table!r} in the atlas")
    end = text.find("\n}", start)
    out = {}
    for m in _ENTRY.finditer(text, start, end if end > 0 else len(text)):
        fields = {k: (v.strip('"') if v.startswith('"') else float(v)) for k, v in _FIELD.findall(m.group(2))}
        out[m.group(1)] = fields
    return out


def sprite_fps(text: str) -> dict[str, float]:
    """``fps = N`` of each ``["sprite"] = {…}`` block in ``sprites.lua``."""
    fps = {}
    blocks = list(re.finditer(r'\["([^"]+)"\s*\]\s*=\s*\{', text))
    for b, nxt in zip(blocks, blocks[1:] + [None]):
        body = text[b.end() : nxt.start() if nxt else len(text)]
        if m := re.search(r"\bfps\s*=\s*([\d.]+)", body):
            fps[b.group(1)] = float(m.group(1))
    return fps


def character_of(sprite: str) -> str:
    tokens = [t for t in sprite.split("-") if t not in ("DIR", "left", "right")]
    for i, t in enumerate(tokens):
        if t.isdigit():
            return "-".join(tokens[: i + 1])
    if tokens[0] in ("npc", "item", "player"):
        return "-".join(tokens[:2])
    return "-".join(tokens[:3]) if tokens[0] == "ui" else tokens[0]


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per sprite with ≥ 2 frames (layers composited per frame)."""
    game = extract_root / GAME_DIR
    lua = game / "textures/complete.lua"
    if not lua.is_file():
        raise FileNotFoundError(f"no CaveExpress atlas at {lua}")
    atlas = parse_atlas(lua.read_text(errors="replace"))
    fps_file = game / "sprites.lua"
    fps = sprite_fps(fps_file.read_text(errors="replace")) if fps_file.is_file() else {}
    sprites: dict[str, dict[int, dict[str, dict]]] = {}
    for name, entry in atlas.items():
        if (m := _NAME.match(name)) is not None:
            sprites.setdefault(m["sprite"], {}).setdefault(int(m["idx"]), {})[m["layer"]] = entry
    specs = []
    for sprite, frames in sorted(sprites.items()):
        if len(frames) < 2:
            continue
        pieces = []
        for idx in sorted(frames):
            layers = []
            for layer in LAYERS:
                if (e := frames[idx].get(layer)) is not None:
                    layers.append((str(game / "pics" / f"{e['image']}.png"), e["x0"], e["y0"],
                                   int(e["trimmedwidth"]), int(e["trimmedheight"]), int(e["trimmedoffsetx"]),
                                   int(e["trimmedoffsety"]), int(e["untrimmedwidth"]), int(e["untrimmedheight"])))
            pieces.append(layers)
        character = character_of(sprite)
        specs.append(SeqSpec(
            seq=f"caveexpress.{character}#{sprite}", source="caveexpress", character=f"caveexpress:{character}",
            anim=sprite, source_path=lua.relative_to(extract_root).as_posix(),
            files=sorted({p[0] for layers in pieces for p in layers}),
            fps=fps.get(sprite.replace("DIR", "left"), fps.get(sprite, 10.0)),
            loop=not NON_LOOP.search(sprite), params={"pieces": pieces}))
    return specs


@lru_cache(maxsize=2)
def _page(path: str) -> np.ndarray:
    page = open_rgba(path)
    page.flags.writeable = False
    return page


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Crops every layer, puts it back on its untrimmed canvas and draws the layers back to front."""
    frames = []
    for layers in spec.params["pieces"]:
        canvas = None
        for path, x0, y0, w, h, ox, oy, uw, uh in layers:
            page = _page(path)
            x, y = round(x0 * page.shape[1]), round(y0 * page.shape[0])
            crop = page[y : y + h, x : x + w]
            if crop.shape[:2] != (h, w):
                raise ValueError(f"rect {x},{y},{w},{h} is outside {Path(path).name}")
            layer = np.zeros((max(uh, oy + h), max(uw, ox + w), 4), np.uint8)
            layer[oy : oy + h, ox : ox + w] = crop
            if canvas is None:
                canvas = Image.fromarray(layer, "RGBA")
            else:
                if canvas.size != (layer.shape[1], layer.shape[0]):
                    raise ValueError(f"layers of one frame differ in size in {spec.seq}")
                canvas.alpha_composite(Image.fromarray(layer, "RGBA"))
        frames.append(np.asarray(canvas).copy())
    frames = paste_at(frames, [(0, 0)] * len(frames))  # one canvas even if untrimmed sizes differ
    return frames, frames_md5(frames)
