"""GIF output: one shared palette, 1-bit transparency, disposal 2, delays that track the timeline.

The container is written here and only each frame's LZW data comes from Pillow (a one-frame GIF
per frame, parsed back). Pillow's multi-frame writer merges identical consecutive frames (adding
their delays) and crops frames to the changed area; doing the container ourselves keeps exactly
one full frame per input frame, each with its own delay, disposal and transparent index.
"""

from __future__ import annotations

import io
import logging
import os
import struct
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import validate_frames
from .atomic import check_output_path, write_bytes_atomic
from .formats import GIF_MAX_FPS
from .gif_decode import parse_gif
from .palette import quantize_frames, threshold_alpha

logger = logging.getLogger(__name__)

GIF_ALPHA_THRESHOLD = 128  # alpha >= 128 becomes opaque, alpha < 128 fully transparent
GIF_DISPOSAL = 2  # restore to background: each frame starts from a clear canvas


def _round10(ms: float) -> int:
    return int(np.floor(ms / 10.0 + 0.5)) * 10


def gif_delays(durations_ms: Sequence[int]) -> list[int]:
    """Per-frame GIF delays (multiples of 10 ms) whose running sum tracks the exact timeline.

    ``delay_i = round10(t_{i+1}) - round10(t_i)`` with ``t_i`` the exact start time of frame ``i``,
    so the total is within 5 ms of the exact total and no error accumulates.
    """
    starts = np.concatenate([[0], np.cumsum(durations_ms)])
    return [_round10(starts[i + 1]) - _round10(starts[i]) for i in range(len(durations_ms))]


def _frame_lzw(indices: np.ndarray, palette_rgb: bytes, transparent: int | None):
    """Encodes one frame with Pillow and returns the parsed frame (its table, LZW data, transparent index)."""
    image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), np.ascontiguousarray(indices).tobytes())
    image.putpalette(palette_rgb)
    buf = io.BytesIO()
    extra = {} if transparent is None else {"transparency": transparent}
    image.save(buf, "GIF", optimize=False, interlace=False, **extra)  # our descriptor says "not interlaced"
    return parse_gif(buf.getvalue()).frames[0]


def encode_gif(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    *,
    loop: int = 0,
    alpha_threshold: int = GIF_ALPHA_THRESHOLD,
    dither: float = 0.0,
) -> bytes:
    """Encodes frames as GIF bytes (see `write_gif`)."""
    images = validate_frames(frames, durations_ms)
    delays = gif_delays([int(d) for d in durations_ms])
    if min(delays) < 20:
        raise ValueError(
            f"GIF frames shorter than 20 ms (above {GIF_MAX_FPS:g} fps) play slowed down in browsers, "
            f"got a {min(delays)} ms delay; use APNG or WebP for higher frame rates"
        )
    if max(delays) // 10 > 0xFFFF:
        raise ValueError(f"GIF frame delay {max(delays)} ms is longer than 655350 ms")
    arrays = [threshold_alpha(np.asarray(im.convert("RGBA")), alpha_threshold) for im in images]
    indices, palette = quantize_frames(arrays, 256, dither=dither)
    transparent_entries = np.flatnonzero(palette[:, 3] == 0)
    transparent = int(transparent_entries[0]) if len(transparent_entries) else None
    palette_rgb = palette[:, :3].tobytes()
    width, height = images[0].size
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0x70, 0, 0)]  # no global table
    if loop != 1:  # NETSCAPE counts repeats: 0 forever, n -> n + 1 plays; without it a GIF plays once
        out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0 if loop == 0 else loop - 1) + b"\x00")
    for idx, delay in zip(indices, delays):
        fr = _frame_lzw(idx, palette_rgb, transparent)
        flags = (GIF_DISPOSAL << 2) | (1 if fr.transparent is not None else 0)
        out.append(b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay // 10, fr.transparent or 0) + b"\x00")
        table = fr.palette
        bits = max(1, int(np.ceil(np.log2(max(2, len(table) // 3)))))
        table = table + bytes(3 * (1 << bits) - len(table))
        out.append(b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0x80 | (bits - 1)) + table + fr.lzw)
    out.append(b"\x3b")
    return b"".join(out)


def write_gif(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    loop: int = 0,
    *,
    fps: float | None = None,
    alpha_threshold: int = GIF_ALPHA_THRESHOLD,
    dither: float = 0.0,
) -> Path:
    """Writes an animated GIF atomically.

    Transparency is 1-bit: a pixel with ``alpha >= alpha_threshold`` (default 128,
    ``GIF_ALPHA_THRESHOLD``) is opaque, any other is fully transparent. Every frame uses disposal 2
    (cleared before the next) and one palette shared by all frames (libimagequant, no dithering by
    default). GIF delays are whole 1/100 s: delays are chosen so their running sum tracks the exact
    timeline, keeping the total within 10 ms of ``sum(durations_ms)``. Exactly one GIF frame is
    written per input frame, identical or not.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms.
        path: output file.
        loop: number of plays; 0 = forever (the default).
        fps: the frame rate, if known; above 50 it is refused.
        alpha_threshold: 1..255, see above.
        dither: imagequant dithering level in ``[0, 1]``.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: ``fps`` above 50 or a delay under 20 ms (suggests APNG or WebP), bad frames, or an
            unwritable path. Nothing is written then.
        FileNotFoundError: the output folder does not exist.
    """
    if fps is not None and fps > GIF_MAX_FPS:
        raise ValueError(f"GIF supports at most {GIF_MAX_FPS:g} fps (browsers slow faster GIFs down), got {fps:g}; use APNG (.png) or WebP (.webp)")
    if not 1 <= alpha_threshold <= 255:
        raise ValueError(f"alpha_threshold must be in 1..255, got {alpha_threshold}")
    check_output_path(path)
    return write_bytes_atomic(path, encode_gif(frames, durations_ms, loop=loop, alpha_threshold=alpha_threshold, dither=dither))
