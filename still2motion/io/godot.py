"""Godot 4 sprite frames: ``NAME.png`` (the sheet) + ``NAME.tres`` (a ``SpriteFrames`` text resource).

The ``.tres`` follows Godot 4's text resource format (docs: "TSCN file format", which covers ``.tres`` too):
a ``[gd_resource type="SpriteFrames" load_steps=N format=3]`` header (format=3 is Godot 4; load_steps =
resources + 1), one ``[ext_resource type="Texture2D" path="NAME.png" id=...]`` for the sheet, one
``[sub_resource type="AtlasTexture"]`` per frame whose ``region`` is that frame's cell, and a ``[resource]``
whose ``animations`` array holds one looping animation, the dictionary ``SpriteFrames._set_animations``
reads (``"frames"`` of ``{"duration", "texture"}``, ``"loop"``, ``"name"``, ``"speed"`` in frames per second).

Where the PNG must sit: the ``ext_resource`` path is the bare file name, and "paths relative to the TSCN
file's location are also valid" (the same docs), so the PNG must stay next to the ``.tres``, in the same
folder of the Godot project; Godot imports it as a ``Texture2D`` and adds UIDs when it next saves. A frame's
``duration`` is relative to ``1 / speed`` (the docs of ``SpriteFrames.add_frame``/``get_frame_duration``):
frames evenly spaced at ``fps`` (the integer-ms durations `durations_for` makes) are written as ``1.0``, so
Godot plays them at exactly ``fps``; any other durations as ``duration_ms * fps / 1000``, so each frame
lasts its own duration and the loop ``sum(durations_ms)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .apng_write import validate_frames
from .atomic import atomic_output, check_output_path
from .spritesheet import spritesheet_image

GODOT_ANIMATION = "default"  # the animation AnimatedSprite2D/3D select until told otherwise


def _string(text: str) -> str:
    # Godot strings are double-quoted with C-style escapes.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _float(value: float) -> str:
    # Godot writes floats with a decimal point ("1.0", "0.999"); 6 decimals are plenty for a duration.
    return repr(float(round(value, 6)))


def _is_even(durations_ms: Sequence[int], fps: float) -> bool:
    # The formula of animation.durations_for (not imported: the format table imports this module).
    return all(ms == round(1000 * (i + 1) / fps) - round(1000 * i / fps) for i, ms in enumerate(durations_ms))


def _relative(durations_ms: Sequence[int], fps: float) -> list[float]:
    if _is_even(durations_ms, fps):
        return [1.0] * len(durations_ms)
    return [ms * fps / 1000 for ms in durations_ms]


def sprite_frames_text(
    image_path: str, cells: Sequence[tuple[int, int, int, int]], durations_ms: Sequence[int], fps: float,
    *, animation: str = GODOT_ANIMATION,
) -> str:
    """The text of a Godot 4 ``SpriteFrames`` ``.tres``: one looping animation of AtlasTexture cells.

    Args:
        image_path: the sheet's ``ext_resource`` path (a file name: relative to the ``.tres``).
        cells: each frame's ``(x, y, w, h)`` in the sheet, in frame order.
        durations_ms: one duration per frame, in ms.
        fps: the animation's ``speed``, > 0.
        animation: the animation's name.

    Returns:
        The file's text, ending with a newline.
    """
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    if len(cells) != len(durations_ms) or not cells:
        raise ValueError(f"need one duration per frame: {len(cells)} frames, {len(durations_ms)} durations")
    lines = [f"[gd_resource type=\"SpriteFrames\" load_steps={len(cells) + 2} format=3]", ""]
    lines += [f"[ext_resource type=\"Texture2D\" path={_string(image_path)} id=\"1_sheet\"]", ""]
    for i, (x, y, w, h) in enumerate(cells):
        lines += [
            f"[sub_resource type=\"AtlasTexture\" id=\"AtlasTexture_{i}\"]",
            "atlas = ExtResource(\"1_sheet\")",
            f"region = Rect2({x}, {y}, {w}, {h})",
            "filter_clip = true",  # no bleeding from the neighbouring cells when filtered
            "",
        ]
    frames = ", ".join(
        f"{{\n\"duration\": {_float(d)},\n\"texture\": SubResource(\"AtlasTexture_{i}\")\n}}"
        for i, d in enumerate(_relative(durations_ms, fps))
    )
    lines += [
        "[resource]",
        "animations = [{",
        f"\"frames\": [{frames}],",
        "\"loop\": true,",
        f"\"name\": &{_string(animation)},",
        f"\"speed\": {_float(fps)}",
        "}]",
    ]
    return "\n".join(lines) + "\n"


def write_godot(
    frames: Sequence[Image.Image | np.ndarray],
    durations_ms: Sequence[int],
    path: str | os.PathLike,
    *,
    fps: float,
    columns: int | None = None,
    animation: str = GODOT_ANIMATION,
) -> Path:
    """Writes ``NAME.png`` (frames in the sprite-sheet grid) and ``NAME.tres`` (Godot 4 ``SpriteFrames``), atomically.

    Drop both files into one folder of a Godot 4 project (the ``.tres`` names the PNG by its bare file name)
    and assign the ``.tres`` to an ``AnimatedSprite2D``'s ``sprite_frames``; the animation loops at ``fps``.

    Args:
        frames: PIL ``"RGBA"`` images or ``np.uint8 (H, W, 4)`` arrays, all one size.
        durations_ms: one duration per frame, in ms.
        path: the PNG path; the ``.tres`` goes next to it with the suffix ``.tres``.
        fps: the animation's speed (frames per second), > 0.
        columns: grid columns (default ``ceil(sqrt(N))``, as for the sprite sheet).
        animation: the animation's name (default ``"default"``).

    Returns:
        The PNG path.

    Raises:
        ValueError: bad frames, fps or an unwritable path (nothing is written). FileNotFoundError: missing folder.
    """
    images = [im.convert("RGBA") for im in validate_frames(frames, durations_ms)]
    path = Path(path)
    tres_path = path.with_suffix(".tres")
    if path == tres_path:
        raise ValueError(f"the Godot sheet path must be the PNG, not the .tres, got '{path}'")
    check_output_path(path)
    check_output_path(tres_path)
    sheet, cells = spritesheet_image(images, columns)
    text = sprite_frames_text(path.name, cells, [int(d) for d in durations_ms], fps, animation=animation)
    with atomic_output(path) as tmp_png, atomic_output(tres_path) as tmp_tres:
        sheet.save(tmp_png, "PNG")
        tmp_tres.write_text(text, encoding="utf-8", newline="\n")
    return path
