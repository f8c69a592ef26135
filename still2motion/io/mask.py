"""Reading a motion mask (the brush): white moves, black stays, grey is a soft edge.

A mask with transparency (a brush layer painted over nothing) is read from its alpha: painted = moves. Otherwise its
luminance is the mask. Either way it is resized to the image it applies to.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from .read import DEFAULT_MAX_PIXELS, read_image


def _from_rgba(rgba: Image.Image) -> Image.Image:
    """``"L"`` weights from an RGBA mask: its alpha where it has transparency, else its luminance."""
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] < 255:
        return alpha
    return rgba.convert("RGB").convert("L")


def read_mask(
    source: str | os.PathLike | Image.Image | np.ndarray, size: tuple[int, int] | None, *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Reads a mask and resizes it to ``size``.

    Args:
        source: a path, a PIL image (any mode), or an array: ``(H, W)`` bool, uint8 (0..255) or float (0..1), or
            ``(H, W, 3 | 4)`` uint8.
        size: ``(width, height)`` of the image the mask applies to; ``None`` keeps the mask's own size.
        max_pixels: refuse larger mask files.

    Returns:
        ``float32 (height, width)`` weights in ``[0, 1]``; 1 = moves. (Such an array read again is used as it is.)

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        ValueError: an unreadable file or an array of another shape or dtype (one line naming it).
        TypeError: ``source`` of another type.
    """
    if isinstance(source, np.ndarray):
        arr = source
        if arr.ndim == 2 and arr.dtype == bool:
            gray = Image.fromarray(arr.astype(np.uint8) * 255, "L")
        elif arr.ndim == 2 and arr.dtype == np.uint8:
            gray = Image.fromarray(arr, "L")
        elif arr.ndim == 2 and np.issubdtype(arr.dtype, np.floating):
            if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
                raise ValueError(f"a float mask must hold values in [0, 1], got {arr.min()}..{arr.max()}")
            gray = Image.fromarray(np.round(arr * 255).astype(np.uint8), "L")
        elif arr.ndim == 3 and arr.shape[2] in (3, 4) and arr.dtype == np.uint8:
            gray = _from_rgba(Image.fromarray(arr).convert("RGBA"))
        else:
            raise ValueError(f"mask array must be (H, W) or (H, W, 3 | 4) uint8, bool or float, got {arr.dtype} {arr.shape}")
    elif isinstance(source, (str, os.PathLike, Image.Image)):
        try:
            gray = _from_rgba(read_image(source, max_pixels=max_pixels).image)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"mask: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"mask: {exc}") from None
    else:
        raise TypeError(f"mask must be a path, a PIL image or a numpy array, got {type(source).__name__}")
    if size is not None and gray.size != tuple(size):
        gray = gray.resize(tuple(size), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.float32) / 255.0
