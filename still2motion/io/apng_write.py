"""APNG output with exactly the frames given.

Pillow's APNG writer merges identical consecutive frames (adding up their durations), so a
20-frame request can come out with fewer frames; the `apng` package writes what it is given.
Every frame covers the whole canvas with dispose_op NONE and blend_op SOURCE, so each frame
stands on its own. The optional lossless pass is oxipng, which keeps all frames (checked).
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import apng
import numpy as np
from PIL import Image

from .atomic import check_output_path, write_bytes_atomic
from .png_chunks import iter_chunks

logger = logging.getLogger(__name__)

OXIPNG_LEVEL = 2  # oxipng's default preset: on 270x270 x 8 frames, level 4 saved 1.4 % more for 2.6x the time
# optimize= effort: (Pillow's zlib level per frame, oxipng options or None). "fast" runs oxipng only on small
# animations (frames x width x height <= FAST_OXIPNG_PIXELS), where it costs about one render; on larger ones it
# would take 4-30x the render for 1-12 % (benchmarks/optimize.py), so "max" is the opt-in.
EFFORT = {"none": (1, None), "fast": (6, {"level": 1, "fast_evaluation": True}), "max": (6, {"level": OXIPNG_LEVEL})}
FAST_OXIPNG_PIXELS = 2**18


def effort_level(optimize: bool | str) -> str:
    """``optimize`` as one of none/fast/max (``True`` is max, ``False`` none)."""
    if optimize is True or optimize is False:
        return "max" if optimize else "none"
    if optimize not in EFFORT:
        raise ValueError(f"optimize must be one of {', '.join(EFFORT)}, got {optimize!r}")
    return optimize


def as_image(frame: Image.Image | np.ndarray) -> Image.Image:
    """Returns a frame as a PIL image (``np.uint8 (H, W, 4)`` arrays become ``"RGBA"``)."""
    if isinstance(frame, Image.Image):
        return frame
    if isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 4:
        return Image.fromarray(frame, "RGBA")
    raise TypeError(f"frames must be PIL images or uint8 (H, W, 4) arrays, got {type(frame).__name__}")


def validate_frames(frames: Sequence, durations_ms: Sequence[int]) -> list[Image.Image]:
    """Checks frames (non-empty, one size) and durations (one non-negative int per frame)."""
    images = [as_image(f) for f in frames]
    if not images:
        raise ValueError("need at least one frame, got 0")
    if len(durations_ms) != len(images):
        raise ValueError(f"need one duration per frame: {len(images)} frames, {len(durations_ms)} durations")
    sizes = {im.size for im in images}
    if len(sizes) != 1:
        raise ValueError(f"all frames must have the same size, got {sorted(sizes)}")
    if any(int(d) != d or d < 0 for d in durations_ms):
        raise ValueError(f"durations must be non-negative integers (ms), got {list(durations_ms)}")
    return images


def _delay(ms: int) -> tuple[int, int]:
    # fcTL delays are 16-bit fractions; keep ms exact whenever it fits.
    if ms <= 0xFFFF:
        return ms, 1000
    if ms % 10 == 0 and ms // 10 <= 0xFFFF:
        return ms // 10, 100
    if ms % 1000 == 0 and ms // 1000 <= 0xFFFF:
        return ms // 1000, 1
    raise ValueError(f"frame duration {ms} ms cannot be stored in an APNG")


# The child: options as JSON in argv, the APNG on stdin, the smaller APNG on stdout. It ignores SIGINT (Ctrl-C reaches
# the whole process group): the parent decides, and kills it.
_OXIPNG_CHILD = (
    "import json, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); import oxipng; "
    "sys.stdout.buffer.write(oxipng.optimize_from_memory(sys.stdin.buffer.read(), **json.loads(sys.argv[1])))"
)
_WAIT_SLICE_S = 0.1  # how often the parent wakes while it waits for the child: Ctrl-C is answered within this


def _oxipng_command(options: dict) -> list[str]:
    return [sys.executable, "-c", _OXIPNG_CHILD, json.dumps(options)]


def _oxipng_in_child(data: bytes, options: dict) -> bytes:
    """``oxipng.optimize_from_memory`` in a child process, the parent waiting in short slices.

    oxipng holds the GIL for the whole compression (a minute on a large image), so in this process neither Ctrl-C
    nor the progress thread could run meanwhile. A child started with ``subprocess`` (exec, never a bare fork: PyAV
    and other threads make a fork unsafe) leaves the GIL free; on any exception, KeyboardInterrupt included, it is
    killed and nothing is written.
    """
    with tempfile.TemporaryFile() as source:  # a file, not a pipe: communicate() resumes reading, never writing
        source.write(data)
        source.seek(0)
        child = subprocess.Popen(_oxipng_command(options), stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:
            try:
                out, err = child.communicate(timeout=_WAIT_SLICE_S)
                break
            except subprocess.TimeoutExpired:
                continue
    except BaseException:
        child.kill()
        child.communicate()
        raise
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"the oxipng process exited with {child.returncode}")
    return out


def count_apng_frames(data: bytes) -> int:
    """Number of fcTL chunks, i.e. animation frames, in APNG bytes."""
    return sum(chunk.type == b"fcTL" for chunk in iter_chunks(data))


def encode_apng(
    frames: Sequence[Image.Image | np.ndarray], durations_ms: Sequence[int], *, loop: int = 0,
    optimize: bool | str = "fast",
) -> bytes:
    """Encodes frames as APNG bytes (see `write_apng`).

    Frames may be ``"RGBA"``, or ``"P"`` images that all share one palette (the APNG holds a
    single PLTE/tRNS, taken from the first frame).
    """
    images = validate_frames(frames, durations_ms)
    compress_level, oxipng_options = EFFORT[effort_level(optimize)]
    if optimize == "fast" and len(images) * images[0].width * images[0].height > FAST_OXIPNG_PIXELS:
        oxipng_options = None
    if loop < 0 or loop > 0xFFFFFFFF:
        raise ValueError(f"loop must be >= 0 (0 = forever), got {loop}")
    animation = apng.APNG(num_plays=int(loop))
    for image, ms in zip(images, durations_ms):
        if image.mode not in ("RGBA", "P"):
            image = image.convert("RGBA")
        buf = io.BytesIO()
        image.save(buf, "PNG", compress_level=compress_level)
        num, den = _delay(int(ms))
        animation.append(apng.PNG.from_bytes(buf.getvalue()), delay=num, delay_den=den, depose_op=0, blend_op=0)
    data = animation.to_bytes()
    if oxipng_options is not None:
        try:
            if effort_level(optimize) == "max":
                smaller = _oxipng_in_child(data, oxipng_options)
            else:
                import oxipng  # only when optimising: it is a Rust extension that takes a while to load

                smaller = oxipng.optimize_from_memory(data, **oxipng_options)
        except Exception as exc:  # oxipng raises its own PngError; a failed optimisation is not fatal
            logger.warning("oxipng failed (%s); keeping the unoptimised APNG", exc)
        else:
            if count_apng_frames(smaller) == len(images) and len(smaller) < len(data):
                data = smaller
            elif count_apng_frames(smaller) != len(images):
                logger.warning("oxipng changed the APNG frame count; keeping the unoptimised file")
    return data


def write_apng(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    loop: int = 0,
    *,
    optimize: bool | str = "fast",
) -> Path:
    """Writes an animated PNG with exactly ``len(frames)`` frames, atomically.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size. Identical
            consecutive frames are kept (Pillow's writer would merge them).
        durations_ms: one duration per frame, in ms (stored as ms/1000 s).
        path: output file.
        loop: number of plays; 0 = forever.
        optimize: lossless effort, ``"none"``, ``"fast"`` (default: oxipng on small animations only) or ``"max"``
            (oxipng level 2 always, in a child process so Ctrl-C stops it at once; can take many times the render on
            large images). All frames are kept (verified).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: no frames, mismatched sizes or durations, or an unwritable path.
        FileNotFoundError: the output folder does not exist.
    """
    check_output_path(path)
    return write_bytes_atomic(path, encode_apng(frames, durations_ms, loop=loop, optimize=optimize))
