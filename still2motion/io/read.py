"""Reading stills and animations from files (PNG, APNG, GIF, WebP, JPEG, BMP, ...)."""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .apng_decode import check_pixels, decode_apng
from .gif_decode import decode_gif, gif_size
from .modes import to_rgba
from .png_chunks import PNG_SIGNATURE
from .types import AnimationData, ReadResult

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_MAX_FRAMES = 1000


def _load_bytes(source: str | os.PathLike) -> tuple[bytes, str]:
    path = Path(source)
    name = path.name or str(path)
    if not path.exists():
        raise FileNotFoundError(f"cannot read '{path}': no such file")
    if path.is_dir():
        raise ValueError(f"cannot read '{path}': it is a folder, not an image")
    data = path.read_bytes()
    if not data:
        raise ValueError(f"cannot read '{path}': empty file (0 bytes)")
    return data, name


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f"cannot read '{name}': {message}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not an image, or a format that is not supported"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "truncated" in text.lower() or "broken data stream" in text.lower() or isinstance(exc, EOFError):
        return "truncated image"
    return text


def _open_pillow(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Opens with Pillow (header only), checking the pixel count before anything is decoded."""
    try:
        with warnings.catch_warnings():
            # Our max_pixels check below is the authority; Pillow's warning would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{match.group(1)} pixels" if match else "too many pixels"
        raise _fail(name, f"image is {size}, more than the limit of {max_pixels} (max_pixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _fail(name, _describe(exc)) from None
    width, height = image.size
    try:
        check_pixels(width, height, max_pixels)
    except ValueError as exc:
        raise _fail(name, str(exc)) from None
    return image


def _decode_still(image: Image.Image, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            return to_rgba(ImageOps.exif_transpose(image))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise _fail(name, _describe(exc)) from None


def _decode_animated(data: bytes, name: str, max_pixels: int, max_frames: int, first_only: bool) -> tuple[AnimationData, int, str] | None:
    """APNG and GIF go through our own composers; returns None for anything else (or a still PNG)."""
    try:
        if data.startswith(PNG_SIGNATURE):
            result = decode_apng(data, max_pixels=max_pixels, max_frames=max_frames, first_only=first_only)
            return None if result is None else (*result, "PNG")
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return (*decode_gif(data, max_pixels=max_pixels, max_frames=max_frames, first_only=first_only), "GIF")
    except ValueError as exc:
        raise _fail(name, str(exc)) from None
    return None


@dataclass
class Loaded:
    """An image whose header has been read and checked, nothing decoded yet (see `load_image`).

    Attributes:
        name: the file name (or ``"the image"`` / ``"the array"``) for messages.
        size: ``(width, height)`` as it will be decoded: EXIF orientation already applied.
        data: the file's bytes (``None`` for an image given in memory).
        image: the in-memory image (``None`` for a file).
    """

    name: str
    size: tuple[int, int]
    data: bytes | None = None
    image: Image.Image | None = None


_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def _from_array(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"an image array must be uint8 (H, W, 3) or (H, W, 4), got {array.dtype} {array.shape}")
    return Image.fromarray(np.ascontiguousarray(array), "RGBA" if array.shape[2] == 4 else "RGB")


def _png_gif_size(data: bytes) -> tuple[int, int] | None:
    """The size our own decoders give: a PNG's IHDR; a GIF's logical screen grown to hold every frame (as
    `decode_gif` composes it; Pillow reports the screen alone)."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return gif_size(data) or (int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little"))
    return None


