"""The one letterbox: fit an image into a transparent square canvas, aspect kept.

Inference and the training data loader both call `letterbox`, so the model always sees inputs
prepared the same way. The box it returns maps the image into canvas pixels.
"""

from __future__ import annotations

from typing import NamedTuple

from PIL import Image

# "bilinear" is Pillow's BILINEAR, whose support widens with the scale factor, so it antialiases
# when downscaling (it is not the 2x2-tap bilinear of GPUs); "nearest" keeps pixel art crisp.
RESAMPLE = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR}


class Box(NamedTuple):
    """Where the image sits in the canvas, in canvas pixels."""

    left: int
    top: int
    width: int
    height: int


def letterbox_box(width: int, height: int, size: int) -> Box:
    """Computes where a ``width x height`` image lands in a ``size x size`` canvas.

    The longer side becomes ``size``; the shorter one ``round(side * size / longer)``, at least 1 px;
    the image is centred, with any odd pixel of padding on the right/bottom.

    Args:
        width: image width in pixels, >= 1.
        height: image height in pixels, >= 1.
        size: canvas side in pixels, >= 1.

    Returns:
        ``Box(left, top, width, height)`` in canvas pixels.

    Raises:
        ValueError: a non-positive dimension.
    """
    if width < 1 or height < 1 or size < 1:
        raise ValueError(f"width, height and size must be >= 1, got {width}, {height}, {size}")
    longer = max(width, height)
    w = size if width == longer else max(1, min(size, round(width * size / longer)))
    h = size if height == longer else max(1, min(size, round(height * size / longer)))
    return Box((size - w) // 2, (size - h) // 2, w, h)


def resize_rgba(image: Image.Image, size: tuple[int, int], resample: str = "bilinear") -> Image.Image:
    """Resizes an RGBA image in premultiplied space, so fully transparent pixels' RGB never bleeds.

    Args:
        image: mode ``"RGBA"``.
        size: ``(width, height)``.
        resample: ``"nearest"``, ``"bilinear"`` (antialiased when downscaling) or ``"lanczos"``.

    Returns:
        A new ``"RGBA"`` image.
    """
    if image.mode != "RGBA":
        raise ValueError(f"image must be mode 'RGBA', got {image.mode!r}")
    if resample == "lanczos":
        filt = Image.Resampling.LANCZOS
    elif resample in RESAMPLE:
        filt = RESAMPLE[resample]
    else:
        raise ValueError(f"resample must be one of 'nearest', 'bilinear', 'lanczos', got {resample!r}")
    if image.size == tuple(size):
        return image.copy()
    if filt == Image.Resampling.NEAREST:
        return image.resize(size, filt)
    return image.convert("RGBa").resize(size, filt).convert("RGBA")


def letterbox_resample(width: int, height: int, size: int, resample: str = "auto") -> str:
    """Resolves ``"auto"``: ``"nearest"`` when the letterbox scales the image up (crisp pixel art), else
    ``"bilinear"``; ``"nearest"`` and ``"bilinear"`` are returned as they are.

    Raises:
        ValueError: any other ``resample``.
    """
    if resample == "auto":
        return "nearest" if max(width, height) <= size else "bilinear"
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be 'auto', 'nearest' or 'bilinear', got {resample!r}")
    return resample


def letterbox(image: Image.Image, size: int, *, resample: str = "auto") -> tuple[Image.Image, Box]:
    """Fits an RGBA image into a transparent ``size x size`` canvas, aspect kept, centred.

    Resizing happens in premultiplied alpha (``"RGBa"``), so the colour of transparent pixels never
    bleeds into visible ones. Deterministic: the same input always gives the same bytes.

    Args:
        image: mode ``"RGBA"``, any size.
        size: canvas side in pixels.
        resample: ``"auto"`` (nearest when scaling up, else bilinear: the rule training and inference share),
            ``"nearest"`` or ``"bilinear"`` (Pillow's BILINEAR, antialiased when downscaling).

    Returns:
        ``(canvas, box)``: the ``"RGBA"`` canvas and the `Box` the image occupies in it.

    Raises:
        ValueError: a mode other than RGBA, a bad ``resample`` or a non-positive size.
    """
    resample = letterbox_resample(image.width, image.height, size, resample)
    box = letterbox_box(image.width, image.height, size)
    resized = resize_rgba(image, (box.width, box.height), resample)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.paste(resized, (box.left, box.top))
    return canvas, box
