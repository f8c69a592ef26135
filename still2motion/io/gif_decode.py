"""GIF decoding: the file is split into blocks here, each frame's LZW data is decoded by Pillow
on its own, and the frames are composed here the way browsers show them.

Rules (GIF89a, as browsers apply them): the canvas starts fully transparent; each frame paints
its rectangle except where the pixel index is the frame's transparent index; the canvas is then
the output frame; finally the frame's **own** disposal method applies: 0 (unspecified) and 1
(keep) leave the canvas, 2 clears the rectangle to transparent (browsers ignore the background
colour), 3 restores the rectangle to what it was before the frame. Delays are in 1/100 s.

Pillow composes GIFs too, but how it applies disposal, background colour and a first frame's
palette has changed between releases; composing here keeps the result fixed.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .types import AnimationData

logger = logging.getLogger(__name__)


class GIFFormatError(ValueError):
    """A malformed GIF; the message says how (no file name: callers add it)."""


@dataclass
class GIFFrame:
    x: int
    y: int
    width: int
    height: int
    interlaced: bool
    palette: bytes  # RGB triplets: the local table, else the global one (may be empty)
    lzw: bytes  # min code size byte + data sub-blocks + terminator
    delay_cs: int
    disposal: int
    transparent: int | None


@dataclass
class GIFStructure:
    width: int
    height: int
    frames: list[GIFFrame]  # the first ``max_frames`` of them (all when parsed without a limit)
    loop: int  # plays, 0 = forever
    n_frames: int = 0  # frames in the file, kept or not
    canvas: tuple[int, int] = (0, 0)  # (width, height) of the composed frames: see `canvas_size`


def _sub_blocks_end(data: bytes, pos: int) -> int:
    """Returns the offset just after the 0-length terminator of the sub-blocks starting at ``pos``."""
    end = len(data)
    while True:
        if pos >= end:
            raise GIFFormatError("truncated image")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
        if pos > end:
            raise GIFFormatError("truncated image")


def _read_table(data: bytes, pos: int, packed: int) -> tuple[bytes, int]:
    if not packed & 0x80:
        return b"", pos
    size = 3 << ((packed & 7) + 1)
    if pos + size > len(data):
        raise GIFFormatError("truncated image")
    return data[pos : pos + size], pos + size


def parse_gif(data: bytes, *, max_pixels: int | None = None, max_frames: int | None = None) -> GIFStructure:
    """Splits a GIF into frames (rectangle, palette, LZW data, delay, disposal, transparency) and loop count.

    Every frame is counted, and its rectangle grows the canvas, but only the first ``max_frames`` are kept: a file
    of a million tiny frames costs a pass over its bytes, not a million frame records.
    """
    if len(data) < 13 or data[:6] not in (b"GIF87a", b"GIF89a"):
        raise GIFFormatError("truncated image" if data[:3] == b"GIF" else "not a GIF file")
    width, height, packed = struct.unpack("<HHB", data[6:11])
    if max_pixels is not None and width * height > max_pixels:
        raise GIFFormatError(f"image is {width}x{height} = {width * height} pixels, more than the limit of {max_pixels} (max_pixels)")
    global_table, pos = _read_table(data, 13, packed)
    frames: list[GIFFrame] = []
    count, canvas_w, canvas_h = 0, width, height
    loop: int | None = None
    gce: tuple[int, int, int | None] | None = None  # (delay_cs, disposal, transparent index)
    while True:
        if pos >= len(data):
            if not count:
                raise GIFFormatError("truncated image")
            logger.warning("GIF has no trailer; using the %d complete frames", count)
            break
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension
            if pos + 2 > len(data):
                raise GIFFormatError("truncated image")
            label = data[pos + 1]
            start = pos + 2
            pos = _sub_blocks_end(data, start)
            if label == 0xF9 and data[start] >= 4:
                flags, delay = struct.unpack("<BH", data[start + 1 : start + 4])
                gce = (delay, (flags >> 2) & 7, data[start + 4] if flags & 1 else None)
            elif label == 0xFF and data[start : start + 12] in (b"\x0bNETSCAPE2.0", b"\x0bANIMEXTS1.0"):
                sub = data[start + 12 : start + 16]
                if len(sub) == 4 and sub[0] >= 3 and sub[1] == 1:
                    repeats = struct.unpack("<H", sub[2:4])[0]
                    loop = 0 if repeats == 0 else repeats + 1
        elif introducer == 0x2C:  # image descriptor
            if pos + 10 > len(data):
                raise GIFFormatError("truncated image")
            x, y, w, h, flags = struct.unpack("<HHHHB", data[pos + 1 : pos + 10])
            table, pos = _read_table(data, pos + 10, flags)
            if pos >= len(data):
                raise GIFFormatError("truncated image")
            lzw_start = pos
            pos = _sub_blocks_end(data, pos + 1)
            delay, disposal, transparent = gce if gce is not None else (0, 0, None)
            if w and h:
                count += 1
                canvas_w, canvas_h = max(canvas_w, x + w), max(canvas_h, y + h)
                if max_frames is None or count <= max_frames:
                    frames.append(GIFFrame(x, y, w, h, bool(flags & 0x40), table or global_table, data[lzw_start:pos],
                                           delay, disposal, transparent))
            gce = None
        else:
            raise GIFFormatError(f"bad GIF block 0x{introducer:02x} at byte {pos}")
    if not count:
        raise GIFFormatError("GIF has no frames")
    return GIFStructure(width, height, frames, 1 if loop is None else loop, count, (canvas_w, canvas_h))


# A palette whose entry i is (i, 0, 0): never all grey, so Pillow keeps mode "P" and hands us raw indices.
_INDEX_PALETTE = bytes(b for i in range(256) for b in (i, 0, 0))


def _decode_indices(frame: GIFFrame, index: int) -> np.ndarray:
    """Decodes one frame's LZW data to an ``(h, w)`` array of palette indices, using Pillow."""
    lsd = struct.pack("<HHBBB", frame.width, frame.height, 0xF7, 0, 0)
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, frame.width, frame.height, 0x40 if frame.interlaced else 0)
    gif = b"GIF89a" + lsd + _INDEX_PALETTE + descriptor + frame.lzw + b"\x3b"
    try:
        with Image.open(io.BytesIO(gif)) as im:
            im.load()
            if im.mode != "P":
                raise GIFFormatError(f"unexpected decoded mode {im.mode}")
            return np.asarray(im).copy()
    except (OSError, SyntaxError) as exc:
        raise GIFFormatError(f"GIF frame {index}: {exc}") from None


