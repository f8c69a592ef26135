"""The built-in baselines of ``evaluate.py``: what a generator has to beat, with no training of their own.

- ``static``: the input repeated ``N`` times. Perfect frame 0, zero motion: the floor for "does it move".
- ``random-motion``: the fitted motion (``train/fit/fit_motion.py``) of a random *training* loop, applied to the input. It
  moves like a real sprite but ignores the image, so a model that beats it is looking at its input. (An average
  trajectory would not do: opposite-phase motions cancel to stillness.)
- ``ceiling:today`` / ``ceiling:coherent`` (``OwnMotion``): each loop's own fitted motion (``fit_motion.py`` /
  ``coherent_fit.py`` run on the evaluated split): what that motion representation can reach on it.
- ``blind:NAME`` (``Blind``): one preset for every input at one amplitude; ``evaluate.py`` sweeps the amplitude.
- ``retrieval`` lives in ``train/evaluate/retrieval.py``; the rows are assembled in ``train/evaluate/eval_rows.py``.

Each baseline is a callable ``(image, num_frames, seq) -> list of np.uint8 (H, W, 4)``, like ``Generator.animate``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from still2motion import io
from still2motion.motion import Motion, render_loop
from train.fit.motion_targets import MotionTargets

logger = logging.getLogger(__name__)

BASELINES = ("static", "random-motion", "ceiling:today", "ceiling:coherent", "retrieval", "blind:NAME")


def static_frames(image: Image.Image, num_frames: int) -> list[np.ndarray]:
    """The ``static`` baseline: ``num_frames`` copies of the input."""
    still = np.asarray(image)
    return [still.copy() for _ in range(num_frames)]


class RandomMotion:
    """The ``random-motion`` baseline: each input gets the fitted motion of a random training sequence.

    The choice depends only on ``seed`` and the evaluated sequence's name (not on the order or number of sequences
    evaluated), and never picks the evaluated sequence itself.

    Args:
        path: a ``MotionTargets`` file (``train/fit/fit_motion.py --output``).
        candidates: the sequences that may lend their motion (the training split); those missing from the file are
            skipped.
        seed: chooses the motions.

    Raises:
        ValueError: no candidate sequence is in the targets file.
    """

    def __init__(self, path: str | Path, candidates: Iterable[str], seed: int = 0) -> None:
        self.targets = MotionTargets(path)
        self.candidates = sorted(s for s in set(candidates) if s in self.targets)
        if not self.candidates:
            raise ValueError(f"motions file '{path}' holds none of the training sequences ({len(self.targets)} rows)")
        self.seed = seed
        self.resolution = int(self.targets.config.get("resolution", self.targets.tensors["masks"].shape[-1]))
        self.align_corners = bool(self.targets.config.get("align_corners", False))

    def pick(self, seq: str) -> str:
        """The training sequence whose motion ``seq`` gets."""
        pool = [s for s in self.candidates if s != seq] or self.candidates
        return random.Random(f"{self.seed}:{seq}").choice(pool)

    def __call__(self, image: Image.Image, num_frames: int, seq: str) -> list[np.ndarray]:
        """Renders the borrowed motion at the input's own size, as ``Still2Motion.animate`` renders its own."""
        motion = self.targets.motion([self.targets.index[self.pick(seq)]])  # batch of 1
        return render_fitted_motion(image, motion, num_frames, self.resolution, self.align_corners)


@torch.no_grad()
def render_fitted_motion(
    image: Image.Image, motion: Motion, num_frames: int, resolution: int, align_corners: bool = False
) -> list[np.ndarray]:
    """A canvas ``Motion`` (batch of 1, canvas of ``resolution``) applied to the input at its own size.

    Small images and pixel art (``io.auto_resample``) are sampled ``nearest`` with hard layers, so they stay crisp;
    frame 0 is the input verbatim, as ``animate()`` guarantees.
    """
    mode = io.auto_resample(image)
    box = io.letterbox_box(image.width, image.height, resolution)
    frames = []
    for chunk in render_loop(
        io.to_tensor(image)[None], motion, num_frames, box=box, canvas_size=resolution, out_size=image.size,
        mode=mode, align_corners=align_corners, hard_layers=mode == "nearest" and io.is_pixel_art(image),
    ):
        frames.extend(io.from_tensor(chunk))
    frames[0] = np.asarray(image).copy()
    return frames


class OwnMotion:
    """A fit ceiling: each evaluated loop gets its **own** fitted motion (``fit_motion.py`` or ``coherent_fit.py`` run
    on the evaluated split), rendered like every other row. What warping with that representation can reach.

    Raises:
        ValueError: (on call) a sequence the file has no fit for.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.targets = MotionTargets(path)
        self.resolution = int(self.targets.config.get("resolution", self.targets.tensors["masks"].shape[-1]))

    def __call__(self, image: Image.Image, num_frames: int, seq: str) -> list[np.ndarray]:
        if seq not in self.targets:
            raise ValueError(f"motions file '{self.path}' has no fit for '{seq}': fit the evaluated split first")
        motion = self.targets.motion([self.targets.index[seq]])
        return render_fitted_motion(image, motion, num_frames, self.resolution)


class Blind:
    """An image-blind baseline: the same preset (``still2motion.presets``) for every input, at one amplitude (peak
    displacement over silhouette height). A model that looks at its input should beat the curve these trace over
    amplitudes (``train/evaluate/blind_curve.py``)."""

    resolution = 64  # canvas the preset is built on; the motion is in canvas units, so any size renders the same

    def __init__(self, name: str, amplitude: float) -> None:
        try:
            from still2motion import presets  # lands with the motion-control issue; only blind rows need it
        except ImportError:
            raise ValueError(f"blind:{name} needs still2motion/presets.py (the motion-control issue)") from None

        if name not in presets.PRESET_NAMES:
            raise ValueError(f"unknown preset {name!r} for blind:NAME; known: {', '.join(presets.PRESET_NAMES)}")
        self.name, self.amplitude, self.build = name, amplitude, presets.preset_motion

    @torch.no_grad()
    def __call__(self, image: Image.Image, num_frames: int, seq: str) -> list[np.ndarray]:
        canvas, box = io.letterbox(image, self.resolution)
        motion = self.build(self.name, io.to_tensor(canvas)[None], amplitude=self.amplitude, box=box)
        return render_fitted_motion(image, motion, num_frames, self.resolution)
