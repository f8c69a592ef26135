"""Writes the presets gallery: one small looping GIF per motion preset on one CC0 example, for docs/presets.md.

The example is padded with a transparent margin (a sticker usually has one; a sprite cropped to its bounding box
clips wherever it moves past its edge), at its own size by default.
Presets run no network, so any model will do; the bundled one is used.

    python train/ship/presets_gallery.py [--image examples/robot_idle.png] [--out docs/presets] [--frames 20] [--fps 12]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from PIL import Image

from still2motion import DEFAULT_MODEL, load_model, read_image
from still2motion.presets import PRESET_NAMES

logger = logging.getLogger(__name__)

MAX_BYTES = 150_000  # per GIF


def padded(image: Image.Image, margin: float) -> Image.Image:
    """``image`` on a transparent canvas larger by ``margin`` of its height on every side."""
    pad = round(margin * image.height)
    out = Image.new("RGBA", (image.width + 2 * pad, image.height + 2 * pad), (0, 0, 0, 0))
    out.paste(image, (pad, pad))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="examples/robot_idle.png")
    parser.add_argument("--out", default="docs/presets")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--fps", type=float, default=12.0)
    parser.add_argument("--margin", type=float, default=0.2, help="transparent margin, as a fraction of the height")
    parser.add_argument("--scale", type=int, default=1, help="output scale (nearest-neighbour)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    still = padded(read_image(args.image).image, args.margin)
    size = (still.width * args.scale, still.height * args.scale) if args.scale != 1 else None
    model = load_model(DEFAULT_MODEL)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in PRESET_NAMES:
        anim = model.animate(still, num_frames=args.frames, fps=args.fps, motion=name, size=size,
                             resample="nearest" if args.scale != 1 else "auto")
        path = anim.save(out / f"{name}.gif", max_bytes=MAX_BYTES)
        logger.info("%s: %s, %d bytes", name, path, path.stat().st_size)


if __name__ == "__main__":
    main()
