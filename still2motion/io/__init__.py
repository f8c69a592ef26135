"""Reading and writing still and animated images; the letterbox; PIL/numpy <-> torch.

This subpackage imports nothing from the rest of still2motion.
"""

from .animation import EXTENSIONS, FORMATS, Animation, durations_for, format_from_path
from .apng_write import encode_apng, write_apng
from .atomic import atomic_output, check_output_path
from .gif_write import GIF_ALPHA_THRESHOLD, GIF_MAX_FPS, gif_delays, write_gif
from .godot import sprite_frames_text, write_godot
from .letterbox import Box, letterbox, letterbox_box, letterbox_resample, resize_rgba
from .line import LINE_LIMITS, LineLimits, encode_line, line_loops, line_size, render_size, write_line
from .modes import to_rgba
from .read import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, read_animation, read_image, read_size
from .spritesheet import SHEET_JSON, spritesheet_image, spritesheet_layout, write_spritesheet
from .telegram import (TELEGRAM_LIMITS, TelegramLimits, check_telegram_request, encode_telegram, read_telegram,
                       telegram_size, write_telegram)
from .tensor import auto_resample, from_tensor, is_pixel_art, to_tensor
from .types import AnimationData, ReadResult
from .webp import write_webp

__all__ = [
    "Animation", "AnimationData", "Box", "DEFAULT_MAX_FRAMES", "DEFAULT_MAX_PIXELS", "EXTENSIONS", "FORMATS",
    "GIF_ALPHA_THRESHOLD", "GIF_MAX_FPS", "LINE_LIMITS", "LineLimits", "ReadResult", "atomic_output",
    "check_output_path", "durations_for", "encode_apng", "encode_line", "format_from_path", "from_tensor",
    "auto_resample", "gif_delays", "is_pixel_art", "letterbox", "letterbox_box", "letterbox_resample", "line_loops", "line_size", "read_animation",
    "read_image", "read_size", "render_size", "resize_rgba", "spritesheet_layout", "to_rgba", "to_tensor", "write_apng",
    "write_gif", "write_line", "write_spritesheet", "write_webp",
    "SHEET_JSON", "spritesheet_image", "sprite_frames_text", "write_godot",
    "TELEGRAM_LIMITS", "TelegramLimits", "check_telegram_request", "encode_telegram", "read_telegram", "telegram_size",
    "write_telegram",
]
