"""The one table of output formats: what the CLI offers, what the app's dropdown lists, what ``Animation.save`` writes.

Adding a format is one writer module in ``still2motion/io/`` plus one row in ``FORMATS``. A writer is called as
``write(frames, durations_ms, path, **kwargs)`` where ``kwargs`` are the row's ``fixed`` values, the animation's
``loop``/``fps`` for the names listed in ``context``, and the request's options (only those the row lists in
``options``). Writers are imported only when used, so ``import still2motion`` does not load apng, oxipng or
libimagequant.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SHEET_JSON = ("hash", "array")  # sprite-sheet JSON layouts (spritesheet.py)
OPTIMIZE_LEVELS = ("none", "fast", "max")  # lossless effort: none < fast (default) < max; see apng_write/webp
DEFAULT_OPTIMIZE = "fast"


@dataclass(frozen=True)
class Format:
    """One output format.

    Attributes:
        name: what ``--format`` / ``format=`` take.
        label: what the app's dropdown shows.
        extensions: file suffixes; the first is the one written. Only ``by_extension`` rows are chosen from a suffix.
        writer: ``"module:function"`` inside ``still2motion.io``.
        mime: MIME type of the main file.
        options: writer keyword options a request may pass (``quality``, ``dither``, ``optimize``, ...).
        context: animation attributes the writer takes (``"loop"``, ``"fps"``).
        fixed: keyword values always passed to the writer (e.g. ``main=True``).
        fit: render at the largest size, aspect kept, that fits this ``(width, height)`` box (scaled up or down);
            ``None`` renders at the input's own size.
        max_fps: highest frame rate the format plays correctly.
        frame_range: ``(min, max)`` frames per loop the format allows.
        max_loop_ms: longest single loop the format allows.
        companions: suffixes of files written next to the main one (a sprite sheet's ``.json``).
        requires: ``(module, extra)``: an optional package the writer needs and the extra that installs it
            (``pip install 'still2motion[extra]'``); `require` checks it before anything is rendered.
        download_suffix: the app's download name is the upload's stem + this (+ ``.zip`` for rows with companions).
        by_extension: whether the format is chosen from the output's suffix.
        notes: one line for the docs and the CLI's help.
    """

    name: str
    label: str
    extensions: tuple[str, ...]
    writer: str
    mime: str
    options: tuple[str, ...] = ()
    context: tuple[str, ...] = ("loop",)
    fixed: dict = field(default_factory=dict)
    fit: tuple[int, int] | None = None
    max_fps: float | None = None
    frame_range: tuple[int, int] | None = None
    max_loop_ms: int | None = None
    companions: tuple[str, ...] = ()
    requires: tuple[str, str] | None = None
    download_suffix: str = ""
    by_extension: bool = False
    notes: str = ""

    @property
    def suffix(self) -> str:
        return self.extensions[0]

    def require(self) -> None:
        """Raises a one-line ``ModuleNotFoundError`` naming the extra when the writer's optional package is missing."""
        if self.requires is None:
            return
        module, extra = self.requires
        try:
            importlib.import_module(module)
        except ImportError:
            raise ModuleNotFoundError(
                f"the {self.name} format needs the optional package '{module}': pip install 'still2motion[{extra}]'"
            ) from None

    def write_function(self) -> Callable:
        """The writer, imported now (the first call loads its dependencies)."""
        module, function = self.writer.split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), function)


@dataclass(frozen=True)
class Option:
    """A writer option a request may set; the CLI offers each as ``--name`` (underscores as dashes).

    Attributes:
        name: the writer's keyword (``quality``).
        type: ``int``, ``float`` or ``str``: how the CLI parses it.
        check: whether a value is allowed; ``what`` says what is (for the one-line error).
        help: the CLI's help, after "FORMATS only:"; say the default.
        choices: for a ``str`` option, the values the CLI offers.
    """

    name: str
    type: type
    check: Callable[[object], bool]
    what: str
    help: str
    choices: tuple[str, ...] | None = None


