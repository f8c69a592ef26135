"""LINE animated stickers (LINE Creators Market guideline) written as APNG.

Sticker (``format="line"``): 5-20 frames, at most 320x270 with one side >= 270, 1-4 loops whose
combined playback is at most 4 s, at most 300 KB, a transparent background, and not all frames
identical. Main image (``format="line-main"``): exactly 240x240, otherwise the same rules.
Nothing is silently clamped: frames are never dropped and an impossible request is a
``ValueError`` naming the limit. To meet the byte budget we optimise losslessly (oxipng) first,
then reduce to one shared palette of 256, 128, 64, 32, 16 colours until it fits.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import encode_apng, validate_frames
from .atomic import check_output_path, write_bytes_atomic
from .formats import fit_size
from .letterbox import letterbox_box, resize_rgba
from .palette import quantize_frames
from .tensor import is_pixel_art

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineLimits:
    min_frames: int = 5
    max_frames: int = 20
    max_width: int = 320
    max_height: int = 270
    min_side: int = 270  # at least one of width, height
    main_size: int = 240  # line-main: exactly main_size x main_size
    min_loops: int = 1
    max_loops: int = 4
    max_play_ms: int = 4000  # loops x one play
    max_bytes: int = 300_000  # "300 KB"; we read it as 300,000 bytes, the stricter reading


LINE_LIMITS = LineLimits()
# Palette sizes tried, in order, when the lossless file is over the byte budget.
LINE_COLOR_STEPS = (256, 128, 64, 32, 16)


def line_size(width: int, height: int) -> tuple[int, int]:
    """The LINE sticker size for a ``width x height`` image: aspect kept, as large as fits 320x270.

    The image is scaled (up or down) by ``min(320 / width, 270 / height)``. When the height limits
    the scale the height is 270; when the width does, the width is 320; so one side is always >= 270
    and both rules hold for every aspect ratio (the other side is at least 1 px).

    Args:
        width: image width, >= 1.
        height: image height, >= 1.

    Returns:
        ``(w, h)`` in pixels.
    """
    return fit_size(width, height, (LINE_LIMITS.max_width, LINE_LIMITS.max_height))


def _fit(images: list[Image.Image], main: bool) -> list[np.ndarray]:
    frames = [im.convert("RGBA") for im in images]
    width, height = frames[0].size
    resample = "nearest" if is_pixel_art(frames[0]) else "lanczos"
    lim = LINE_LIMITS
    if main:
        if (width, height) == (lim.main_size, lim.main_size):
            return [np.asarray(f) for f in frames]
        box = letterbox_box(width, height, lim.main_size)
        out = []
        for f in frames:
            canvas = Image.new("RGBA", (lim.main_size, lim.main_size), (0, 0, 0, 0))
            canvas.paste(resize_rgba(f, (box.width, box.height), resample), (box.left, box.top))
            out.append(np.asarray(canvas))
        return out
    target = (width, height)
    fits = width <= lim.max_width and height <= lim.max_height and max(width, height) >= lim.min_side
    if not fits:
        target = line_size(width, height)
        logger.info("resizing %dx%d frames to %dx%d for LINE (%s)", width, height, *target, resample)
    return [np.asarray(resize_rgba(f, target, resample)) for f in frames]


def line_loops(durations_ms: Sequence[int], loops: int | None = None) -> int:
    """The loop count for a LINE sticker: the largest of 1..4 with ``loops * total <= 4 s``.

    Raises:
        ValueError: one play is longer than 4 s or has no duration, or a given ``loops`` breaks a limit.
    """
    lim = LINE_LIMITS
    total = int(sum(durations_ms))
    if total <= 0:
        raise ValueError("LINE stickers need a positive duration, got 0 ms")
    if total > lim.max_play_ms:
        raise ValueError(f"LINE stickers play for at most {lim.max_play_ms / 1000:g} s, but one loop lasts {total} ms; use fewer frames or a higher fps")
    if loops is None:
        return min(lim.max_loops, lim.max_play_ms // total)
    if not lim.min_loops <= loops <= lim.max_loops or loops * total > lim.max_play_ms:
        raise ValueError(f"LINE stickers need 1-4 loops with loops x duration <= 4 s, got {loops} x {total} ms")
    return loops


def encode_line(
    frames: Sequence[Image.Image | np.ndarray], durations_ms: Sequence[int], *, main: bool = False, loops: int | None = None
) -> bytes:
    """Encodes a LINE animated sticker (or main image) as APNG bytes meeting every limit (see `write_line`)."""
    lim = LINE_LIMITS
    kind = "LINE main images" if main else "LINE stickers"
    if not lim.min_frames <= len(frames) <= lim.max_frames:
        raise ValueError(f"{kind} need {lim.min_frames}-{lim.max_frames} frames, got {len(frames)}")
    images = validate_frames(frames, durations_ms)
    num_plays = line_loops(durations_ms, loops)
    arrays = _fit(images, main)
    if all(np.array_equal(arrays[0], a) for a in arrays[1:]):
        raise ValueError(f"{kind} must move, but all {len(arrays)} frames are identical (a static result)")
    opaque = [i for i, a in enumerate(arrays) if not np.any(a[..., 3] == 0)]
    if opaque:
        raise ValueError(f"{kind} need a transparent background, but frame {opaque[0]} has no transparent pixel")
    data = encode_apng(arrays, durations_ms, loop=num_plays, optimize=True)
    colors = None
    if len(data) > lim.max_bytes:
        for colors in LINE_COLOR_STEPS:
            indices, palette = quantize_frames(arrays, colors)
            paletted = []
            for idx in indices:
                image = Image.frombytes("P", (idx.shape[1], idx.shape[0]), np.ascontiguousarray(idx).tobytes())
                image.putpalette(palette.tobytes(), "RGBA")
                paletted.append(image)
            data = encode_apng(paletted, durations_ms, loop=num_plays, optimize=True)
            if len(data) <= lim.max_bytes:
                break
    if len(data) > lim.max_bytes:
        raise ValueError(
            f"{kind} must be at most {lim.max_bytes} bytes, but even at {colors} colours this one is {len(data)} bytes; "
            "use fewer frames or a simpler image"
        )
    logger.info("LINE APNG: %d frames, %dx%d, %d loops, %d bytes, %s colours",
                len(arrays), arrays[0].shape[1], arrays[0].shape[0], num_plays, len(data), colors or "all")
    return data


def write_line(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    *,
    main: bool = False,
    loops: int | None = None,
) -> Path:
    """Writes a LINE animated sticker (or, with ``main=True``, a main image) as an APNG, atomically.

    Frames of another size are resized, aspect kept, to `line_size` (sticker) or letterboxed into
    240x240 (main image): nearest-neighbour for pixel art (`is_pixel_art`), else Lanczos in
    premultiplied alpha. The loop count is the largest of 1..4 that keeps the playback within 4 s.
    Colours are reduced (never frames) until the file is within 300,000 bytes.

    Args:
        frames: 5-20 PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms; one play must last at most 4 s.
        path: output file (``.png``).
        main: write the 240x240 main image instead of a sticker.
        loops: force a loop count (1-4) instead of the largest that fits.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: a limit that cannot be met, named in the message: frame count, duration, all
            frames identical, no transparent pixel, or bytes even at 16 colours. Nothing is written.
        FileNotFoundError: the output folder does not exist.
    """
    check_output_path(path)
    return write_bytes_atomic(path, encode_line(frames, durations_ms, main=main, loops=loops))