def load_image(source: str | os.PathLike | Image.Image | np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Loaded:
    """Reads a file's bytes once and checks its header (pixel count) before anything is decoded.

    Args:
        source: a path, a PIL image, or a ``np.uint8`` array ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (straight RGBA).
        max_pixels: refuse images with more pixels than this.

    Raises:
        FileNotFoundError, ValueError, TypeError: as `read_image`.
    """
    if isinstance(source, np.ndarray):
        source = _from_array(source)
        source.filename = "the array"
    if isinstance(source, Image.Image):
        name = getattr(source, "filename", "") or "the image"
        width, height = source.size
        if width * height > max_pixels:
            raise _fail(name, f"image is {width}x{height} = {width * height} pixels, more than the limit of {max_pixels} (max_pixels)")
        orientation = source.getexif().get(0x0112, 1) if source.format in ("JPEG", "WEBP", "PNG", "TIFF") else 1
        return Loaded(name, (height, width) if orientation in _ROTATED else (width, height), image=source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path, a PIL.Image.Image or a uint8 numpy array, got {type(source).__name__}")
    data, _ = _load_bytes(source)
    own = _png_gif_size(data)  # our own header parse first: Pillow's bomb error does not say the size
    if own is not None:
        try:
            check_pixels(*own, max_pixels)
        except ValueError as exc:
            raise _fail(str(source), str(exc)) from None
    with _open_pillow(data, str(source), max_pixels) as image:
        width, height = image.size if own is None or image.format != "GIF" else own
        try:
            orientation = image.getexif().get(0x0112, 1) if image.format in ("JPEG", "WEBP", "PNG", "TIFF") else 1
        except Exception:  # a broken EXIF block is not this check's business; decoding reports real damage
            orientation = 1
    return Loaded(str(source), (height, width) if orientation in _ROTATED else (width, height), data=data)


def decode_image(loaded: Loaded, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_frames: int = DEFAULT_MAX_FRAMES) -> ReadResult:
    """Decodes what `load_image` checked: the still (or the first frame of an animation) as straight RGBA.

    An animation of more than ``max_frames`` frames is refused, though only its first frame is decoded: counting
    frames is a pass over the whole file, and a file of millions of frames is no still.
    """
    if loaded.image is not None:
        source = loaded.image
        return ReadResult(_decode_still(source, loaded.name), int(getattr(source, "n_frames", 1)), source.format)
    animated = _decode_animated(loaded.data, loaded.name, max_pixels, max_frames, first_only=True)
    if animated is not None:
        anim, n_frames, fmt = animated
        return ReadResult(Image.fromarray(anim.frames[0], "RGBA"), n_frames, fmt)
    with _open_pillow(loaded.data, loaded.name, max_pixels) as image:
        n_frames = int(getattr(image, "n_frames", 1))
        if n_frames > max_frames:
            raise _fail(loaded.name, f"{n_frames} frames is more than the limit of {max_frames} (max_frames)")
        return ReadResult(_decode_still(image, loaded.name), n_frames, image.format)


def read_image(
    source: str | os.PathLike | Image.Image | np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> ReadResult:
    """Reads a still image (or the first frame of an animation) as straight RGBA.

    Supports PNG, APNG, JPEG, WebP (animated too), BMP, GIF and anything else Pillow opens. EXIF
    orientation is applied to stills; every mode is normalised to RGBA (see `to_rgba`). The pixel
    count is checked from the header, before any pixel is decoded.

    Args:
        source: a path, an already opened ``PIL.Image.Image`` (its current frame is used), or a ``np.uint8`` array
            ``(H, W, 3)`` / ``(H, W, 4)``.
        max_pixels: refuse images with more pixels than this.
        max_frames: refuse an animated file of more frames than this (only the first is decoded).

    Returns:
        ``ReadResult(image, n_frames, format)``: ``image`` is mode ``"RGBA"`` uint8; for an animated file
        it is the first composited frame and ``n_frames`` is the frame count.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: empty file, not an image, truncated or corrupt, more than ``max_pixels`` pixels or
            ``max_frames`` frames; the message is one line naming the file.
        TypeError: ``source`` is neither a path, a PIL image nor an array.
    """
    return decode_image(load_image(source, max_pixels=max_pixels), max_pixels=max_pixels, max_frames=max_frames)


def read_size(source: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` of an image file as stored, from its header alone: no pixel is decoded.

    For size limits that must hold before the work starts (an EXIF rotation swaps the sides, not the pixel count).

    Raises:
        FileNotFoundError, ValueError: as `read_image` for a missing, empty, unrecognised or too large file.
    """
    data, _ = _load_bytes(source)
    with _open_pillow(data, str(source), max_pixels) as image:
        return image.size


def read_animation(
    source: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_frames: int = DEFAULT_MAX_FRAMES
) -> AnimationData:
    """Reads every frame of an animated (or still) image, fully composited.

    APNG and GIF are composed by our own code (dispose/blend ops, sub-rectangles, each GIF frame's
    own disposal, transparency); animated WebP is composed by libwebp through Pillow. A still image
    gives one frame with duration 0.

    Args:
        source: path of the file.
        max_pixels: refuse a canvas of more pixels than this (checked before decoding).
        max_frames: refuse files with more frames than this.

    Returns:
        ``AnimationData(frames, durations_ms, loop)``: frames are ``np.uint8 (H, W, 4)`` straight RGBA;
        ``loop`` is the number of plays, 0 meaning forever.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: empty, not an image, truncated or corrupt, too many pixels or frames (one line
            naming the file).
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path, got {type(source).__name__}")
    data, _ = _load_bytes(source)
    name = str(source)
    animated = _decode_animated(data, name, max_pixels, max_frames, first_only=False)
    if animated is not None:
        return animated[0]
    with _open_pillow(data, name, max_pixels) as image:
        n_frames = int(getattr(image, "n_frames", 1))
        if n_frames > max_frames:
            raise _fail(name, f"{n_frames} frames is more than the limit of {max_frames} (max_frames)")
        if n_frames == 1:
            return AnimationData([np.asarray(_decode_still(image, name))], [int(image.info.get("duration", 0) or 0)], 0)
        frames, durations = [], []
        try:
            for i in range(n_frames):
                image.seek(i)
                image.load()
                frames.append(np.asarray(to_rgba(image)))
                durations.append(int(round(image.info.get("duration", 0) or 0)))
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _fail(name, _describe(exc)) from None
        return AnimationData(frames, durations, int(image.info.get("loop", 0)))