def _int_in(low: int, high: int | None = None) -> Callable[[object], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v and (high is None or v <= high)


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("optimize", str, lambda v: v in OPTIMIZE_LEVELS, f"one of {', '.join(OPTIMIZE_LEVELS)}",
               "lossless compression effort: fast keeps large images within a few times the render time, max can "
               "take minutes on large images (default: fast)", choices=OPTIMIZE_LEVELS),
        Option("quality", int, _int_in(0, 100), "an integer in 0..100", "lossy quality 0-100 (default: lossless)"),
        Option("method", int, _int_in(0, 6), "an integer in 0..6", "libwebp method 0-6 (default: from --optimize)"),
        Option("dither", float, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
               "a number in 0..1", "dithering 0-1: smooths gradients, may shimmer where things move (default: 0)"),
        Option("alpha_threshold", int, _int_in(1, 255), "an integer in 1..255",
               "alpha at or above this is opaque, below it transparent (default: 128)"),
        Option("loops", int, _int_in(1, 4), "an integer in 1..4", "plays 1-4 (default: as many as fit in 4 s)"),
        Option("columns", int, _int_in(1), "an integer >= 1", "grid columns (default: ceil(sqrt(frames)))"),
        Option("sheet_json", str, lambda v: v in SHEET_JSON, f"one of {', '.join(SHEET_JSON)}",
               "JSON layout: hash (frames keyed by name: TexturePacker, Aseprite's default) or array (frames as a "
               "list: Aseprite's json-array) (default: hash)", choices=SHEET_JSON),
    )
}


# GIF's limit lives here (not in gif_write) so checking a request does not import the writer.
GIF_MAX_FPS = 50.0  # browsers play delays under 20 ms (2 cs) slower, typically at 100 ms

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("apng", "APNG", (".png", ".apng"), "apng_write:write_apng", "image/apng", ("optimize",),
               by_extension=True, download_suffix="_loop.png",
               notes="lossless, full alpha, exactly the requested frames; plays in every current browser"),
        Format("gif", "GIF", (".gif",), "gif_write:write_gif", "image/gif", ("alpha_threshold", "dither"),
               context=("loop", "fps"), max_fps=GIF_MAX_FPS, by_extension=True, download_suffix=".gif",
               notes="256 colours shared by all frames, 1-bit alpha (alpha >= 128 is opaque), 10 ms delay steps"),
        Format("webp", "WebP", (".webp",), "webp:write_webp", "image/webp", ("quality", "method", "optimize"),
               by_extension=True, download_suffix=".webp",
               notes="lossless unless a quality is given; identical consecutive frames may merge (timing kept)"),
        Format("line", "LINE sticker (APNG)", (".png",), "line:write_line", "image/apng", ("loops",),
               context=(), fixed={"main": False}, fit=(320, 270), frame_range=(5, 20), max_loop_ms=4000,
               download_suffix="_line.png",
               notes="LINE animated sticker: within 320x270, 5-20 frames, 1-4 loops within 4 s, <= 300 KB"),
        Format("line-main", "LINE main image (240×240 APNG)", (".png",), "line:write_line", "image/apng", ("loops",),
               context=(), fixed={"main": True}, fit=(240, 240), frame_range=(5, 20), max_loop_ms=4000,
               download_suffix="_line_main.png", notes="LINE main image: 240x240, otherwise the sticker's rules"),
        Format("spritesheet", "Sprite sheet (.zip: PNG + JSON)", (".png",), "spritesheet:write_spritesheet",
               "image/png", ("columns", "sheet_json"), context=(), companions=(".json",),
               download_suffix="_spritesheet.png",
               notes="frames in a grid + TexturePacker/Aseprite JSON (hash, or array with --sheet-json) with "
                     "per-frame durations"),
        Format("godot", "Godot 4 SpriteFrames (.zip: PNG + .tres)", (".png",), "godot:write_godot", "image/png",
               ("columns",), context=("fps",), companions=(".tres",), download_suffix="_godot.png",
               notes="Godot 4 SpriteFrames: the sheet PNG + a .tres with one looping animation at --fps; keep both "
                     "in one folder of the project"),
        Format("telegram", "Telegram video sticker (WebM)", (".webm",), "telegram:write_telegram", "video/webm",
               context=("fps",), fit=(512, 512), max_fps=30.0, max_loop_ms=3000, requires=("av", "telegram"),
               by_extension=True, download_suffix="_telegram.webm",
               notes="Telegram video sticker: VP9 + alpha WebM, longer side 512, <= 3 s, <= 30 fps, no audio, <= 256 KB"),
        Format("telegram-emoji", "Telegram video emoji (100×100 WebM)", (".webm",), "telegram:write_telegram",
               "video/webm", context=("fps",), fixed={"emoji": True}, fit=(100, 100), max_fps=30.0, max_loop_ms=3000,
               requires=("av", "telegram"), download_suffix="_emoji.webm",
               notes="Telegram video emoji: 100x100, otherwise the sticker's rules"),
    )
}
FORMAT_NAMES = tuple(FORMATS)
# Suffixes that choose a format by themselves (".png" -> apng); the others need format=.
EXTENSIONS = {ext: f.name for f in FORMATS.values() if f.by_extension for ext in f.extensions}


