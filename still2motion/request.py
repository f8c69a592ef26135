"""The one request path: check the request -> load the bytes and check the header -> render -> save.

The CLI and the app go through here, top to bottom: the request's rules and the input's header are checked once
(``checks.py``, re-exported here), the model renders (``Generator.render_request``), and `save` writes the format.
Calls go one way, cli/app -> request -> model -> checks; ``Generator.animate`` (Python) uses ``checks`` and its own
``render_request``, never this module.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import config as cfg
from . import io
from .checks import PYTHON_NAMES, ImageInput, Progress, Request, Still, check, load

logger = logging.getLogger(__name__)

__all__ = ["PYTHON_NAMES", "ImageInput", "Progress", "Request", "Result", "Still", "check", "load", "render", "run",
           "save"]


def render(model, still: Still, request: Request, *, progress: Progress | None = None) -> tuple[io.Animation, int]:
    """Decodes and animates a loaded still (``model.render_request``); returns the animation and the input's frame
    count (> 1: an animated file). Frame 0 is the decoded input, verbatim, when the output has the input's size."""
    return model.render_request(still, request, progress=progress)


def save(anim: io.Animation, path: str | os.PathLike, request: Request, *, progress: Progress | None = None,
         **overrides) -> Path:
    """Writes ``anim`` in the request's format and options (``overrides`` replace options), within max_output_bytes."""
    start = time.perf_counter()
    if progress is not None:
        progress("encode", 0, None)
    try:
        written = anim.save(path, format=request.format, max_bytes=int(cfg.limit("max_output_bytes")),
                            **{**request.options, **overrides})
    finally:  # also on failure: the caller's progress display must stop
        if progress is not None:
            progress("encode", 1, 1)
    logger.info("wrote %s (%s) in %.2f s", written, request.format, time.perf_counter() - start)
    return written


@dataclass
class Result:
    """What `run` made: the written file, the animation, the seed used and the input's frame count."""

    path: Path
    animation: io.Animation
    seed: int
    input_frames: int


def run(model, source: ImageInput, output: str | os.PathLike, request: Request, *, progress: Progress | None = None,
        names: Mapping[str, str] = PYTHON_NAMES) -> Result:
    """The whole path for one input and one output file: load (header checks) -> decode -> render -> save.

    ``request`` must have been through `check` (with this ``output`` for a single file).
    """
    still = load(source, request, names=names)
    anim, input_frames = render(model, still, request, progress=progress)
    return Result(save(anim, output, request, progress=progress), anim, request.seed, input_frames)
