"""The ``still2motion`` command line: the only place in the package that prints.

Thin wiring over the request path (request.py): flags -> one checked ``Request`` -> for each input, load (header
checks) -> render -> save. Everything the flags can get wrong is refused before the model is loaded; everything an
input can get wrong, before it is rendered.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

from tqdm.auto import tqdm

from . import config as cfg
from . import io
from . import request as rq
from .batch import IMAGE_SUFFIXES, collect_inputs, plan_outputs

EXAMPLES = """examples:
  still2motion animate examples/robot_idle.png -o robot.png          # APNG, 20 frames at 10 fps
  still2motion animate cat.png -o cat.gif --frames 12 --fps 12 --seed 3
  still2motion animate cat.png -o sticker.png --format line          # LINE animated sticker
  still2motion animate sprites/ -o out/ --format webp                # a folder of stills -> a folder
  still2motion animate big.png -o big.png --size 512x384 --optimize none
  still2motion animate cat.png -o cat.gif --motion sway --mask tail.png   # a preset, only the tail moves
  still2motion animate --motion list                                   # the presets, one a line
"""
# How the request's fields are spelled on the command line, for messages; every writer option is --its-name.
NAMES = {
    "num_frames": "--frames", "fps": "--fps", "strength": "--strength", "seed": "--seed", "resample": "--resample",
    "size": "--size", "format": "--format", "motion": "--motion", "mask": "--mask", **{name: "--" + name.replace("_", "-") for name in io.OPTIONS},
}
PROGRESS_DELAY_S = 2.0  # show progress only for work that takes longer than this


def load_model(model: str | None):
    """``still2motion.load_model``, imported when a model is needed (torch takes seconds to import)."""
    from .loading import load_model as load

    return load(model)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be WIDTHxHEIGHT, e.g. 512x384, got {text!r}") from None
    return width, height


def _takers(option: str) -> str:
    return ", ".join(f.name for f in io.FORMATS.values() if option in f.options)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="still2motion", description="Turn a still image into a seamlessly looping animation.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser(
        "animate",
        help="animate one or more still images",
        description="Animate still images (PNG/JPEG/WebP/BMP, or the first frame of a GIF/APNG).",
        epilog=EXAMPLES,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, max_help_position=30),
    )
    formats = "; ".join(f"{f.name}: {f.notes}" for f in io.FORMATS.values())
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, or folders of images")
    p.add_argument("-o", "--output", required=True,
                   help="output file (one input), or folder (several inputs, a folder of inputs, or a name ending in /)")
    p.add_argument("--frames", type=int, default=cfg.DEFAULT_FRAMES, help="frames in one loop (default: %(default)s)")
    p.add_argument("--fps", type=float, default=cfg.DEFAULT_FPS, help="frames per second (default: %(default)g)")
    p.add_argument("--strength", type=float, default=cfg.DEFAULT_STRENGTH,
                   help="motion strength, 0 = still (default: %(default)g)")
    p.add_argument("--seed", type=int, default=cfg.DEFAULT_SEED,
                   help="which motion; -1 draws one and prints it (default: %(default)s)")
    p.add_argument("--model", default=None, help=f"model folder or Hub id (default: ${cfg.MODEL_ENV}, else the bundled model)")
    p.add_argument("--format", choices=io.FORMAT_NAMES, default=None, metavar="FORMAT",
                   help=f"output format (default: from the output extension, apng for a folder). {formats}")
    p.add_argument("--resample", choices=cfg.RESAMPLE_MODES, default="auto",
                   help="pixel sampling; auto = nearest for pixel art, bicubic otherwise (default: auto)")
    p.add_argument("--motion", default="auto", metavar="NAME",
                   help="auto (the learned motion) or a preset; '--motion list' names and describes them (default: auto)")
    p.add_argument("--mask", default=None, metavar="PATH",
                   help="image of what moves, the input's size: white moves, black stays (or the painted part of a "
                        "transparent layer)")
    p.add_argument("--size", type=_size, default=None, metavar="WxH",
                   help="render at this size instead of the input's (default: the input's, or the format's own)")
    for option in io.OPTIONS.values():  # the writer options of the format table, each as --name
        p.add_argument(NAMES[option.name], dest=option.name, type=option.type, choices=option.choices, default=None,
                       help=f"{_takers(option.name)} only: {option.help}")
    return parser


class _Progress:
    """Progress on stderr, shown only once a stage has run for PROGRESS_DELAY_S: a frame bar for rendering, a
    ticking timer for encoding (the writers do not report their own progress)."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.timer = None
        self.stop = threading.Event()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == "render":
            if self.bar is None:
                self.bar = tqdm(total=total, desc=f"rendering {self.label}", unit="frame", delay=PROGRESS_DELAY_S,
                                file=sys.stderr, leave=False, dynamic_ncols=True)
            self.bar.update(done - self.bar.n)
            if done == total:
                self.bar.close()
        elif stage == "encode" and total is None:
            self.stop.clear()
            self.timer = threading.Thread(target=self._tick, args=(time.monotonic(),), daemon=True)
            self.timer.start()
        elif stage == "encode":
            self.stop.set()
            if self.timer is not None:
                self.timer.join()

    def _tick(self, start: float) -> None:
        bar = None
        while not self.stop.wait(0.25):
            if bar is None and time.monotonic() - start >= PROGRESS_DELAY_S:
                # delay > 0: not drawn until refresh(), once its clock counts from the start of encoding, not from now
                bar = tqdm(desc=f"encoding {self.label}", bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False,
                           delay=PROGRESS_DELAY_S)
                bar.start_t -= time.monotonic() - start
            if bar is not None:
                bar.refresh()
        if bar is not None:
            bar.close()


