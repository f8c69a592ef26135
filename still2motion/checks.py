"""The rules of one request, each read and checked once: the `Request`, `check` (before any image is read) and `load`
(the input's header, before any pixel is decoded).

Everything that asks for an animation goes through here: the CLI and the app through ``request.py``, Python through
``Generator.animate``. Messages name options the way the caller spells them (``names``: the CLI says ``--frames``,
Python ``num_frames``). This module imports only ``config`` and ``io``: the model calls it, it never calls the model.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from . import config as cfg
from . import io
from .io.mask import read_mask

logger = logging.getLogger(__name__)

ImageInput = str | os.PathLike | Image.Image | np.ndarray
# progress(stage, done, total): stage "render" counts frames; "encode" is called with (0, None) when encoding starts
# and (1, 1) when it ends (the writers do not report their own progress).
Progress = Callable[[str, int, "int | None"], None]

# How each caller spells the request's fields in messages; Python's are the field names themselves.
PYTHON_NAMES: Mapping[str, str] = {}


@dataclass(frozen=True, kw_only=True)
class Request:
    """What to make of a still: everything the CLI, the app and ``animate()`` can ask for.

    Attributes:
        num_frames: frames in one loop.
        fps: frames per second.
        strength: motion scale; 0 gives the still back.
        seed: which motion; ``None`` draws one (`check` replaces it with the seed it drew).
        resample: ``"auto"``, ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        size: ``(width, height)`` to render at; ``None``: the format's own size rule, else the input's size.
        format: a name of ``io.FORMATS``; ``None``: from the output's extension (``"apng"`` without an output).
        options: writer options the format takes (``io.FORMATS[name].options``): ``quality``, ``dither``,
            ``optimize``, ...
        motion: ``"auto"`` (the learned motion) or a preset name (``presets.PRESET_NAMES``).
        mask: what moves (white moves, black stays; a mask with transparency is read from its alpha): a path, a PIL
            image or an array of the input's size. `check` reads it (a float array ``(H, W)`` afterwards) and
            `load` checks its size against the input's.
    """

    num_frames: int = cfg.DEFAULT_FRAMES
    fps: float = cfg.DEFAULT_FPS
    strength: float = cfg.DEFAULT_STRENGTH
    seed: int | None = cfg.DEFAULT_SEED
    resample: str = "auto"
    size: tuple[int, int] | None = None
    format: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    motion: str = "auto"
    mask: ImageInput | None = None


def _name(names: Mapping[str, str], key: str) -> str:
    return names.get(key, key)


def check(request: Request, *, output: str | os.PathLike | None = None, names: Mapping[str, str] = PYTHON_NAMES) -> Request:
    """Every rule of the request itself, before any image is read or any model loaded.

    Checks the ranges and limits of frames, fps, strength, seed, resample and size; resolves the format (from
    ``output``'s extension unless given, refusing an extension that belongs to another format, and checking that
    ``output`` can be created); the format's own rules: its options, frame range, fps and loop-length limits, and
    whether it renders at its own size; the motion's name; and reads the mask (once).

    Returns:
        The request normalised: numbers typed, ``format`` resolved, ``seed`` drawn if it was ``None``, ``mask`` read.

    Raises:
        ValueError, TypeError: one line naming the option as ``names`` spells it.
        FileNotFoundError: the output's folder or the mask file does not exist.
        ModuleNotFoundError: the format's optional package is missing (one line naming the extra to install).
    """
    n = lambda key: _name(names, key)  # noqa: E731
    num_frames = cfg.check_int(n("num_frames"), request.num_frames, 1, int(cfg.limit("max_frames")))
    fps = cfg.check_float(n("fps"), request.fps, 0.0, cfg.limit("max_fps"), low_inclusive=False)
    strength = cfg.check_float(n("strength"), request.strength, 0.0, cfg.limit("max_strength"))
    resample = cfg.check_choice(n("resample"), request.resample, cfg.RESAMPLE_MODES)
    seed = request.seed
    seed = random.SystemRandom().randrange(2**31) if seed is None else cfg.check_int(n("seed"), seed, 0, 2**63 - 1)
    fmt = _resolve_format(request.format, output, names)
    row = io.FORMATS[fmt]
    row.require()  # an optional package the writer needs (telegram: av), before anything is rendered
    if output is not None:
        io.check_output_path(output)
    size = request.size
    if size is not None:
        if row.fit is not None:
            raise ValueError(f"{n('size')} cannot be used with {n('format')} {fmt}: it renders at its own size")
        size = _check_size(size, num_frames, what=f"{n('size')} {{w}}x{{h}} =", names=names)
    options = dict(request.options)
    for option, value in options.items():
        takers = [f.name for f in io.FORMATS.values() if option in f.options]
        if option not in row.options:
            where = f"applies to {', '.join(takers)} only" if takers else "is not an option of any format"
            raise ValueError(f"{n(option)} {where}, not {fmt}")
        rule = io.OPTIONS.get(option)
        if rule is not None and not rule.check(value):
            raise ValueError(f"{n(option)} must be {rule.what}, got {value!r}")
    if row.max_fps is not None and fps > row.max_fps:
        raise ValueError(f"{fmt} plays at most {row.max_fps:g} fps, got {n('fps')} {fps:g}; lower it or use apng or webp")
    if row.frame_range is not None and not row.frame_range[0] <= num_frames <= row.frame_range[1]:
        low, high = row.frame_range
        raise ValueError(f"{fmt} needs {low}-{high} frames, got {n('num_frames')} {num_frames}")
    loop_ms = sum(io.durations_for(num_frames, fps))
    if row.max_loop_ms is not None and loop_ms > row.max_loop_ms:
        raise ValueError(
            f"{fmt} loops last at most {row.max_loop_ms / 1000:g} s, but {num_frames} frames at {fps:g} fps last "
            f"{loop_ms / 1000:g} s; use fewer {n('num_frames')} or a higher {n('fps')}"
        )
    motion = request.motion
    if motion != "auto":
        from .presets import PRESET_NAMES  # imported only when a preset is asked for (it needs torch)

        if not isinstance(motion, str) or motion not in PRESET_NAMES:
            raise ValueError(f"{n('motion')} must be auto or one of {', '.join(PRESET_NAMES)}; got {motion!r}")
    mask = request.mask
    if mask is not None:
        mask = read_mask(mask, None, max_pixels=int(cfg.limit("max_input_pixels")))  # (H, W) float32, read once
        if not mask.any():
            shown = f" '{request.mask}'" if isinstance(request.mask, (str, os.PathLike)) else ""
            logger.warning("%s%s is all black, so nothing will move (white moves, black stays)", n("mask"), shown)
    return dataclasses.replace(request, num_frames=num_frames, fps=fps, strength=strength, resample=resample,
                               seed=seed, size=size, format=fmt, options=options, motion=motion, mask=mask)


def _resolve_format(format: str | None, output, names: Mapping[str, str]) -> str:
    if output is None:
        return io.get_format(format).name if format is not None else "apng"
    fmt = io.format_from_path(output, format, format_name=_name(names, "format"))
    row = io.FORMATS[fmt]
    suffix = Path(output).suffix.lower()
    owners = {f.name for f in io.FORMATS.values() if suffix in f.extensions}
    if format is not None and owners and suffix not in row.extensions:
        raise ValueError(
            f"output '{output}' has the extension {suffix}, but {_name(names, 'format')} {fmt} writes "
            f"{' or '.join(row.extensions)}; name it '{Path(output).stem}{row.suffix}'"
        )
    io.check_companions(output, row)
    return fmt


def _check_size(size, num_frames: int, *, what: str, names: Mapping[str, str]) -> tuple[int, int]:
    """``size`` as ints, within max_output_pixels per frame and max_total_pixels for the loop."""
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"{_name(names, 'size')} must be (width, height), got {size!r}")
    w = cfg.check_int(f"{_name(names, 'size')} width", size[0], 1)
    h = cfg.check_int(f"{_name(names, 'size')} height", size[1], 1)
    smaller = f"ask for a smaller {_name(names, 'size')}"
    max_pixels = int(cfg.limit("max_output_pixels"))
    if w * h > max_pixels:
        raise ValueError(
            f"{what.format(w=w, h=h)} {w * h} pixels, more than the output limit of {max_pixels} "
            f"(${cfg.LIMIT_ENV['max_output_pixels']}); {smaller}"
        )
    max_total = int(cfg.limit("max_total_pixels"))
    if num_frames * w * h > max_total:
        raise ValueError(
            f"{num_frames} frames of {w}x{h} = {num_frames * w * h} pixels, more than the limit of {max_total} "
            f"(${cfg.LIMIT_ENV['max_total_pixels']}); ask for fewer {_name(names, 'num_frames')} or a smaller "
            f"{_name(names, 'size')}"
        )
    return (w, h)


@dataclass
class Still:
    """One input, loaded once and checked from its header (see `load`); ``out_size`` is what will be rendered."""

    loaded: io.Loaded
    out_size: tuple[int, int]


def load(source: ImageInput, request: Request, *, names: Mapping[str, str] = PYTHON_NAMES) -> Still:
    """Reads the input's bytes once and checks its size rules from the header, before decoding anything.

    ``request`` must have been through `check`.

    Raises:
        FileNotFoundError, ValueError, TypeError: a missing, unreadable or too large input, or a mask of another
            size than the input (one line naming it).
    """
    loaded = io.load_image(source, max_pixels=int(cfg.limit("max_input_pixels")))
    width, height = loaded.size
    if request.mask is not None and request.mask.shape != (height, width):
        mask_h, mask_w = request.mask.shape
        raise ValueError(
            f"{_name(names, 'mask')} is {mask_w}x{mask_h} but '{loaded.name}' is {width}x{height}; "
            "the mask must have the image's size"
        )
    if request.size is not None:
        return Still(loaded, request.size)
    out_size = io.render_size(request.format, width, height) or (width, height)
    _check_size(out_size, request.num_frames, what=f"'{loaded.name}' is {{w}}x{{h}} =", names=names)
    return Still(loaded, out_size)
