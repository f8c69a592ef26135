"""Hand-written APNG and GIF files for the decoder tests (independent of still2motion's own code)."""

import io
import struct
import zlib

import numpy as np
from PIL import Image

SIG = b"\x89PNG\r\n\x1a\n"


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _idat_payload(rgba: np.ndarray) -> bytes:
    """The zlib stream of an 8-bit RGBA PNG of ``rgba`` (via Pillow), concatenated over its IDATs."""
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    data, pos, out = buf.getvalue(), 8, []
    while pos < len(data):
        n, t = struct.unpack(">I4s", data[pos : pos + 8])
        if t == b"IDAT":
            out.append(data[pos + 8 : pos + 8 + n])
        pos += 12 + n
    return b"".join(out)


def build_apng(width, height, frames, *, default_image=None, num_plays=0):
    """frames: dicts with ``pixels`` (h, w, 4) uint8, ``x``, ``y``, ``dispose``, ``blend``, ``delay`` (num, den).

    With ``default_image`` (an (H, W, 4) array) the IDAT holds it and comes before the first fcTL, so it is
    not part of the animation.
    """
    out = [SIG, chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))]
    out.append(chunk(b"acTL", struct.pack(">II", len(frames), num_plays)))
    seq = 0
    if default_image is not None:
        out.append(chunk(b"IDAT", _idat_payload(default_image)))
    for i, f in enumerate(frames):
        px = f["pixels"]
        num, den = f.get("delay", (100, 1000))
        fctl = struct.pack(">IIIIIHHBB", seq, px.shape[1], px.shape[0], f.get("x", 0), f.get("y", 0), num, den,
                           f.get("dispose", 0), f.get("blend", 0))
        out.append(chunk(b"fcTL", fctl))
        seq += 1
        payload = _idat_payload(px)
        if i == 0 and default_image is None:
            out.append(chunk(b"IDAT", payload))
        else:
            out.append(chunk(b"fdAT", struct.pack(">I", seq) + payload))
            seq += 1
    out.append(chunk(b"IEND", b""))
    return b"".join(out)


def _lzw_fixed(indices: np.ndarray, min_code_size: int = 8) -> bytes:
    """LZW data that only uses literal codes, with a clear code often enough that the code size never grows."""
    clear, eoi = 1 << min_code_size, (1 << min_code_size) + 1
    size = min_code_size + 1
    codes, count = [clear], 0
    for p in indices.ravel().tolist():
        codes.append(p)
        count += 1
        if count == (1 << min_code_size) - 2:
            codes.append(clear)
            count = 0
    codes.append(eoi)
    acc, nbits, out = 0, 0, bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    blocks = b"".join(bytes([len(out[i : i + 255])]) + bytes(out[i : i + 255]) for i in range(0, len(out), 255))
    return bytes([min_code_size]) + blocks + b"\x00"


def build_gif(width, height, palette, frames, *, loop=0):
    """palette: list of RGB tuples (<= 256). frames: dicts with ``indices`` (h, w) uint8, ``x``, ``y``,
    ``disposal``, ``delay_cs``, ``transparent`` (index or None)."""
    table = b"".join(bytes(c) for c in palette) + bytes(3 * (256 - len(palette)))
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0xF7, 0, 0), table]
    if loop is not None:
        out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00")
    for f in frames:
        idx = f["indices"]
        t = f.get("transparent")
        flags = (f.get("disposal", 0) << 2) | (1 if t is not None else 0)
        out.append(b"\x21\xf9\x04" + struct.pack("<BHB", flags, f.get("delay_cs", 10), t or 0) + b"\x00")
        out.append(b"\x2c" + struct.pack("<HHHHB", f.get("x", 0), f.get("y", 0), idx.shape[1], idx.shape[0], 0))
        out.append(_lzw_fixed(idx))
    out.append(b"\x3b")
    return b"".join(out)


def solid(h, w, rgba):
    return np.broadcast_to(np.array(rgba, np.uint8), (h, w, 4)).copy()
