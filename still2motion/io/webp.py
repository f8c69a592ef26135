"""Animated WebP output through Pillow (libwebp's animation encoder)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import validate_frames
from .atomic import atomic_output, check_output_path

logger = logging.getLogger(__name__)

# optimize= -> libwebp method (lossless / lossy) and lossless effort; "max" is the old default (method 4, effort 100).
EFFORT = {
    "none": {"method": 0, "method_lossy": 0, "effort": 0},
    "fast": {"method": 2, "method_lossy": 4, "effort": 50},
    "max": {"method": 4, "method_lossy": 6, "effort": 100},
}


def write_webp(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    loop: int = 0,
    *,
    quality: int | None = None,
    method: int | None = None,
    optimize: str = "fast",
) -> Path:
    """Writes an animated WebP atomically, lossless by default.

    libwebp stores frame timestamps in ms, so the total duration is exactly ``sum(durations_ms)``.
    It may merge identical consecutive frames into one longer frame; the timeline is unchanged.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms.
        path: output file.
        loop: number of plays; 0 = forever.
        quality: ``None`` for lossless; 0..100 for lossy at that quality.
        method: libwebp effort 0 (fast) .. 6 (small); default: from ``optimize``.
        optimize: ``"none"``, ``"fast"`` (default) or ``"max"``: libwebp's method (and, lossless, its effort) in
            `EFFORT`; on 256x256 x 20 frames lossless "max" took ~40x the time of "fast" for 7 % less
            (benchmarks/optimize.py).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: bad frames, durations, quality, or an unwritable path.
        FileNotFoundError: the output folder does not exist.
    """
    images = [im.convert("RGBA") for im in validate_frames(frames, durations_ms)]
    if quality is not None and not 0 <= quality <= 100:
        raise ValueError(f"quality must be in 0..100 (or None for lossless), got {quality}")
    if optimize not in EFFORT:
        raise ValueError(f"optimize must be one of {', '.join(EFFORT)}, got {optimize!r}")
    effort = EFFORT[optimize]
    method = effort["method_lossy" if quality is not None else "method"] if method is None else method
    if not 0 <= method <= 6:
        raise ValueError(f"method must be in 0..6, got {method}")
    check_output_path(path)
    # Lossless, libwebp's "quality" is its compression effort, not fidelity.
    options = {"lossless": True, "quality": effort["effort"]} if quality is None else {"lossless": False, "quality": int(quality)}
    with atomic_output(path) as tmp:
        images[0].save(
            tmp,
            "WEBP",
            save_all=True,
            append_images=images[1:],
            duration=[int(d) for d in durations_ms],
            loop=int(loop),
            method=method,
            exact=True,  # keep RGB under alpha 0 as given (from_tensor zeroes it), not libwebp's choice
            **options,
        )
    return Path(path)
