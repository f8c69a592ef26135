"""The `Animation` result and its `save`, which picks a writer by format."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .apng_write import write_apng
from .atomic import check_output_path
from .gif_write import write_gif
from .line import write_line
from .spritesheet import write_spritesheet
from .webp import write_webp

logger = logging.getLogger(__name__)

FORMATS = ("apng", "gif", "webp", "line", "line-main", "spritesheet")
# Formats chosen from the extension; line, line-main and spritesheet only through format=.
EXTENSIONS = {".png": "apng", ".apng": "apng", ".gif": "gif", ".webp": "webp"}


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


def format_from_path(path: str | os.PathLike, format: str | None = None) -> str:
    """Resolves the output format: ``format`` if given, else from the extension.

    Args:
        path: output path.
        format: one of `FORMATS` (case-insensitive), or None.

    Returns:
        A name from `FORMATS`.

    Raises:
        ValueError: an unknown format or extension; the message lists the choices.
    """
    if format is not None:
        name = format.lower()
        if name not in FORMATS:
            raise ValueError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
        return name
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(
            f"cannot tell the format of '{path}' from its extension {suffix or '(none)'!r}; use one of "
            f"{', '.join(EXTENSIONS)} or choose with format= ({', '.join(FORMATS)})"
        )
    return EXTENSIONS[suffix]


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
            path: output file. ``.png``/``.apng`` → APNG, ``.gif``, ``.webp``; other extensions need
                ``format``.
            format: one of ``"apng"``, ``"gif"``, ``"webp"``, ``"line"`` (LINE sticker APNG),
                ``"line-main"`` (240x240 LINE main image), ``"spritesheet"`` (PNG + JSON next to it);
                default: from the extension.
            **options: passed to the writer: ``optimize`` (apng), ``alpha_threshold``/``dither`` (gif),
                ``quality``/``method`` (webp), ``loops`` (line), ``columns`` (spritesheet).
            max_bytes: refuse a result larger than this (all files of a sprite sheet together); it is encoded
                into a hidden folder next to ``path`` and measured before anything is renamed into place.

        Returns:
            The written path (the PNG for a sprite sheet).

        Raises:
            ValueError: unknown format, a limit the format cannot meet, more than ``max_bytes``, or an
                unwritable path (nothing is left behind).
            FileNotFoundError: the output folder does not exist.
        """
        name = format_from_path(path, format)
        path = check_output_path(path)
        if max_bytes is not None:
            return self._save_limited(path, name, max_bytes, options)
        frames, durations = list(self.frames), list(self.durations_ms)
        if name == "apng":
            return write_apng(frames, durations, path, self.loop, **options)
        if name == "gif":
            return write_gif(frames, durations, path, self.loop, fps=self.fps, **options)
        if name == "webp":
            return write_webp(frames, durations, path, self.loop, **options)
        if name in ("line", "line-main"):
            return write_line(frames, durations, path, main=name == "line-main", **options)
        return write_spritesheet(frames, durations, path, **options)

    def _save_limited(self, path: Path, name: str, max_bytes: int, options: dict) -> Path:
        # Written under the final name inside a hidden folder (so a sprite sheet's JSON names the right PNG),
        # measured, then renamed into place; the folder is always removed.
        stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        try:
            written = self.save(stage / path.name, format=name, **options)
            files = sorted(stage.iterdir())
            size = sum(f.stat().st_size for f in files)
            if size > max_bytes:
                raise ValueError(
                    f"cannot write '{path}': the {name} output is {size} bytes, more than the limit of {max_bytes} "
                    "(max_output_bytes); use fewer frames, a smaller size or another format"
                )
            for f in files:
                os.replace(f, path.parent / f.name)
            return path.parent / written.name
        finally:
            shutil.rmtree(stage, ignore_errors=True)
