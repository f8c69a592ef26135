"""The fuzz harnesses: one function per reader of untrusted bytes, each checking the readers' contract.

Contract: for any bytes, a reader returns a well-formed result or raises a ``ValueError``/``TypeError`` whose message
is one non-empty line. Any other exception, a malformed result (frames of different shapes, weights outside [0, 1],
chunks that do not re-serialise to the input) fails the harness; hangs and memory are the fuzzer's to catch
(``-timeout=2 -rss_limit_mb=512``, see run.sh). Pixel and frame limits are lowered (`MAX_PIXELS`, `MAX_FRAMES`) so
each input is cheap and a limit that is not enforced shows up as memory, not as a slow run.

Each harness takes ``bytes`` and is plain Python, so the tests replay the stored findings (tests/fixtures/fuzz/)
without atheris; ``python -m fuzz NAME`` runs one under atheris.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

MAX_PIXELS = 4096  # 64 x 64: the harnesses' canvas limit (the library's default is 64 M)
MAX_FRAMES = 64
# The end-to-end harness goes through the request path, which reads its limits from the environment (set for each
# call only: the tests replay findings in the same process as other tests).
LIMITS_ENV = {"STILL2MOTION_MAX_INPUT_PIXELS": str(MAX_PIXELS), "STILL2MOTION_MAX_OUTPUT_PIXELS": str(MAX_PIXELS)}


class ContractError(AssertionError):
    """A reader broke its contract (an error without a one-line message, or a malformed result)."""


def _refused(exc: BaseException) -> None:
    text = str(exc)
    if not text.strip() or "\n" in text:
        raise ContractError(f"{type(exc).__name__} without a one-line message: {text!r}") from exc


def _call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``, or ``None`` when it refuses the input with a one-line ValueError/TypeError."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        _refused(exc)
        return None


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise ContractError(what)


def _check_animation(anim, max_frames: int) -> None:
    frames = anim.frames
    _check(1 <= len(frames) <= max_frames, f"{len(frames)} frames")
    _check(len(anim.durations_ms) == len(frames), "one duration per frame")
    shape = frames[0].shape
    _check(len(shape) == 3 and shape[2] == 4 and shape[0] * shape[1] <= MAX_PIXELS, f"frame shape {shape}")
    _check(all(f.shape == shape and f.dtype == np.uint8 for f in frames), "frames of one shape, uint8")
    _check(all(int(d) >= 0 for d in anim.durations_ms) and int(anim.loop) >= 0, "durations and loop >= 0")


def with_fixed_crcs(data: bytes) -> bytes:
    """``data`` with the CRC of every whole PNG chunk recomputed, so that mutations reach past the CRC check.

    Anything that is not a PNG, and a chunk that runs past the end, is left as it is.
    """
    import struct
    import zlib

    from still2motion.io.png_chunks import PNG_SIGNATURE

    if not data.startswith(PNG_SIGNATURE):
        return data
    out = bytearray(data)
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(out):
        (length,) = struct.unpack(">I", out[pos : pos + 4])
        end = pos + 12 + length
        if end > len(out):
            break
        out[end - 4 : end] = struct.pack(">I", zlib.crc32(out[pos + 4 : end - 4]) & 0xFFFFFFFF)
        pos = end
    return bytes(out)


def apng(data: bytes) -> None:
    """The APNG decoder (chunks, frame controls, composition), every frame and the first only; the input as it is
    and with its CRCs fixed (most mutations break a CRC, and the decoder stops there)."""
    from still2motion.io.apng_decode import decode_apng

    fixed = with_fixed_crcs(data)
    for data, first_only in ((data, False), (fixed, False), (fixed, True)):
        result = _call(decode_apng, data, max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES, first_only=first_only)
        if result is not None:
            anim, n = result
            _check_animation(anim, MAX_FRAMES)
            _check(len(anim.frames) == (1 if first_only else n), f"{len(anim.frames)} frames composed of {n}")


def gif(data: bytes) -> None:
    """The GIF decoder (blocks, sub-blocks, palettes, composition), every frame and the first only."""
    from still2motion.io.gif_decode import decode_gif

    for first_only in (False, True):
        result = _call(decode_gif, data, max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES, first_only=first_only)
        if result is not None:
            anim, n = result
            _check_animation(anim, MAX_FRAMES)
            _check(len(anim.frames) == (1 if first_only else n), f"{len(anim.frames)} frames composed of {n}")


def png_chunks(data: bytes) -> None:
    """PNG chunk parsing: what parses re-serialises to the same bytes; the header reader agrees with it."""
    _png_chunks(data)
    _png_chunks(with_fixed_crcs(data))


def _png_chunks(data: bytes) -> None:
    from still2motion.io.png_chunks import IHDR, build_png, iter_chunks, read_png_header

    chunks = _call(lambda: list(iter_chunks(data)))
    if chunks is not None:
        _check(chunks[-1].type == b"IEND", "the last chunk is IEND")
        _check(data.startswith(build_png(chunks)), "chunks re-serialise to the input")
    header = _call(read_png_header, data)
    if header is not None:
        _check(header.pack() == data[16:29], "IHDR packs back to its bytes")
        _check(IHDR.parse(header.pack()) == header, "IHDR round trip")


def mask(data: bytes) -> None:
    """The mask reader on a file: weights in [0, 1], at the file's own size and resized."""
    from still2motion.io.mask import read_mask

    path = _scratch_file(with_fixed_crcs(data), ".png")
    for size in (None, (8, 8)):
        weights = _call(read_mask, path, size, max_pixels=MAX_PIXELS)
        if weights is not None:
            _check(weights.dtype == np.float32 and weights.ndim == 2, f"weights {weights.dtype} {weights.shape}")
            _check(size is None or weights.shape == (size[1], size[0]), f"weights {weights.shape} for size {size}")
            _check(bool(np.isfinite(weights).all()) and weights.min() >= 0 and weights.max() <= 1, "weights in [0, 1]")