class _Notes(logging.Handler):
    """The library's warnings and notes, one line each on stderr, naming the input being rendered (``source``) and
    spelling request fields passed as log arguments (``"size"``, ``"strength"``) as their flags."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.source: Path | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and record.args:  # a copy: other handlers see the record as logged
            message = str(record.msg) % tuple(NAMES.get(a, a) if isinstance(a, str) else a for a in record.args)
        else:
            message = record.getMessage()
        if not message.startswith("note:"):
            message = f"warning: {message}"
        where = f"'{self.source}': " if self.source is not None else ""
        tqdm.write(f"still2motion: {where}{message}", file=sys.stderr)


def _request(args) -> rq.Request:
    options = {name: getattr(args, name) for name in io.OPTIONS if getattr(args, name) is not None}
    return rq.Request(num_frames=args.frames, fps=args.fps, strength=args.strength,
                      seed=None if args.seed == -1 else args.seed, resample=args.resample, size=args.size,
                      format=args.format, options=options, motion=args.motion, mask=args.mask)


def _fail(message: str) -> int:
    print(f"still2motion: error: {message}", file=sys.stderr)
    return 1


def _check_folder_output(output: Path, text: str) -> None:
    if output.exists() and not output.is_dir():
        raise ValueError(f"-o '{output}' must be a folder for several inputs, but it is a file")
    if not output.exists() and not text.endswith(("/", os.sep)) and output.suffix.lower() in _OUTPUT_SUFFIXES:
        raise ValueError(
            f"-o '{output}' names a file, but several inputs (or a folder) write a folder of animations; name a "
            f"folder (-o '{output.with_suffix('')}/') and choose the format with --format"
        )


# File extensions a folder output may not end in (it would look like one animation): inputs' and outputs'.
_OUTPUT_SUFFIXES = {*IMAGE_SUFFIXES, *(ext for f in io.FORMATS.values() for ext in (*f.extensions, *f.companions))}


def animate_command(args, notes: _Notes | None = None) -> int:
    try:
        inputs = collect_inputs(args.inputs)
        output = Path(args.output)
        folder = len(args.inputs) > 1 or any(Path(p).is_dir() for p in args.inputs) or args.output.endswith(("/", os.sep))
        if not folder and output.is_dir():
            raise ValueError(f"-o '{output}' is a folder; name the output file, or write '{output}/' to write into it")
        if folder:
            _check_folder_output(output, args.output)
        request = rq.check(_request(args), output=None if folder else output, names=NAMES)
        reads = {"--mask": args.mask} if args.mask is not None else {}  # files the request reads besides the inputs
        plan = plan_outputs(inputs, output, io.FORMATS[request.format], single=not folder, reads=reads)
        model = load_model(args.model)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        return _fail(str(exc))
    if args.seed == -1:
        print(f"seed {request.seed} (repeat this motion with --seed {request.seed})")
    if folder:
        try:
            output.mkdir(exist_ok=True)
        except OSError as exc:
            return _fail(f"cannot create output folder '{output}': {exc.strerror or exc}")
    failed = 0
    bar = tqdm(plan, desc="animating", unit="image", disable=None if len(plan) > 1 else True, file=sys.stderr)
    for source, target in bar:
        if notes is not None:
            notes.source = source
        try:
            result = rq.run(model, source, target, request, progress=_Progress(source.name), names=NAMES)
        except (ValueError, TypeError, OSError, ImportError) as exc:
            failed += 1
            tqdm.write(f"still2motion: error: {exc}", file=sys.stderr)
            continue
        finally:
            if notes is not None:
                notes.source = None
        if result.input_frames > 1:
            tqdm.write(f"note: '{source}' is animated ({result.input_frames} frames); animated its first frame",
                       file=sys.stderr)
        if not folder:
            frames = f"{request.num_frames} frame{'s' if request.num_frames != 1 else ''}"
            print(f"wrote {result.path} ({frames} at {request.fps:g} fps, {request.format})")
    if not folder:
        return 1 if failed else 0
    print(f"wrote {len(plan) - failed} of {len(plan)} animations to {output}/ ({request.format}); {failed} failed")
    for source, target in plan:
        if target.stem != source.stem:
            print(f"  {source.name} -> {target.name} (renamed: another input has the same name)")
    return 1 if failed else 0


def _asks_for_motion_list(argv: list[str]) -> bool:
    """``still2motion animate --motion list`` (or ``--motion=list``), whatever else is on the line."""
    if not argv or argv[0] != "animate":
        return False
    pairs = zip(argv[1:], argv[2:])
    return "--motion=list" in argv[1:] or any(a == "--motion" and b == "list" for a, b in pairs)


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (0 success, 1 failure, 2 bad usage, 130 interrupted)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if _asks_for_motion_list(argv):  # needs no input or output
        from .presets import preset_table

        print(f"{'auto':<8} {'learned':>9}  the learned motion, from what the model sees (the default)")
        print("\n".join(preset_table()))
        return 0
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line (or --help)
        return int(exc.code or 0)
    notes = _Notes()
    package_logger = logging.getLogger(__package__)
    package_logger.addHandler(notes)
    try:
        return animate_command(args, notes)
    except KeyboardInterrupt:  # temporary files are removed on the way out (io/atomic.py)
        print("\nstill2motion: interrupted", file=sys.stderr)
        return 130
    finally:
        package_logger.removeHandler(notes)


if __name__ == "__main__":
    sys.exit(main())
