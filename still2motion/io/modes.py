"""Normalising every Pillow mode to straight-alpha RGBA uint8."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}


def _scale_16_to_8(values: np.ndarray) -> np.ndarray:
    # 65535 -> 255 exactly, rounding to nearest (Pillow's own I;16 -> L conversion clips instead).
    return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _gray_with_transparency(gray: np.ndarray, mask: np.ndarray | None) -> Image.Image:
    alpha = np.full(gray.shape, 255, np.uint8) if mask is None else np.where(mask, 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([gray, gray, gray, alpha], axis=-1), "RGBA")


def to_rgba(image: Image.Image) -> Image.Image:
    """Converts any Pillow image to mode ``"RGBA"`` with straight alpha.

    Rules, per mode:
        * ``RGBA``: a copy.
        * ``P``/``PA``/``L``/``LA``/``RGB``/``1``/``CMYK``/``YCbCr``/``LAB``/``HSV``/``RGBa``/``La``: Pillow's
          ``convert("RGBA")``, which applies a ``tRNS`` transparency (``info["transparency"]``) and
          un-premultiplies ``RGBa``/``La``. Pillow's JPEG reader already undoes Adobe's inverted CMYK.
        * ``I;16*`` (16-bit grey): scaled to 8 bits with ``round(v * 255 / 65535)``, not clipped; a
          ``tRNS`` grey value becomes alpha 0.
        * ``I`` (32-bit int): treated as 16-bit when its maximum exceeds 255, else as 8-bit.
        * ``F`` (float): treated as ``[0, 1]`` when its maximum is at most 1, else as ``[0, 255]``; clipped.

    Args:
        image: any Pillow image (only the current frame is used).

    Returns:
        A new ``"RGBA"`` image of the same size.

    Raises:
        ValueError: for a mode Pillow cannot convert.
    """
    mode = image.mode
    if mode == "RGBA":
        return image.copy()
    transparency = image.info.get("transparency")
    if mode in _SIXTEEN_BIT or mode == "I" or mode == "F":
        arr = np.asarray(image)
        if mode == "F":
            arr = arr.astype(np.float64)
            top = np.nanmax(arr) if arr.size else 0.0
            gray = np.clip(np.rint(arr * 255.0 if top <= 1.0 else arr), 0, 255).astype(np.uint8)
        elif mode in _SIXTEEN_BIT or (arr.size and int(arr.max()) > 255):
            gray = _scale_16_to_8(np.clip(arr, 0, 65535))
        else:
            gray = np.clip(arr, 0, 255).astype(np.uint8)
        mask = (arr == transparency) if isinstance(transparency, int) else None
        return _gray_with_transparency(gray, mask)
    try:
        return image.convert("RGBA")
    except (ValueError, OSError) as exc:
        raise ValueError(f"unsupported image mode {mode!r}: {exc}") from None
