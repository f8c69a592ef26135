"""``load_model``: build whichever generator a saved model holds, resolved at call time."""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping

from .config import resolve_model
from .hub import read_config

if typing.TYPE_CHECKING:
    from .generator import Generator


def shipped_generators() -> dict[str, type[Generator]]:
    """The package's generator classes by config.json's ``generator_type`` (train/ adds the designs it compares
    against). Imported here: they need torch, which ``load_model`` imports only once config.json has been read, so a
    missing model fails fast."""
    from .model import Still2Motion

    return {"still2motion": Still2Motion}


def __getattr__(name: str):
    if name == "GENERATORS":  # the table as a module attribute, for train/
        return shipped_generators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    config = read_config(name, **hub_kwargs)  # read once: it picks the class and builds the model
    kind = config.get("generator_type", "still2motion")
    classes = shipped_generators() if generators is None else generators
    if kind not in classes:
        raise ValueError(f"config.json of '{name}': unknown generator_type {kind!r}; known: {', '.join(classes)}")
    return classes[kind].from_config(name, config, map_location=map_location, **hub_kwargs)
