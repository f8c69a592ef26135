"""A compact pack: every split of a prepared ROOT at one resolution in ONE file, small enough to carry to a GPU box.

Layout of ``<name>.s2mpack``::

    b"S2MPACK\\x01"                    magic (8 bytes)
    uint64 little-endian H             length of the header
    zlib(JSON) of H bytes              {"format": "still2motion-compact-pack", "version": 1, "resolution": R,
                                        "resample", "codec": "palette-zlib", "splits": {split: [row, ...]},
                                        "manifest": [the ROOT's manifest lines]}
    blobs                              one per sequence, at ``16 + H + row["offset"]``, ``row["length"]`` bytes

A row holds the manifest fields the loader needs (``seq, source, package, character, anim, fps, n_frames, size,
box, license``) plus ``offset``, ``length`` and ``colors``. A blob is ``colors x 4`` bytes of straight-RGBA palette,
then ``zlib`` of the sequence's ``uint8 (N, R, R)`` palette indices; index 255 is fully transparent. The palette is
the sequence's own (so frames share colours and nothing flickers): exact when it has <= 255 colours, otherwise fitted
by ``train/data/pack.py`` (median error ~2/255 on sprite pixels, docs/data-sources.md). Reads use ``os.pread``, so
DataLoader workers share nothing but the path.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from train.data.datasets import PackSplitDataset

MAGIC = b"S2MPACK\x01"
COMPACT_FORMAT = "still2motion-compact-pack"
SUFFIX = ".s2mpack"
TRANSPARENT = 255  # palette index of (0, 0, 0, 0)


def is_compact_pack(path: str | Path) -> bool:
    """True if ``path`` is a file that starts with the compact-pack magic."""
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def read_header(path: str | Path) -> tuple[dict, int]:
    """The pack's header and the file offset where its blobs start.

    Raises:
        ValueError: not a compact pack, or a damaged header.
    """
    with Path(path).open("rb") as f:
        head = f.read(16)
        if len(head) < 16 or head[:8] != MAGIC:
            raise ValueError(f"{path} is not a {COMPACT_FORMAT} (magic {head[:8]!r})")
        (size,) = struct.unpack("<Q", head[8:16])
        try:
            info = json.loads(zlib.decompress(f.read(size)))
        except (zlib.error, ValueError) as exc:
            raise ValueError(f"{path}: damaged header ({exc})") from None
    if info.get("format") != COMPACT_FORMAT:
        raise ValueError(f"{path} is not a {COMPACT_FORMAT} (format={info.get('format')!r})")
    return info, 16 + size


def encode_blob(indices: np.ndarray, palette: np.ndarray) -> bytes:
    """``indices uint8 (N, R, R)`` + ``palette uint8 (C <= 255, 4)`` -> one blob."""
    if palette.shape[0] > TRANSPARENT or palette.dtype != np.uint8 or palette.shape[1:] != (4,):
        raise ValueError(f"palette must be uint8 (C <= 255, 4), got {palette.dtype} {palette.shape}")
    return np.ascontiguousarray(palette).tobytes() + zlib.compress(np.ascontiguousarray(indices, np.uint8).tobytes(), 9)


def decode_blob(blob: bytes, colors: int, n_frames: int, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """One blob -> ``(indices uint8 (N, R, R), palette uint8 (256, 4))`` (entries past ``colors`` transparent)."""
    palette = np.zeros((256, 4), np.uint8)
    palette[:colors] = np.frombuffer(blob, np.uint8, count=4 * colors).reshape(colors, 4)
    indices = np.frombuffer(zlib.decompress(blob[4 * colors :]), np.uint8).reshape(n_frames, resolution, resolution)
    return indices, palette


class CompactPackDataset(PackSplitDataset):
    """A split of a compact pack (see the module docstring); items as from every other ``LoopDataset``."""

    def __init__(self, path: str | Path, split: str = "train", **kw) -> None:
        self.path = Path(path)
        info, self._data_start = read_header(self.path)
        self._open_split(info, split, self.path, kw)
        self.items = [s for s in info["splits"][split] if s["n_frames"] >= 2]
        if not self.items:
            raise ValueError(f"no sequences for split {split!r} in {self.path}")
        self._fd, self._pid = None, None

    def frames(self, index: int, which: list[int]) -> list[np.ndarray]:
        if self._fd is None or self._pid != os.getpid():  # one descriptor per worker process
            self._fd, self._pid = os.open(self.path, os.O_RDONLY), os.getpid()
        row = self.items[index]
        blob = os.pread(self._fd, row["length"], self._data_start + row["offset"])
        if len(blob) != row["length"]:
            raise ValueError(f"{self.path}: truncated at sequence {row['seq']}")
        indices, palette = decode_blob(blob, row["colors"], row["n_frames"], self.resolution)
        return [palette[indices[i]] for i in which]  # (R, R, 4) uint8 each

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None, "_pid": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None and self._pid == os.getpid():
            os.close(self._fd)
