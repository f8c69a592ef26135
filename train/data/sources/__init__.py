"""Parsers for the Debian game-data packages and npm tarballs the training set is cut from (docs/data-sources.md).

Each source module has ``PACKAGE`` (the Debian package or npm tarballs, members to extract, art licence, whether it
may train),
``find_sequences(extract_root, source) -> list[SeqSpec]`` and ``load(spec) -> (frames, md5)``. Adding a source is
one module plus one line in ``SOURCES``.
"""

from __future__ import annotations

from types import ModuleType

from . import (blobby, blobwars, btanks, caveexpress, flare, fluentemoji, freedink, freedroidrpg, hedgewars, pachi,
               pekkakana2, supertux, wesnoth, widelands)
from .common import SeqSpec

SOURCES: dict[str, ModuleType] = {
    "widelands": widelands, "wesnoth": wesnoth, "flare": flare, "supertux": supertux,
    "freedroidrpg": freedroidrpg, "hedgewars": hedgewars, "freedink": freedink, "btanks": btanks,
    "caveexpress": caveexpress, "blobwars": blobwars, "fluentemoji": fluentemoji, "pachi": pachi,
    "blobby": blobby, "pekkakana2": pekkakana2,
}

__all__ = ["SOURCES", "SeqSpec"]
