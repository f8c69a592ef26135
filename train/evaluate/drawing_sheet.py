"""Contact sheets of the sticker check set: one row per motion (auto, bob, ...), the loop's frames side by side.

    python train/evaluate/drawing_sheet.py --out DIR [--model default] [--names sticker00,sprite_slime] [--rows auto,bob]
                                  [--frames 8] [--seed 0] [--strength 1]

Writes ``DIR/<name>.png`` for each check image (``train/evaluate/sticker_set.py``): on a light checkerboard (so transparency
shows), each row is one motion's loop, frame 0 first; pixel art is enlarged 4x with NEAREST. Drawn by code, so the
sheets hold no third-party art; still, write them outside the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from still2motion import DEFAULT_MODEL, load_model  # noqa: E402
from train.evaluate.sticker_set import check_set  # noqa: E402

_GAP = 4
_LABEL = 60


def checkerboard(size: tuple[int, int], cell: int = 8) -> Image.Image:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    light = ((xs // cell + ys // cell) % 2 == 0)
    grey = np.where(light, 235, 205).astype(np.uint8)
    return Image.fromarray(np.dstack([grey, grey, grey, np.full((h, w), 255, np.uint8)]), "RGBA")


def sheet(rows: dict[str, list[Image.Image]], zoom: int = 1) -> Image.Image:
    """``{label: frames}`` -> one image: a row per label, frames left to right on a checkerboard."""
    w, h = next(iter(rows.values()))[0].size
    w, h = w * zoom, h * zoom
    n = max(len(f) for f in rows.values())
    out = Image.new("RGBA", (_LABEL + n * (w + _GAP), len(rows) * (h + _GAP)), (255, 255, 255, 255))
    draw = ImageDraw.Draw(out)
    for r, (label, frames) in enumerate(rows.items()):
        y = r * (h + _GAP)
        draw.text((4, y + h // 2 - 6), label, fill=(0, 0, 0, 255))
        for i, frame in enumerate(frames):
            tile = checkerboard((w, h))
            big = frame.resize((w, h), Image.NEAREST) if zoom > 1 else frame
            tile.alpha_composite(big.convert("RGBA"))
            out.paste(tile, (_LABEL + i * (w + _GAP), y))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", default="default")
    p.add_argument("--names", default="", help="comma-separated check-image names (default all)")
    p.add_argument("--rows", default="auto,bob")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--strength", type=float, default=1.0)
    args = p.parse_args(argv)
    model = load_model(DEFAULT_MODEL if args.model == "default" else args.model)
    names = {n for n in args.names.split(",") if n}
    args.out.mkdir(parents=True, exist_ok=True)
    for item in check_set():
        if names and item.name not in names:
            continue
        rows = {}
        for motion in args.rows.split(","):
            anim = model.animate(item.image, num_frames=args.frames, seed=args.seed, strength=args.strength,
                                 motion=motion)
            rows[motion] = anim.frames
        zoom = 4 if item.kind == "sprite" else 1
        path = args.out / f"{item.name}.png"
        sheet(rows, zoom).save(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
