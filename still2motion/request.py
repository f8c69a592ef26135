"""The one request path: check the request -> load the bytes and check the header -> decode -> render -> save.

The CLI, the app and ``Generator.animate`` all go through here, so each rule is written (and run) once: the request's
own rules (`check`) before any image is read, the image's size rules (`load`) from its header before any pixel is
decoded, then `render` and `save`. Messages name options the way the caller spells them (``names``: the CLI says
``--frames``, Python ``num_frames``).

The model is passed in (anything with ``resolution``, ``parameters()``, ``sample_noise`` and ``render_frames``, i.e.
a ``Generator``); this module imports only ``config`` and ``io``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import config as cfg
from . import io
from .io.mask import read_mask

logger = logging.getLogger(__name__)

# progress(stage, done, total): stage "render" counts frames; "encode" is called with (0, None) when encoding starts
# and (1, 1) when it ends (the writers do not report their own progress).
Progress = Callable[[str, int, "int | None"], None]
ImageInput = str | os.PathLike | Image.Image | np.ndarray

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
        resample: ``"auto"``, ``"nearest"`` or ``"bilinear"``.
        size: ``(width, height)`` to render at; ``None``: the format's own size rule, else the input's size.
        format: a name of ``io.FORMATS``; ``None``: from the output's extension (``"apng"`` without an output).
        options: writer options the format takes (``io.FORMATS[name].options``): ``quality``, ``dither``,
            ``optimize``, ...
        motion: ``"auto"`` (the learned motion) or a preset name (``presets.PRESET_NAMES``).
        mask: what moves (white moves, black stays; a mask with transparency is read from its alpha): a path, a PIL
            image or an array, resized to the input. `check` reads it (a float array ``(H, W)`` afterwards).
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
    ``output``'s extension unless given, refusing an extension that belongs to another format); and the format's own
    rules: its options, frame range, fps and loop-length limits, and whether it renders at its own size.

    Returns:
        The request normalised: numbers typed, ``format`` resolved, ``seed`` drawn if it was ``None``.

    Raises:
        ValueError, TypeError: one line naming the option as ``names`` spells it.
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
        mask = read_mask(mask, None, max_pixels=int(cfg.limit("max_input_pixels")))  # unreadable: fails here, early
    return dataclasses.replace(request, num_frames=num_frames, fps=fps, strength=strength, resample=resample,
                               seed=seed, size=size, format=fmt, options=options, motion=motion, mask=mask)


def _resolve_format(format: str | None, output, names: Mapping[str, str]) -> str:
    if output is None:
        return io.get_format(format).name if format is not None else "apng"
    fmt = io.format_from_path(output, format, format_name=_name(names, "format"))
    suffix = Path(output).suffix.lower()
    owners = sorted({f.name for f in io.FORMATS.values() if suffix in f.extensions})
    if format is not None and owners and suffix not in io.FORMATS[fmt].extensions:
        raise ValueError(
            f"output '{output}' has the extension of {' or '.join(owners)}, but {_name(names, 'format')} is {fmt}; "
            f"name it '{Path(output).stem}{io.FORMATS[fmt].suffix}'"
        )
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
        FileNotFoundError, ValueError, TypeError: a missing, unreadable or too large input (one line naming it).
    """
    loaded = io.load_image(source, max_pixels=int(cfg.limit("max_input_pixels")))
    if request.size is not None:
        return Still(loaded, request.size)
    width, height = loaded.size
    out_size = io.render_size(request.format, width, height) or (width, height)
    _check_size(out_size, request.num_frames, what=f"'{loaded.name}' is {{w}}x{{h}} =", names=names)
    return Still(loaded, out_size)


@torch.no_grad()
def render(model, still: Still, request: Request, *, progress: Progress | None = None) -> tuple[io.Animation, int]:
    """Decodes and animates a loaded still; returns the animation and the input's frame count (> 1: animated file).

    Frame 0 is the decoded input, verbatim, when the output has the input's size.
    """
    read = io.decode_image(still.loaded, max_pixels=int(cfg.limit("max_input_pixels")))
    image = read.image
    mode = io.auto_resample(image) if request.resample == "auto" else request.resample
    canvas, box = io.letterbox(image, model.resolution)  # the data loader's rule: training and inference agree
    device = next(model.parameters()).device
    front = None if request.mask is None else read_mask(request.mask, image.size)  # (H, W) at the input's size
    frames = model.frames_for(
        io.to_tensor(canvas)[None].to(device),
        io.to_tensor(image)[None].to(device),
        box,
        motion=request.motion,
        front=front,
        original=np.asarray(image),  # at the input's size, transparent pixels keep their bytes
        num_frames=request.num_frames,
        strength=request.strength,
        noise=model.sample_noise(request.seed).to(device),
        mode=mode,
        out_size=still.out_size,
        has_alpha=image.getextrema()[3][0] < 255,
        # pixel art keeps its exact palette (hard layers); other small images get soft, gap-free layer seams
        hard_layers=mode == "nearest" and (request.resample == "nearest" or io.is_pixel_art(image)),
    )
    images = []
    for frame in frames:
        images.append(Image.fromarray(frame, "RGBA"))
        if progress is not None:
            progress("render", len(images), request.num_frames)
    if still.out_size == image.size:
        images[0] = image.copy()  # frame 0 is the input, verbatim
    anim = io.Animation(frames=images, durations_ms=io.durations_for(request.num_frames, request.fps), fps=request.fps)
    return anim, read.n_frames


def save(anim: io.Animation, path: str | os.PathLike, request: Request, *, progress: Progress | None = None,
         **overrides) -> Path:
    """Writes ``anim`` in the request's format and options (``overrides`` replace options), within max_output_bytes."""
    start = time.perf_counter()
    if progress is not None:
        progress("encode", 0, None)
    try:
        written = anim.save(path, format=request.format, max_bytes=int(cfg.limit("max_output_bytes")),
                            **{**request.options, **overrides})
    finally:  # also on failure: the caller's progress display must stop
        if progress is not None:
            progress("encode", 1, 1)
    logger.info("wrote %s (%s) in %.2f s", written, request.format, time.perf_counter() - start)
    return written


@dataclass
class Result:
    """What `run` made: the written file, the animation, the seed used and the input's frame count."""

    path: Path
    animation: io.Animation
    seed: int
    input_frames: int


def run(model, source: ImageInput, output: str | os.PathLike, request: Request, *, progress: Progress | None = None,
        names: Mapping[str, str] = PYTHON_NAMES) -> Result:
    """The whole path for one input and one output file: load (header checks) -> decode -> render -> save.

    ``request`` must have been through `check` (with this ``output``).
    """
    io.check_output_path(output)
    still = load(source, request, names=names)
    anim, input_frames = render(model, still, request, progress=progress)
    return Result(save(anim, output, request, progress=progress), anim, request.seed, input_frames)


def animate(model, image: ImageInput, request: Request) -> io.Animation:
    """``Generator.animate``: check, load, render (no file)."""
    request = check(request)
    return render(model, load(image, request), request)[0]
