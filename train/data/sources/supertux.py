"""SuperTux (supertux-data 0.6.3): hi-res cartoon sprites, ``images/**/<name>.sprite`` S-expressions over frame PNGs.

A sprite file reads ``(supertux-sprite (action (name "left") (fps 14) (hitbox 5 8 32 32) (images "a-0.png" …)) …)``;
image paths are relative to the .sprite file; ``(loops 1)`` marks a one-shot (default: loop forever); fps defaults
to 10. ``mirror-action`` (a horizontal flip: our augmentation) and ``clone-action`` (the same frames again) are
skipped. Every frame of an action is drawn at one top-left corner (the hitbox offset), so frames of mixed sizes are
padded right/bottom. SuperTux art has no team colours.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, frames_md5, open_rgba

PACKAGE = Package("supertux-data", "0.6.3-2", tuple(
    f"./usr/share/games/supertux2/images/{d}/*" for d in ("creatures", "objects", "powerups", "worldmap", "particles")) + (
    "./usr/share/doc/supertux-data/copyright",), "GPL-3.0-or-later")
IMAGES_DIR = "usr/share/games/supertux2/images"
DEFAULT_FPS = 10.0
NON_LOOP = re.compile(r"squish|melt|die|dead|death|explo|break|broke|shatter|gameover|hurt|fall|jump|land|spawn|"
                      r"burn|kill|crush|grow|shrink|open|close|appear|vanish|dying|wak|extinguish|swallow|recover|"
                      r"pop|fade|load|swivel|charg|peek|throw|shoot|stun")
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\()|(\))|([^\s()";]+)|;[^\n]*')


def parse_sexp(text: str) -> list:
    """Parses S-expressions into nested lists: strings stay ``str``, atoms ``str`` too (numbers as text)."""
    stack: list[list] = [[]]
    for m in _TOKEN.finditer(text):
        string, opening, closing, atom = m.groups()
        if opening:
            stack.append([])
        elif closing:
            if len(stack) == 1:
                raise ValueError("unbalanced ')' in sprite file")
            done = stack.pop()
            stack[-1].append(done)
        elif string is not None:
            stack[-1].append(string)
        elif atom is not None:
            stack[-1].append(atom)
    if len(stack) != 1:
        raise ValueError("unbalanced '(' in sprite file")
    return stack[0]


def sprite_actions(text: str) -> list[dict]:
    """The actions of one ``.sprite`` file: ``[{"name", "fps", "loops", "images", "mirror", "clone"}]``."""
    actions = []
    for top in parse_sexp(text):
        if not (isinstance(top, list) and top and top[0] == "supertux-sprite"):
            continue
        for item in top[1:]:
            if not (isinstance(item, list) and item and item[0] == "action"):
                continue
            fields = {entry[0]: entry[1:] for entry in item[1:] if isinstance(entry, list) and entry}
            actions.append({
                "name": fields.get("name", ["default"])[0],
                "fps": float(fields["fps"][0]) if "fps" in fields else DEFAULT_FPS,
                "loops": int(float(fields["loops"][0])) if "loops" in fields else -1,
                "images": [x for x in fields.get("images", []) if isinstance(x, str)],
                "mirror": "mirror-action" in fields, "clone": "clone-action" in fields})
    return actions


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per action with ≥ 2 image files (mirror/clone actions skipped)."""
    images = extract_root / IMAGES_DIR
    if not images.is_dir():
        raise FileNotFoundError(f"no SuperTux images folder at {images}")
    specs = []
    for sprite in sorted(images.rglob("*.sprite")):
        folder = sprite.parent.relative_to(images).as_posix()
        try:
            actions = sprite_actions(sprite.read_text(errors="replace"))
        except ValueError:
            continue
        for act in actions:
            if act["mirror"] or act["clone"] or len(act["images"]) < 2:
                continue
            files = [sprite.parent / name for name in act["images"]]
            if not all(f.is_file() for f in files):
                continue
            anim = f"{sprite.stem}.{act['name']}"
            specs.append(SeqSpec(
                seq=f"supertux.{folder.replace('/', '.')}#{anim}", source="supertux", character=f"supertux:{folder}",
                anim=anim, source_path=sprite.relative_to(extract_root).as_posix(),
                files=[str(f.resolve()) for f in files], fps=act["fps"],
                loop=act["loops"] != 1 and not NON_LOOP.search(act["name"])))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Opens the frames and pads them right/bottom to the largest (all are drawn at one top-left corner)."""
    raw = [open_rgba(f) for f in spec.files]
    h = max(f.shape[0] for f in raw)
    w = max(f.shape[1] for f in raw)
    frames = []
    for f in raw:
        canvas = np.zeros((h, w, 4), np.uint8)
        canvas[: f.shape[0], : f.shape[1]] = f
        frames.append(clear_transparent(canvas))
    return frames, frames_md5(frames)
