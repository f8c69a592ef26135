"""APNG decoding from the chunks: each frame is decoded on its own and composed here.

Composition follows the APNG spec (https://wiki.mozilla.org/APNG_Specification):
the canvas starts fully transparent; frame ``i`` is drawn into its sub-rectangle with
``blend_op`` SOURCE (replace) or OVER (straight-alpha "over"); the canvas is then the
output frame; finally ``dispose_op`` NONE keeps it, BACKGROUND clears the sub-rectangle to
transparent black, PREVIOUS restores the sub-rectangle to what it was before the frame
(PREVIOUS on the first frame acts as BACKGROUND). An IDAT that comes before the first fcTL
is the default image and is not part of the animation.

We compose ourselves instead of trusting Pillow's APNG plugin because its disposal handling
has changed between releases (Pillow 13.0 ends ``dispose_op_previous.png`` on the wrong frame
when frames are read in order).
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .modes import to_rgba
from .png_chunks import IHDR, Chunk, PNGFormatError, build_png, iter_chunks
from .types import AnimationData

logger = logging.getLogger(__name__)

DISPOSE_NONE, DISPOSE_BACKGROUND, DISPOSE_PREVIOUS = 0, 1, 2
BLEND_SOURCE, BLEND_OVER = 0, 1
# Chunks a frame needs to be decoded on its own (they precede the IDAT in the file).
_SHARED_CHUNKS = {b"PLTE", b"tRNS", b"sBIT"}


@dataclass
class _FrameControl:
    width: int
    height: int
    x: int
    y: int
    delay_num: int
    delay_den: int
    dispose_op: int
    blend_op: int
    data: list[bytes] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        den = self.delay_den or 100  # the spec: a denominator of 0 means 1/100 s
        return (2000 * self.delay_num + den) // (2 * den)  # round half up


@dataclass
class _APNGStructure:
    ihdr: IHDR
    shared: list[Chunk]
    frames: list[_FrameControl]  # the first ``max_frames`` of the animation's frames
    num_plays: int
    n_frames: int  # the animation's frames, kept or not


def _parse(data: bytes, max_pixels: int, max_frames: int | None = None) -> tuple[IHDR, _APNGStructure | None]:
    """Splits an APNG into frames; returns ``(ihdr, None)`` for a PNG that is not (validly) animated.

    Every frame control is checked and counted, but only the first ``max_frames`` frames (and their data) are kept:
    a file of a million tiny frames costs a pass over its chunks, not a million frame records.
    """
    chunks = iter_chunks(data)
    first = next(chunks)
    if first.type != b"IHDR":
        raise PNGFormatError("missing IHDR chunk")
    ihdr = IHDR.parse(first.data)
    check_pixels(ihdr.width, ihdr.height, max_pixels)
    shared: list[Chunk] = []
    frames: list[_FrameControl] = []
    count = 0  # fcTL chunks seen; frames holds the first max_frames of them
    actl: tuple[int, int] | None = None
    actl_valid = True
    seen_idat = False
    default_is_frame = False
    expected_seq = 0
    for chunk in chunks:
        ctype, body = chunk
        if ctype == b"acTL":
            if seen_idat or actl is not None or len(body) != 8:
                actl_valid = False  # acTL after IDAT or repeated: a plain PNG, as browsers treat it
            actl = struct.unpack(">II", body) if len(body) == 8 else (0, 0)
        elif ctype == b"fcTL":
            if len(body) != 26:
                raise PNGFormatError("bad fcTL chunk")
            seq, w, h, x, y, dn, dd, dop, bop = struct.unpack(">IIIIIHHBB", body)
            if seq != expected_seq:
                raise PNGFormatError(f"APNG chunk sequence number {seq}, expected {expected_seq}")
            expected_seq += 1
            if w == 0 or h == 0 or x + w > ihdr.width or y + h > ihdr.height:
                raise PNGFormatError(f"APNG frame {count} rectangle {w}x{h}+{x}+{y} outside the {ihdr.width}x{ihdr.height} canvas")
            if dop > 2 or bop > 1:
                raise PNGFormatError(f"APNG frame {count} has bad dispose_op {dop} or blend_op {bop}")
            if not seen_idat:
                if w != ihdr.width or h != ihdr.height or x or y:
                    raise PNGFormatError("the first APNG frame must cover the whole canvas")
                default_is_frame = True
            count += 1
            if max_frames is None or count <= max_frames:
                frames.append(_FrameControl(w, h, x, y, dn, dd, dop, bop))
        elif ctype == b"IDAT":
            seen_idat = True
            if default_is_frame and count == 1 and frames:
                frames[0].data.append(body)
        elif ctype == b"fdAT":
            if len(body) < 4:
                raise PNGFormatError("bad fdAT chunk")
            (seq,) = struct.unpack(">I", body[:4])
            if seq != expected_seq:
                raise PNGFormatError(f"APNG chunk sequence number {seq}, expected {expected_seq}")
            expected_seq += 1
            if not count or (count == 1 and default_is_frame):
                raise PNGFormatError("fdAT chunk without its fcTL")
            if len(frames) == count:  # the frame it belongs to is kept
                frames[-1].data.append(body[4:])
        elif ctype in _SHARED_CHUNKS and not seen_idat:
            shared.append(chunk)
    if not seen_idat:
        raise PNGFormatError("no image data (IDAT)")
    if actl is not None and not 0 < actl[0] <= 0x7FFFFFFF:  # the spec limits counts to 2**31 - 1
        actl_valid = False
    if actl is None or not actl_valid or not count:
        if actl is not None and not actl_valid:
            logger.warning("invalid APNG animation control; reading the still image only")
        return ihdr, None
    num_frames, num_plays = actl
    if num_frames > count:
        raise PNGFormatError(f"APNG declares {num_frames} frames but holds {count}")
    frames = frames[:num_frames]
    for i, frame in enumerate(frames):
        if not frame.data:
            raise PNGFormatError(f"APNG frame {i} has no image data")
    return ihdr, _APNGStructure(ihdr, shared, frames, num_plays, num_frames)


def _decode_frame(structure: _APNGStructure, frame: _FrameControl, index: int) -> np.ndarray:
    header = structure.ihdr._replace(width=frame.width, height=frame.height)
    png = build_png([Chunk(b"IHDR", header.pack()), *structure.shared, Chunk(b"IDAT", b"".join(frame.data)), Chunk(b"IEND", b"")])
    try:
        with Image.open(io.BytesIO(png)) as im:
            im.load()
            rgba = to_rgba(im)
    except (OSError, SyntaxError, ValueError) as exc:
        raise PNGFormatError(f"APNG frame {index}: {exc}") from None
    return np.asarray(rgba)


def alpha_over(dst: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Straight-alpha "over": ``src`` on top of ``dst``, both ``(H, W, 4)`` uint8; returns uint8."""
    sa = src[..., 3:4].astype(np.float64) / 255.0
    da = dst[..., 3:4].astype(np.float64) / 255.0
    out_a = sa + da * (1.0 - sa)  # (H, W, 1)
    premul = src[..., :3] * sa + dst[..., :3] * (da * (1.0 - sa))
    rgb = np.divide(premul, out_a, out=np.zeros_like(premul), where=out_a > 0)
    out = np.concatenate([rgb, out_a * 255.0], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def compose_apng(structure: _APNGStructure, *, max_frames: int | None = None) -> AnimationData:
    """Composites the frames of a parsed APNG (see the module docstring for the rules)."""
    canvas = np.zeros((structure.ihdr.height, structure.ihdr.width, 4), np.uint8)
    frames: list[np.ndarray] = []
    for i, fc in enumerate(structure.frames[:max_frames]):
        region = (slice(fc.y, fc.y + fc.height), slice(fc.x, fc.x + fc.width))
        dispose = DISPOSE_BACKGROUND if (i == 0 and fc.dispose_op == DISPOSE_PREVIOUS) else fc.dispose_op
        saved = canvas[region].copy() if dispose == DISPOSE_PREVIOUS else None
        pixels = _decode_frame(structure, fc, i)
        if fc.blend_op == BLEND_SOURCE:
            canvas[region] = pixels
        else:
            canvas[region] = alpha_over(canvas[region], pixels)
        frames.append(canvas.copy())
        if dispose == DISPOSE_BACKGROUND:
            canvas[region] = 0
        elif dispose == DISPOSE_PREVIOUS:
            canvas[region] = saved
    return AnimationData(frames, [fc.duration_ms for fc in structure.frames[: len(frames)]], structure.num_plays)


def decode_apng(data: bytes, *, max_pixels: int, max_frames: int, first_only: bool = False) -> tuple[AnimationData, int] | None:
    """Decodes an APNG byte string.

    Args:
        data: the whole file.
        max_pixels: refuse a canvas of more pixels than this (checked before decoding).
        max_frames: refuse an animation of more frames than this.
        first_only: compose only the first frame (for `read_image`).

    Returns:
        ``(animation, n_frames)``, or ``None`` when the PNG is not animated (then decode it as a still).

    Raises:
        PNGFormatError: a malformed file, too many pixels or frames.
    """
    _, structure = _parse(data, max_pixels, max_frames)
    if structure is None:
        return None
    n = structure.n_frames
    if n > max_frames:
        raise PNGFormatError(f"{n} frames is more than the limit of {max_frames} (max_frames)")
    return compose_apng(structure, max_frames=1 if first_only else None), n


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Raises ``ValueError`` when ``width * height`` exceeds ``max_pixels``."""
    if width * height > max_pixels:
        raise PNGFormatError(
            f"image is {width}x{height} = {width * height} pixels, more than the limit of {max_pixels} (max_pixels)"
        )