_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        import torch

        from still2motion import Still2Motion

        torch.manual_seed(0)
        torch.set_num_threads(1)
        model = Still2Motion(resolution=32, block_out_channels=(4, 8, 16), num_layers=2, num_harmonics=2,
                             flow_downsample=4, noise_dim=4).eval()
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():  # random motion heads (zero-initialised ones would return the input)
            for head in (model.affine_head[-1], model.flow_head, model.mask_head):
                for p in head.parameters():
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
        _MODEL = model
    return _MODEL


def e2e(data: bytes) -> None:
    """The public entries as a user calls them: ``read_image``, ``read_animation`` and ``Still2Motion.animate``."""
    from still2motion import read_animation, read_image

    path = _scratch_file(with_fixed_crcs(data), ".png")
    still = _call(read_image, path, max_pixels=MAX_PIXELS)
    if still is not None:
        _check(still.image.mode == "RGBA" and still.image.width * still.image.height <= MAX_PIXELS, "RGBA still")
        _check(still.n_frames >= 1, f"{still.n_frames} frames")
    anim = _call(read_animation, path, max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES)
    if anim is not None:
        _check_animation(anim, MAX_FRAMES)
    if still is not None:
        saved = {key: os.environ.get(key) for key in LIMITS_ENV}
        os.environ.update(LIMITS_ENV)
        try:
            out = _call(_model().animate, path, num_frames=2, fps=10.0, seed=0)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        if out is not None:
            _check(len(out.frames) == 2 and out.frames[0].size == still.image.size, "2 frames at the input's size")


_SCRATCH: dict[str, Path] = {}


def _scratch_file(data: bytes, suffix: str) -> Path:
    """``data`` written to this process's one scratch file (in RAM where /dev/shm exists)."""
    if suffix not in _SCRATCH:
        root = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, name = tempfile.mkstemp(prefix="s2m-fuzz-", suffix=suffix, dir=root)
        os.close(fd)
        _SCRATCH[suffix] = Path(name)
        import atexit

        atexit.register(_SCRATCH[suffix].unlink, missing_ok=True)
    _SCRATCH[suffix].write_bytes(data)
    return _SCRATCH[suffix]


HARNESSES: dict[str, Callable[[bytes], None]] = {
    "apng": apng, "gif": gif, "png_chunks": png_chunks, "mask": mask, "e2e": e2e,
}
# What each harness instruments for coverage: our readers, and Pillow's parsers they hand bytes to.
INSTRUMENT = {
    "apng": ["still2motion.io", "PIL.PngImagePlugin"],
    "gif": ["still2motion.io", "PIL.GifImagePlugin"],
    "png_chunks": ["still2motion.io"],
    "mask": ["still2motion.io", "PIL.PngImagePlugin"],
    "e2e": ["still2motion", "PIL.PngImagePlugin", "PIL.GifImagePlugin"],
}
