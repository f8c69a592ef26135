"""Before / after picture of depth-ordered layers (issue 17): the same model and seed, old summed layers above the
new "over" compositing, on the CC0 example images.

    python train/ship/occlusion_sheet.py --output docs/occlusion_before_after.png

For each image three rows of ``--frames`` frames (``model.animate(image, num_frames=--frames, seed=--seed)``, default
settings otherwise): rendered with ``train/evaluate/summed_render.py`` (layers summed), then with ``still2motion.motion.render``
(depth-ordered, "over"), then the summed frames again with every pixel that is see-through there but not in the new
frame (alpha lower by more than 0.2) painted red. Frames are upscaled ``--scale`` times with NEAREST on a dark
background, so a see-through gap inside a sprite shows dark.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from still2motion import DEFAULT_MODEL, load_model  # noqa: E402
from train.evaluate.contact_sheet import contact_sheet  # noqa: E402
from train.evaluate.summed_render import summed_renderer  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


BACKGROUND = (40, 40, 52, 255)


def _mark_gaps(old: Image.Image, new: Image.Image) -> Image.Image:
    """``old`` with the pixels whose alpha is lower than in ``new`` by more than 0.2 painted opaque red."""
    before, after = np.asarray(old.convert("RGBA")).copy(), np.asarray(new.convert("RGBA"))
    gap = before[..., 3].astype(int) < after[..., 3].astype(int) - 51
    before[gap] = (230, 30, 30, 255)
    return Image.fromarray(before, "RGBA")


def before_after(model, images: list[Path], frames: int, scale: int, seed: int) -> Image.Image:
    rows = []
    for path in images:
        with summed_renderer():
            rows.append(model.animate(str(path), num_frames=frames, seed=seed).frames)
        rows.append(model.animate(str(path), num_frames=frames, seed=seed).frames)
        rows.append([_mark_gaps(old, new) for old, new in zip(*rows[-2:])])
    return contact_sheet(rows, frames, scale, BACKGROUND, gap=4)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--images", type=Path, nargs="*", default=None, help="default: examples/maleAdventurer_idle.png")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.frames < 1 or args.scale < 1:
        print(f"occlusion_sheet.py: error: --frames and --scale must be >= 1, got {args.frames}, {args.scale}", file=sys.stderr)
        return 1
    images = args.images or [EXAMPLES / "maleAdventurer_idle.png"]
    before_after(load_model(args.model), images, args.frames, args.scale, args.seed).save(args.output, optimize=True)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
