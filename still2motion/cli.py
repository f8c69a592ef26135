"""The ``still2motion`` command line: the only place in the package that prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from . import config as cfg
from . import io
from .loading import load_model

EXAMPLES = """examples:
  still2motion animate examples/robot_idle.png -o robot.png          # APNG, 20 frames at 10 fps
  still2motion animate cat.png -o cat.gif --frames 12 --fps 12 --seed 3
  still2motion animate cat.png -o sticker.png --format line          # LINE animated sticker
  still2motion animate sprites/ -o out/ --format webp                # a folder of stills -> a folder
"""
IMAGE_SUFFIXES = (".png", ".apng", ".gif", ".webp", ".jpg", ".jpeg", ".bmp")
SUFFIX_FOR_FORMAT = {"apng": ".png", "gif": ".gif", "webp": ".webp", "line": ".png", "line-main": ".png", "spritesheet": ".png"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="still2motion", description="Turn a still image into a seamlessly looping animation.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser(
        "animate",
        help="animate one or more still images",
        description="Animate still images (PNG/JPEG/WebP/BMP, or the first frame of a GIF/APNG).",
        epilog=EXAMPLES,
        formatter_class=lambda prog: argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=30),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, or folders of images")
    p.add_argument("-o", "--output", required=True, help="output file (one input) or folder (several inputs / a folder)")
    p.add_argument("--frames", type=int, default=cfg.DEFAULT_FRAMES, help="frames in one loop")
    p.add_argument("--fps", type=float, default=cfg.DEFAULT_FPS, help="frames per second")
    p.add_argument("--strength", type=float, default=cfg.DEFAULT_STRENGTH, help="motion strength (0 = still)")
    p.add_argument("--seed", type=int, default=cfg.DEFAULT_SEED, help="which motion; -1 picks a random one")
    p.add_argument("--model", default=None, help=f"model folder or Hub id (default: ${cfg.MODEL_ENV}, else the bundled model)")
    p.add_argument("--format", choices=io.FORMATS, default=None, help="output format (default: from the output extension)")
    p.add_argument("--resample", choices=cfg.RESAMPLE_MODES, default="auto", help="pixel sampling; auto = nearest for small sprites (<= 128 px) and pixel art")
    p.add_argument("--quality", type=int, default=None, help="WebP only: lossy quality 0-100 (default: lossless)")
    return parser


def _collect_inputs(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(f"folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
            files.extend(found)
        elif not path.exists():
            raise FileNotFoundError(f"input '{path}' does not exist")
        else:
            files.append(path)
    return files


def _animate_one(model, source: Path, target: Path, fmt: str, args) -> Path:
    max_input = int(cfg.limit("max_input_pixels"))
    width, height = io.read_size(source, max_pixels=max_input)  # header only: refuse a too large output before decoding
    cfg.check_output_size(io.render_size(fmt, width, height) or (width, height), source=source)
    read = io.read_image(source, max_pixels=max_input)
    if read.n_frames > 1:
        print(f"note: '{source}' is animated ({read.n_frames} frames); animating its first frame", file=sys.stderr)
    anim = model.animate(
        read.image,
        num_frames=args.frames,
        fps=args.fps,
        strength=args.strength,
        seed=None if args.seed == -1 else args.seed,
        resample=args.resample,
        size=io.render_size(fmt, *read.image.size),
    )
    options = {"quality": args.quality} if args.quality is not None else {}
    return anim.save(target, format=fmt, max_bytes=int(cfg.limit("max_output_bytes")), **options)


def _fail(message: str) -> int:
    print(f"still2motion: error: {message}", file=sys.stderr)
    return 1


def animate_command(args) -> int:
    if args.quality is not None and not 0 <= args.quality <= 100:
        return _fail(f"--quality must be between 0 and 100, got {args.quality}")
    try:
        inputs = _collect_inputs(args.inputs)
        many = len(inputs) > 1 or any(Path(p).is_dir() for p in args.inputs)
        output = Path(args.output)
        if many:
            if output.exists() and not output.is_dir():
                raise ValueError(f"output '{output}' must be a folder for several inputs, but it is a file")
            fmt = args.format or "apng"
        else:
            fmt = io.format_from_path(output, args.format)
        cfg.check_request(args.frames, args.fps, args.strength, args.resample)
        model = load_model(args.model)
    except (ValueError, TypeError, OSError) as exc:
        return _fail(str(exc))

    if not many:
        try:
            written = _animate_one(model, inputs[0], output, fmt, args)
        except (ValueError, TypeError, OSError) as exc:
            return _fail(str(exc))
        print(f"wrote {written} ({args.frames} frames at {args.fps:g} fps, {fmt})")
        return 0

    try:
        output.mkdir(exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot create output folder '{output}': {exc.strerror or exc}")
    failed = 0
    for source in tqdm(inputs, desc="animating", unit="image", disable=None):
        try:
            _animate_one(model, source, output / (source.stem + SUFFIX_FOR_FORMAT[fmt]), fmt, args)
        except (ValueError, TypeError, OSError) as exc:
            failed += 1
            tqdm.write(f"still2motion: error: {exc}", file=sys.stderr)
    print(f"wrote {len(inputs) - failed} of {len(inputs)} animations to {output}/ ({fmt}); {failed} failed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (0 success, 1 failure, 2 bad usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line (or --help)
        return int(exc.code or 0)
    return animate_command(args)


if __name__ == "__main__":
    sys.exit(main())
