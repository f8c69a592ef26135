"""PNG chunk parsing and writing, shared by the APNG decoder and the APNG/LINE writers.

Reading a PNG by chunks lets us decode each APNG frame ourselves (Pillow only exposes the
composited result) and lets the writers assemble exactly the frames they were given.
"""

from __future__ import annotations

import struct
import zlib
from typing import Iterator, NamedTuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Chunk(NamedTuple):
    type: bytes  # four ASCII letters, e.g. b"IHDR"
    data: bytes


class PNGFormatError(ValueError):
    """A PNG or APNG stream is malformed; the message says how (no file name: callers add it)."""


def iter_chunks(data: bytes) -> Iterator[Chunk]:
    """Yields the chunks of a PNG byte string, checking lengths and CRCs, up to and including IEND.

    Raises:
        PNGFormatError: no PNG signature, a chunk runs past the end ("truncated image"), a bad CRC,
            or no IEND.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise PNGFormatError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    end = len(data)
    while True:
        if pos + 8 > end:
            raise PNGFormatError("truncated image")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if length > 0x7FFFFFFF:
            raise PNGFormatError(f"bad chunk length {length}")
        if pos + 12 + length > end:
            raise PNGFormatError("truncated image")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise PNGFormatError(f"bad CRC in {ctype.decode('latin-1')!r} chunk")
        yield Chunk(ctype, body)
        pos += 12 + length
        if ctype == b"IEND":
            return


def make_chunk(ctype: bytes, data: bytes) -> bytes:
    """Serialises one chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def build_png(chunks: list[Chunk]) -> bytes:
    """Serialises a list of chunks (IHDR first, IEND last) into PNG bytes."""
    return PNG_SIGNATURE + b"".join(make_chunk(c.type, c.data) for c in chunks)


class IHDR(NamedTuple):
    width: int
    height: int
    bit_depth: int
    color_type: int
    compression: int
    filter: int
    interlace: int

    @classmethod
    def parse(cls, data: bytes) -> "IHDR":
        if len(data) != 13:
            raise PNGFormatError("bad IHDR chunk")
        return cls(*struct.unpack(">IIBBBBB", data))

    def pack(self) -> bytes:
        return struct.pack(">IIBBBBB", *self)


def read_png_header(data: bytes) -> IHDR:
    """Reads width, height and format from the IHDR chunk without decoding anything."""
    first = next(iter_chunks(data[: len(PNG_SIGNATURE) + 25]), None) if len(data) >= 33 else None
    if first is None or first.type != b"IHDR":
        raise PNGFormatError("truncated image" if len(data) < 33 else "missing IHDR chunk")
    return IHDR.parse(first.data)
