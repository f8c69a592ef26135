"""Parsers for the Debian game-data packages the training set is cut from (see docs/training-data.md).

Each source module has ``find_sequences(extract_root, source) -> list[SeqSpec]`` and
``load(spec) -> (frames, md5)``; ``fetch.PACKAGES`` says which package and members each one needs.
"""

from __future__ import annotations

from types import ModuleType

from . import flare, supertux, wesnoth, widelands
from .common import SeqSpec

SOURCES: dict[str, ModuleType] = {"widelands": widelands, "wesnoth": wesnoth, "flare": flare, "supertux": supertux}

__all__ = ["SOURCES", "SeqSpec"]