def canvas_size(structure: GIFStructure) -> tuple[int, int]:
    """``(width, height)`` of the composed frames: the logical screen, grown to hold every frame's rectangle."""
    return structure.canvas


def gif_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` the decoder will compose ``data`` at (see `canvas_size`), from its blocks alone (no pixel
    is decoded); ``None`` for a malformed GIF (decoding it reports how)."""
    try:
        return canvas_size(parse_gif(data, max_frames=0))
    except GIFFormatError:
        return None


def compose_gif(structure: GIFStructure, *, max_frames: int | None = None) -> AnimationData:
    """Composites the frames of a parsed GIF (rules in the module docstring)."""
    width, height = canvas_size(structure)
    canvas = np.zeros((height, width, 4), np.uint8)
    out: list[np.ndarray] = []
    for i, fr in enumerate(structure.frames[:max_frames]):
        region = (slice(fr.y, fr.y + fr.height), slice(fr.x, fr.x + fr.width))
        saved = canvas[region].copy() if fr.disposal == 3 else None
        indices = _decode_indices(fr, i)
        palette = np.zeros((256, 4), np.uint8)
        rgb = np.frombuffer(fr.palette, np.uint8).reshape(-1, 3)[:256]
        palette[: len(rgb), :3] = rgb
        palette[:, 3] = 255  # indices past the table show black, as browsers do
        visible = np.ones(indices.shape, bool) if fr.transparent is None else indices != fr.transparent
        target = canvas[region]
        target[visible] = palette[indices[visible]]
        out.append(canvas.copy())
        if fr.disposal == 2:
            canvas[region] = 0
        elif fr.disposal == 3:
            canvas[region] = saved
    return AnimationData(out, [f.delay_cs * 10 for f in structure.frames[: len(out)]], structure.loop)


def decode_gif(data: bytes, *, max_pixels: int, max_frames: int, first_only: bool = False) -> tuple[AnimationData, int]:
    """Decodes a GIF byte string; returns ``(animation, n_frames)``.

    Raises:
        GIFFormatError: a malformed file, too many pixels or frames.
    """
    structure = parse_gif(data, max_pixels=max_pixels, max_frames=max_frames)
    n = structure.n_frames
    width, height = canvas_size(structure)
    if width * height > max_pixels:
        raise GIFFormatError(f"image is {width}x{height} = {width * height} pixels, more than the limit of {max_pixels} (max_pixels)")
    if n > max_frames:
        raise GIFFormatError(f"{n} frames is more than the limit of {max_frames} (max_frames)")
    return compose_gif(structure, max_frames=1 if first_only else None), n
