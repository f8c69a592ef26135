"""Reading and writing still and animated images; the format table; the letterbox; PIL/numpy <-> torch.

This subpackage imports nothing from the rest of still2motion. The writers (and with them apng, oxipng and
libimagequant) and the torch conversions are imported on first use, so reading the format table or a header is cheap.
"""

import importlib

from .animation import Animation, check_options, durations_for
from .atomic import atomic_output, check_output_path, output_mode
from .formats import (DEFAULT_OPTIMIZE, EXTENSIONS, FORMAT_NAMES, FORMATS, GIF_MAX_FPS, OPTIMIZE_LEVELS, OPTIONS, SHEET_JSON,
                      Format, Option, check_companions, fit_size, format_from_path, get_format, render_size)
from .letterbox import Box, letterbox, letterbox_box, letterbox_resample, resize_rgba
from .modes import to_rgba
from .read import (DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, Loaded, decode_image, load_image, read_animation,
                   read_image, read_size)
from .types import AnimationData, ReadResult

# name -> submodule, imported when first asked for (PEP 562)
_LAZY = {
    "encode_apng": "apng_write", "write_apng": "apng_write",
    "GIF_ALPHA_THRESHOLD": "gif_write", "gif_delays": "gif_write", "write_gif": "gif_write",
    "LINE_LIMITS": "line", "LineLimits": "line", "encode_line": "line", "line_loops": "line", "line_size": "line",
    "write_line": "line",
    "spritesheet_image": "spritesheet", "spritesheet_layout": "spritesheet",
    "write_spritesheet": "spritesheet",
    "sprite_frames_text": "godot", "write_godot": "godot",
    "TELEGRAM_LIMITS": "telegram", "TelegramLimits": "telegram", "check_telegram_request": "telegram",
    "encode_telegram": "telegram", "read_telegram": "telegram", "telegram_size": "telegram", "write_telegram": "telegram",
    "auto_resample": "tensor", "from_tensor": "tensor", "is_pixel_art": "tensor", "to_tensor": "tensor",
    "write_webp": "webp",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Animation", "AnimationData", "Box", "DEFAULT_MAX_FRAMES", "DEFAULT_MAX_PIXELS", "DEFAULT_OPTIMIZE", "EXTENSIONS",
    "FORMATS", "FORMAT_NAMES", "Format", "GIF_ALPHA_THRESHOLD", "GIF_MAX_FPS", "LINE_LIMITS", "LineLimits", "Loaded",
    "OPTIMIZE_LEVELS", "OPTIONS", "Option", "ReadResult", "atomic_output", "auto_resample", "check_companions", "check_options", "check_output_path",
    "decode_image", "durations_for", "encode_apng", "encode_line", "fit_size", "format_from_path", "from_tensor",
    "get_format", "gif_delays", "is_pixel_art", "letterbox", "letterbox_box", "letterbox_resample", "line_loops",
    "line_size", "load_image", "output_mode", "read_animation", "read_image", "read_size", "render_size",
    "resize_rgba", "spritesheet_layout", "to_rgba", "to_tensor", "write_apng", "write_gif", "write_line",
    "write_spritesheet", "write_webp",
    "SHEET_JSON", "spritesheet_image", "sprite_frames_text", "write_godot",
    "TELEGRAM_LIMITS", "TelegramLimits", "check_telegram_request", "encode_telegram", "read_telegram", "telegram_size",
    "write_telegram",
]
