"""The `Animation` result and its `save`, which writes any format of the format table (formats.py)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .atomic import check_output_path
from .formats import FORMATS, Format, check_companions, format_from_path

logger = logging.getLogger(__name__)


def durations_for(num_frames: int, fps: float) -> list[int]:
    """Integer frame durations (ms) at ``fps`` whose sum is exactly ``round(1000 * num_frames / fps)``.

    ``duration_i = round(1000 * (i + 1) / fps) - round(1000 * i / fps)``, so rounding never accumulates.

    Raises:
        ValueError: ``num_frames < 1`` or ``fps <= 0``.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    return [round(1000 * (i + 1) / fps) - round(1000 * i / fps) for i in range(num_frames)]


def check_options(row: Format, options: dict) -> None:
    """Raises a one-line ``ValueError`` for an option the format's writer does not take."""
    unknown = sorted(set(options) - set(row.options))
    if unknown:
        takes = ", ".join(row.options) or "no options"
        raise ValueError(f"the {row.name} format does not take {', '.join(unknown)} (it takes: {takes})")


@dataclass
class Animation:
    """A rendered loop.

    Attributes:
        frames: PIL ``"RGBA"`` images, all one size.
        durations_ms: one int per frame; see `durations_for`.
        fps: nominal frame rate.
        loop: number of plays; 0 = forever.
    """

    frames: list[Image.Image]
    durations_ms: list[int]
    fps: float
    loop: int = 0

    def save(self, path: str | os.PathLike, format: str | None = None, *, max_bytes: int | None = None, **options) -> Path:
        """Writes the animation atomically (temp file in the same folder, then rename).

        Args:
            path: output file. ``.png``/``.apng`` → APNG, ``.gif``, ``.webp``; other extensions need ``format``.
            format: a name of ``io.FORMATS`` (``"apng"``, ``"gif"``, ``"webp"``, ``"line"`` (LINE sticker APNG),
                ``"line-main"`` (240x240 LINE main image), ``"spritesheet"`` (PNG + JSON next to it), ``"godot"``
                (PNG + .tres), ``"telegram"``/``"telegram-emoji"`` (VP9 + alpha WebM), ...);
                default: from the extension.
            max_bytes: refuse a result larger than this (all files of a sprite sheet together); it is encoded
                into a hidden folder next to ``path`` and measured before anything is renamed into place.
            **options: passed to the writer; each format lists the ones it takes in ``io.FORMATS[name].options``:
                ``optimize`` (apng, webp: ``"none"``, ``"fast"``, ``"max"``), ``alpha_threshold``/``dither`` (gif),
                ``quality``/``method`` (webp), ``loops`` (line), ``columns`` (spritesheet, godot), ``sheet_json``
                (spritesheet: ``"hash"`` or ``"array"``).

        Returns:
            The written path (the PNG for a sprite sheet).

        Raises:
            ValueError: unknown format or option, a path named like a companion file (``a.json`` for a sprite
                sheet: name the PNG), a limit the format cannot meet, more than ``max_bytes``, or an
                unwritable path (nothing is left behind).
            FileNotFoundError: the output folder does not exist.
        """
        row = FORMATS[format_from_path(path, format)]
        check_options(row, options)
        check_companions(path, row)  # here, not in the writer: a staged write would name the temporary path
        path = check_output_path(path)
        if max_bytes is not None:
            return self._save_limited(path, row, max_bytes, options)
        context = {"loop": self.loop, "fps": self.fps}
        kwargs = {**row.fixed, **{name: context[name] for name in row.context}, **options}
        return row.write_function()(list(self.frames), list(self.durations_ms), path, **kwargs)

    def _save_limited(self, path: Path, row: Format, max_bytes: int, options: dict) -> Path:
        # Written under the final name inside a hidden folder (so a sprite sheet's JSON names the right PNG),
        # measured, then renamed into place; the folder is always removed.
        stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        try:
            written = self.save(stage / path.name, format=row.name, **options)
            files = sorted(stage.iterdir())
            size = sum(f.stat().st_size for f in files)
            if size > max_bytes:
                raise ValueError(
                    f"cannot write '{path}': the {row.name} output is {size} bytes, more than the limit of {max_bytes} "
                    "(max_output_bytes); use fewer frames, a smaller size or another format"
                )
            for f in files:
                os.replace(f, path.parent / f.name)
            return path.parent / written.name
        finally:
            shutil.rmtree(stage, ignore_errors=True)
