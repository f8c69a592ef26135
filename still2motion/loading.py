"""``load_model``: build whichever generator a saved model holds, resolved at call time."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .config import resolve_model
from .generator import Generator
from .hub import read_config
from .model import Still2Motion

GENERATORS: dict[str, type[Generator]] = {"still2motion": Still2Motion}  # train/ adds the designs it compares against


def load_model(model: str | os.PathLike | None = None, *, map_location: str = "cpu",
               generators: Mapping[str, type[Generator]] | None = None, **hub_kwargs) -> Generator:
    """Loads a generator of any registered type (config.json's ``generator_type``).

    Args:
        model: a folder or Hub repo id; ``None`` means ``$STILL2MOTION_MODEL``, else the bundled ``DEFAULT_MODEL``.
        map_location: device for the weights.
        generators: ``generator_type`` -> class; ``None`` means ``GENERATORS`` (the shipped design only).
        **hub_kwargs: passed to the Hub download (``revision``, ``token``, ...).

    Raises:
        FileNotFoundError, ValueError: as ``Still2Motion.from_pretrained``; also an unknown ``generator_type``.
    """
    name = resolve_model(model)
    kind = read_config(name, **hub_kwargs).get("generator_type", "still2motion")
    generators = GENERATORS if generators is None else generators
    if kind not in generators:
        raise ValueError(f"config.json of '{name}': unknown generator_type {kind!r}; known: {', '.join(generators)}")
    return generators[kind].from_pretrained(name, map_location=map_location, **hub_kwargs)
