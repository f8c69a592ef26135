"""Inference defaults, resource limits and the validation helpers every entry point shares.

The model's own configuration is its ``__init__`` keyword arguments (see ``model.py``); this module holds what a
*request* may ask for. Every limit can be changed with an environment variable, read at call time.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

DEFAULT_MODEL = str(Path(__file__).resolve().parent / "default_model")
MODEL_ENV = "STILL2MOTION_MODEL"  # a Hub id or a folder; overrides DEFAULT_MODEL

DEFAULT_FRAMES = 20
DEFAULT_FPS = 10.0
DEFAULT_STRENGTH = 1.0
DEFAULT_SEED = 0
RESAMPLE_MODES = ("auto", "nearest", "bilinear", "bicubic")

# name: (default, environment variable)
_LIMITS = {
    "max_input_pixels": (64_000_000, "STILL2MOTION_MAX_INPUT_PIXELS"),  # 8000 x 8000
    "max_output_pixels": (4_194_304, "STILL2MOTION_MAX_OUTPUT_PIXELS"),  # 2048 x 2048 per frame
    "max_frames": (240, "STILL2MOTION_MAX_FRAMES"),
    "max_total_pixels": (100_000_000, "STILL2MOTION_MAX_TOTAL_PIXELS"),  # frames x width x height: 2048^2 x 23
    "max_output_bytes": (100_000_000, "STILL2MOTION_MAX_OUTPUT_BYTES"),  # per written file set; checked before the rename
    "max_fps": (120.0, "STILL2MOTION_MAX_FPS"),
    "max_strength": (10.0, "STILL2MOTION_MAX_STRENGTH"),
}


def limit(name: str) -> float:
    """Returns the limit ``name`` (see ``LIMIT_NAMES``), honouring its environment variable.

    Raises:
        ValueError: unknown name, or an environment value that is not a positive number.
    """
    if name not in _LIMITS:
        raise ValueError(f"unknown limit {name!r}; choose from {sorted(_LIMITS)}")
    default, env = _LIMITS[name]
    raw = os.environ.get(env)
    if raw is None:
        return default
    try:
        value = type(default)(float(raw))
    except ValueError:
        raise ValueError(f"{env} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{env} must be positive, got {raw!r}")
    return value


LIMIT_NAMES = tuple(_LIMITS)
LIMIT_ENV = {name: env for name, (_, env) in _LIMITS.items()}


def resolve_model(model: str | os.PathLike | None = None) -> str:
    """Which model to load: the argument, else ``$STILL2MOTION_MODEL``, else the bundled ``DEFAULT_MODEL``."""
    if model is not None and str(model):
        return str(model)
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """Returns ``value`` as an int within ``[low, high]`` or raises a one-line error naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_float(name: str, value, low: float, high: float, *, low_inclusive: bool = True) -> float:
    """Returns ``value`` as a finite float within the bounds or raises a one-line error naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    too_low = value < low if low_inclusive else value <= low
    if not math.isfinite(value) or too_low or value > high:
        lo = f"{'>=' if low_inclusive else '>'} {low:g}"
        raise ValueError(f"{name} must be {lo} and <= {high:g}, got {value:g}")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value
