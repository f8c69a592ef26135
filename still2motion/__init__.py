"""still2motion: one still image in, a seamlessly looping animation out, by moving its pixels."""

from .config import DEFAULT_MODEL
from .io import Animation, read_animation, read_image
from .loading import load_model
from .model import Still2Motion

__version__ = "0.1.0"
__all__ = ["DEFAULT_MODEL", "Animation", "Still2Motion", "load_model", "read_animation", "read_image", "__version__"]