def get_format(name: str) -> Format:
    """The row for ``name`` (case-insensitive); a one-line ``ValueError`` listing the choices otherwise."""
    row = FORMATS.get(str(name).lower()) if isinstance(name, str) else None
    if row is None:
        raise ValueError(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}")
    return row


def format_from_path(path: str | os.PathLike, format: str | None = None, *, format_name: str = "format=") -> str:
    """Resolves the output format: ``format`` if given, else from the extension.

    Args:
        path: output path.
        format: a name from `FORMATS` (case-insensitive), or None.
        format_name: how the caller spells the option in messages (the CLI passes ``--format``).

    Returns:
        A name from `FORMATS`.

    Raises:
        ValueError: an unknown format or extension; the message lists the choices.
    """
    if format is not None:
        return get_format(format).name
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(
            f"cannot tell the format of '{path}' from its extension {suffix or '(none)'!r}; use one of "
            f"{', '.join(EXTENSIONS)} or choose with {format_name} ({', '.join(FORMATS)})"
        )
    return EXTENSIONS[suffix]


def check_companions(path: str | os.PathLike, row: Format) -> None:
    """Refuses an output named like one of the files the format writes beside it (``a.json`` for a sprite sheet).

    Raises:
        ValueError: naming ``path`` and the name that works.
    """
    suffix = Path(path).suffix.lower()
    if suffix in row.companions:
        main = Path(path).with_suffix(row.suffix)
        raise ValueError(
            f"output '{path}' would be the {suffix} file the {row.name} format writes beside its {row.suffix}; "
            f"name the {row.suffix} ('{main}') and '{main.with_suffix(suffix).name}' is written beside it"
        )


def fit_size(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    """The largest ``(w, h)`` with the aspect of ``width x height`` that fits ``box`` (scaled up or down; >= 1 px).

    The limiting side is exactly the box's side, so for LINE (320x270) one side is always 320 or 270.
    """
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be >= 1, got {width}x{height}")
    box_w, box_h = box
    if width * box_h >= height * box_w:  # width-limited
        return box_w, max(1, min(box_h, round(height * box_w / width)))
    return max(1, min(box_w, round(width * box_h / height))), box_h


def render_size(format: str, width: int, height: int) -> tuple[int, int] | None:
    """The size to render a ``width x height`` image at for ``format`` (its ``fit`` box), or ``None`` for the
    input's own size, so nothing is resized twice."""
    row = get_format(format)
    return None if row.fit is None else fit_size(width, height, row.fit)
