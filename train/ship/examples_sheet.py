"""The README's picture of a model on the CC0 example images: one row per image, its first ``--frames`` frames.

    python train/ship/examples_sheet.py --model still2motion/default_model --output docs/examples_default_model.png

Each image is animated with ``model.animate(image, num_frames=--frames, seed=--seed)`` (default settings otherwise)
and its frames are upscaled ``--scale`` times with NEAREST on white, so what the sheet shows is what the CLI writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from PIL import Image  # noqa: E402

from still2motion import DEFAULT_MODEL, load_model  # noqa: E402
from train.evaluate.contact_sheet import contact_sheet  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def sheet(model, images: list[Path], frames: int, scale: int, seed: int) -> Image.Image:
    rows = [model.animate(str(path), num_frames=frames, seed=seed).frames for path in images]
    return contact_sheet(rows, frames, scale, (255, 255, 255, 255))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--images", type=Path, nargs="*", default=None, help="default: examples/*.png")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    images = args.images or sorted(EXAMPLES.glob("*.png"), key=lambda q: ("robot" not in q.name, q.name))
    if args.frames < 1 or args.scale < 1:
        print(f"examples_sheet.py: error: --frames and --scale must be >= 1, got {args.frames}, {args.scale}", file=sys.stderr)
        return 1
    sheet(load_model(args.model), images, args.frames, args.scale, args.seed).save(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
