"""One shared palette for all frames of an animation (GIF output, LINE colour reduction).

A single palette keeps colours from flickering between frames and is what an APNG with one
PLTE needs. The quantizer is libimagequant (the `imagequant` package): on the Kenney sprites in
tests/fixtures it gave a lower error than Pillow's MEDIANCUT/MAXCOVERAGE/FASTOCTREE at every
palette size we measured (see docs/formats.md). Dithering is off by default: error diffusion
changes pixels downstream of any motion, which shimmers in a loop.
"""

from __future__ import annotations

from typing import Sequence

import imagequant
import numpy as np


def quantize_frames(
    frames: Sequence[np.ndarray], max_colors: int = 256, *, dither: float = 0.0
) -> tuple[list[np.ndarray], np.ndarray]:
    """Maps RGBA frames onto one shared palette of at most ``max_colors`` RGBA entries.

    Args:
        frames: ``np.uint8 (H, W, 4)`` straight RGBA arrays, all one size.
        max_colors: 2..256.
        dither: imagequant dithering level in ``[0, 1]``.

    Returns:
        ``(indices, palette)``: one ``np.uint8 (H, W)`` index array per frame, and ``palette``
        ``np.uint8 (P, 4)`` RGBA with ``P <= max_colors``.
    """
    if not 2 <= max_colors <= 256:
        raise ValueError(f"max_colors must be in 2..256, got {max_colors}")
    height, width = frames[0].shape[:2]
    montage = np.ascontiguousarray(np.concatenate(list(frames), axis=0))  # (T*H, W, 4): one image, so one palette
    # The raw-bytes entry point: quantize_pil_image copies pixels through a Python list (seconds per megapixel).
    raw, flat_palette = imagequant.quantize_raw_rgba_bytes(
        montage.tobytes(), width, montage.shape[0], dithering_level=dither, max_colors=max_colors
    )
    indices = np.frombuffer(raw, np.uint8).reshape(montage.shape[:2])
    palette = np.asarray(flat_palette, np.uint8).reshape(-1, 4)
    used = int(indices.max()) + 1
    return [indices[i * height : (i + 1) * height] for i in range(len(frames))], palette[:used].copy()


def threshold_alpha(frame: np.ndarray, threshold: int) -> np.ndarray:
    """Makes alpha 1-bit: ``alpha >= threshold`` becomes 255, the rest fully transparent black."""
    out = frame.copy()
    opaque = frame[..., 3] >= threshold
    out[opaque, 3] = 255
    out[~opaque] = 0
    return out
