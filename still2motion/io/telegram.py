"""Telegram video stickers (and video emoji): VP9 with an alpha plane in WebM, through PyAV.

Telegram's "Video Requirements" (core.telegram.org/stickers): one side exactly 512 px and the other
at most 512 (emoji: exactly 100x100), at most 3 s, at most 30 fps, looped, at most 256 KB, WEBM with
VP9, no audio stream. We render directly at `telegram_size` (the request path asks for it before
rendering), refuse a request that cannot meet the time rules before anything is rendered
(`check_telegram_request`), encode ``yuva420p`` with libvpx-vp9 at constant quality, and lower the
quality in a fixed number of steps (`TELEGRAM_CRF_STEPS`) until the file fits. Every encode is
decoded again with the libvpx-vp9 decoder (FFmpeg's native vp9 decoder drops the alpha plane) and
its alpha must match the frames (IoU >= 0.95). WebM has no loop count: Telegram loops stickers
itself, and our loops are seamless by construction. Nothing is written unless every rule holds.

PyAV (``av``) is an optional dependency, imported only here: ``pip install 'still2motion[telegram]'``.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import validate_frames
from .atomic import check_output_path, write_bytes_atomic
from .letterbox import letterbox_box, resize_rgba
from .tensor import is_pixel_art

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelegramLimits:
    side: int = 512  # stickers: the longer side exactly this, the other at most this
    emoji_side: int = 100  # emoji: exactly emoji_side x emoji_side
    max_ms: int = 3000
    max_fps: float = 30.0
    max_bytes: int = 256_000  # "256 KB"; we read it as 256,000 bytes, the stricter reading
    min_alpha_iou: float = 0.95  # decoded alpha vs the frames, worst frame


TELEGRAM_LIMITS = TelegramLimits()
# libvpx-vp9 constant-quality levels tried in order (0 best .. 63 worst) until the file fits.
TELEGRAM_CRF_STEPS = (10, 20, 30, 40, 50, 63)
EXTRA = "pip install 'still2motion[telegram]'"


def _import_av():
    try:
        import av
    except ImportError:
        raise ModuleNotFoundError(f"Telegram stickers need PyAV (the 'av' package), which is not installed: {EXTRA}") from None
    return av


def telegram_size(width: int, height: int, *, emoji: bool = False) -> tuple[int, int]:
    """The size to render a ``width x height`` image at for Telegram: aspect kept, longer side 512 (emoji: 100).

    For a sticker this is the file's size (the other side is at most 512, at least 1 px); an emoji is then
    letterboxed into 100x100 by the writer.

    Raises:
        ValueError: a non-positive dimension.
    """
    box = letterbox_box(width, height, TELEGRAM_LIMITS.emoji_side if emoji else TELEGRAM_LIMITS.side)
    return box.width, box.height


def check_telegram_request(num_frames: int, fps: float) -> None:
    """Refuses, before rendering, a request no Telegram sticker can hold: above 30 fps or longer than 3 s.

    One loop lasts ``round(1000 * num_frames / fps)`` ms (the sum of `durations_for`).

    Raises:
        ValueError: naming the rule and the values.
    """
    lim = TELEGRAM_LIMITS
    if not fps > 0 or num_frames < 1:
        raise ValueError(f"Telegram stickers need fps > 0 and at least one frame, got fps={fps:g}, {num_frames} frames")
    if fps > lim.max_fps:
        raise ValueError(f"Telegram video stickers play at most {lim.max_fps:g} fps, got fps={fps:g}; use --fps {lim.max_fps:g} or less")
    total = round(1000 * num_frames / fps)
    if total > lim.max_ms:
        raise ValueError(
            f"Telegram video stickers last at most {lim.max_ms / 1000:g} s, but {num_frames} frames at {fps:g} fps "
            f"last {total} ms; use fewer frames or a higher fps"
        )


def _check_timing(num_frames: int, durations_ms: Sequence[int], fps: float | None) -> Fraction:
    lim = TELEGRAM_LIMITS
    total = int(sum(durations_ms))
    if total <= 0:
        raise ValueError("Telegram stickers need a positive duration, got 0 ms")
    if total > lim.max_ms:
        raise ValueError(f"Telegram video stickers last at most {lim.max_ms / 1000:g} s, but this loop lasts {total} ms")
    if fps is not None:
        check_telegram_request(num_frames, fps)
        return Fraction(fps).limit_denominator(1001)
    # Integer-ms durations at 30 fps may sum 0.5 ms short of 1000 N / 30 (see durations_for).
    if total < 1000 * num_frames / lim.max_fps - 0.5:
        raise ValueError(
            f"Telegram video stickers play at most {lim.max_fps:g} fps, but {num_frames} frames in {total} ms "
            f"are {1000 * num_frames / total:.1f} fps"
        )
    return Fraction(1000 * num_frames, total)


def _fit(images: list[Image.Image], emoji: bool) -> list[np.ndarray]:
    # Frames of another size are resized (nearest for pixel art, else Lanczos); emoji are letterboxed.
    frames = [im.convert("RGBA") for im in images]
    width, height = frames[0].size
    resample = "nearest" if is_pixel_art(frames[0]) else "lanczos"
    target = telegram_size(width, height, emoji=emoji)
    if target != (width, height):
        logger.info("resizing %dx%d frames to %dx%d for Telegram (%s)", width, height, *target, resample)
    frames = [resize_rgba(f, target, resample) for f in frames]
    if not emoji:
        return [np.asarray(f) for f in frames]
    side = TELEGRAM_LIMITS.emoji_side
    box = letterbox_box(width, height, side)
    out = []
    for f in frames:
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        canvas.paste(f, (box.left, box.top))
        out.append(np.asarray(canvas))
    return out


def _encode(arrays: list[np.ndarray], durations_ms: Sequence[int], rate: Fraction, crf: int) -> bytes:
    av = _import_av()
    height, width = arrays[0].shape[:2]
    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as container:
        container.flags |= av.container.Flags.bitexact.value  # no random segment UID: the same frames give the same bytes
        stream = container.add_stream("libvpx-vp9", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuva420p"  # libvpx-vp9 encodes the A plane as a second VP9 stream (Matroska BlockAdditions)
        stream.time_base = Fraction(1, 1000)  # WebM timestamps are ms, as our durations are
        # b=0 with crf: constant quality; cpu-used 4 / deadline good: libvpx's usual speed for offline encodes.
        stream.options = {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
        pts = 0
        for rgba, ms in zip(arrays, durations_ms):  # rgba: (H, W, 4) uint8, straight alpha
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba").reformat(format="yuva420p")
            frame.pts, frame.time_base, frame.duration = pts, Fraction(1, 1000), int(ms)
            pts += int(ms)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def _to_rgba(frame) -> np.ndarray:
    # PyAV's yuva420p -> rgba conversion returned a wrong alpha channel here (av 18.1), so the A plane is read
    # directly (full resolution, rows padded to its line size) and only the colour goes through swscale.
    rgb = frame.to_ndarray(format="rgb24")  # (H, W, 3)
    if frame.format.name != "yuva420p":
        alpha = np.full(rgb.shape[:2], 255, np.uint8)
    else:
        plane = frame.planes[3]
        alpha = np.frombuffer(bytes(plane), np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
    return np.dstack([rgb, alpha])  # (H, W, 4)


def read_telegram(source: bytes | str | os.PathLike) -> tuple[list[np.ndarray], dict]:
    """Decodes a VP9 WebM with the libvpx-vp9 decoder, alpha kept.

    Args:
        source: the file's bytes, or its path.

    Returns:
        ``(frames, info)``: ``np.uint8 (H, W, 4)`` RGBA frames (alpha 255 when the file has none) and
        ``{"codec", "pix_fmt", "width", "height", "duration_ms", "audio_streams", "alpha_mode"}``.
    """
    av = _import_av()
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoder = av.CodecContext.create("libvpx-vp9", "r")  # the native "vp9" decoder would drop alpha
        frames, pix_fmt = [], None
        for packet in container.demux(stream):
            if packet.size:  # the empty packet at the end flushes the decoder
                for frame in decoder.decode(packet):
                    pix_fmt = pix_fmt or frame.format.name
                    frames.append(_to_rgba(frame))
        info = {
            "codec": stream.codec_context.name,
            "pix_fmt": pix_fmt,
            "width": stream.width,
            "height": stream.height,
            "duration_ms": None if container.duration is None else container.duration / 1000,  # AV_TIME_BASE is us
            "audio_streams": len(container.streams.audio),
            "alpha_mode": stream.metadata.get("alpha_mode") or stream.metadata.get("ALPHA_MODE"),
        }
    return frames, info


def alpha_iou(a: np.ndarray, b: np.ndarray, threshold: int = 128) -> float:
    """IoU of ``alpha >= threshold`` between two ``(H, W, 4)`` RGBA frames; 1 when both are empty."""
    ma, mb = a[..., 3] >= threshold, b[..., 3] >= threshold
    union = np.count_nonzero(ma | mb)
    return 1.0 if union == 0 else np.count_nonzero(ma & mb) / union


def encode_telegram(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    *,
    fps: float | None = None,
    emoji: bool = False,
    max_bytes: int | None = None,
) -> bytes:
    """Encodes a Telegram video sticker (or emoji) as WebM bytes meeting every limit (see `write_telegram`)."""
    lim = TELEGRAM_LIMITS
    kind = "Telegram video emoji" if emoji else "Telegram video stickers"
    budget = lim.max_bytes if max_bytes is None else int(max_bytes)
    if not 0 < budget <= lim.max_bytes:
        raise ValueError(f"max_bytes must be in 1..{lim.max_bytes} for {kind}, got {max_bytes}")
    images = validate_frames(frames, durations_ms)
    rate = _check_timing(len(images), durations_ms, fps)
    arrays = _fit(images, emoji)
    _import_av()  # fail on a missing extra before any work
    for crf in TELEGRAM_CRF_STEPS:
        data = _encode(arrays, durations_ms, rate, crf)
        if len(data) <= budget:
            break
    else:
        raise ValueError(
            f"{kind} must be at most {budget} bytes, but even at the lowest quality (crf {crf}) this one is "
            f"{len(data)} bytes; use fewer frames, a lower fps or a simpler image"
        )
    decoded, info = read_telegram(data)
    if len(decoded) != len(arrays) or info["pix_fmt"] != "yuva420p":
        raise ValueError(f"{kind} must keep every frame and its alpha, but the encode decoded to {len(decoded)} "
                         f"of {len(arrays)} frames as {info['pix_fmt']}")
    iou = min(alpha_iou(a, b) for a, b in zip(arrays, decoded))
    if iou < lim.min_alpha_iou:
        raise ValueError(f"{kind} must keep their transparency, but the decoded alpha matches with IoU {iou:.3f} "
                         f"< {lim.min_alpha_iou} at crf {crf}")
    logger.info("Telegram WebM: %d frames, %dx%d, %d ms, crf %d, %d bytes, alpha IoU %.4f",
                len(arrays), arrays[0].shape[1], arrays[0].shape[0], sum(durations_ms), crf, len(data), iou)
    return data


def write_telegram(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    emoji: bool = False,
    max_bytes: int | None = None,
) -> Path:
    """Writes a Telegram video sticker (or, with ``emoji=True``, a 100x100 video emoji) as WebM, atomically.

    VP9 with an alpha plane (``yuva420p``), no audio, millisecond timestamps from ``durations_ms``.
    Frames of another size are resized, aspect kept, to `telegram_size` (nearest-neighbour for pixel
    art, else Lanczos in premultiplied alpha); emoji are letterboxed into 100x100. The quality steps
    down through `TELEGRAM_CRF_STEPS` until the file is within 256,000 bytes; the result is decoded
    with libvpx-vp9 and its alpha checked against the frames.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms; together at most 3000.
        path: output file (``.webm``).
        fps: the nominal frame rate, at most 30 (default: from the durations).
        emoji: write a 100x100 video emoji instead of a sticker.
        max_bytes: a tighter byte budget than Telegram's 256,000.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: a rule that cannot be met, named in the message (duration, fps, bytes even at the
            lowest quality, alpha lost). Nothing is written.
        ModuleNotFoundError: PyAV is not installed (the message names the ``telegram`` extra).
        FileNotFoundError: the output folder does not exist.
    """
    check_output_path(path)
    return write_bytes_atomic(path, encode_telegram(frames, durations_ms, fps=fps, emoji=emoji, max_bytes=max_bytes))
