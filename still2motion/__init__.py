"""still2motion: one still image in, a seamlessly looping animation out, by moving its pixels.

``Still2Motion`` and ``load_model`` (and with them torch and huggingface_hub) are imported on first use, so
``import still2motion`` and the CLI's argument checks stay fast.
"""

import importlib

from .config import DEFAULT_MODEL
from .io import Animation, read_animation, read_image

_LAZY = {"Still2Motion": ".model", "load_model": ".loading"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"
__all__ = ["DEFAULT_MODEL", "Animation", "Still2Motion", "load_model", "read_animation", "read_image", "__version__"]
