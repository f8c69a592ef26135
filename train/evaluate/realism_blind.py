"""Image-blind rows of the realism table: one preset motion (bob, sway) for every input, at the amplitude whose
alive rate is closest to the evaluated model's, so the model is compared with a motion that moves as much as it does.

Presets come from ``still2motion.presets`` (amplitude = peak displacement of the silhouette over its height, capped
inside the frame); each is rendered at the input's own size like ``RandomMotion``, frame 0 the input verbatim.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from still2motion import io
from still2motion.motion import render_loop
from train.evaluate import metrics

logger = logging.getLogger(__name__)

PRESETS = ("bob", "sway")
AMPLITUDES = (0.02, 0.04, 0.08, 0.16, 0.32)  # fractions of the silhouette height swept for the alive match
CANVAS = 64  # canvas the preset is built on (its motion is in canvas units, so any size renders it)
SWEEP_LOOPS = 40  # loops the alive rate of each amplitude is measured on


def preset_animate(name: str, amplitude: float) -> Callable[[Image.Image, int, float, str], list[np.ndarray]]:
    """An ``evaluate.Row.animate`` that moves every input with preset ``name`` at ``amplitude``."""
    from still2motion.presets import preset_motion

    @torch.no_grad()
    def animate(image: Image.Image, num_frames: int, fps: float, seq: str) -> list[np.ndarray]:
        canvas, box = io.letterbox(image, CANVAS)
        motion = preset_motion(name, io.to_tensor(canvas)[None], amplitude=amplitude, box=box)
        frames = []
        for chunk in render_loop(io.to_tensor(image)[None], motion, num_frames, box=box, canvas_size=CANVAS,
                                 out_size=image.size, mode=io.auto_resample(image)):
            frames.extend(io.from_tensor(chunk))
        frames[0] = np.asarray(image).copy()
        return frames

    return animate


def alive_rate(animate, loops) -> float:
    """Fraction of ``loops`` (``realism.Loop``) whose animation moves 0.5 to 2 times as much as the real loop."""
    alive = []
    for lp in loops:
        fake = animate(Image.fromarray(lp.frames[0], "RGBA"), len(lp.frames), lp.fps, lp.seq)
        real, gen = (torch.stack([io.to_tensor(np.ascontiguousarray(f)) for f in c]) for c in (lp.frames, fake))
        alive.append(metrics.is_alive(metrics.motion_ratio(gen, real)))
    return float(np.mean(alive))


def blind_rows() -> Callable[[list, float], dict] | None:
    """``(loops, alive rate) -> {"bob@<amplitude>": animate, ...}``; ``None`` without ``still2motion.presets``."""
    if importlib.util.find_spec("still2motion.presets") is None:
        logger.warning("realism: still2motion.presets is missing, so no image-blind rows (bob, sway)")
        return None

    def rows(loops: list, target: float) -> dict:
        keep = np.linspace(0, len(loops) - 1, min(SWEEP_LOOPS, len(loops))).round().astype(int)
        sweep = [loops[i] for i in sorted(set(keep.tolist()))]
        out = {}
        for name in PRESETS:
            rates = {a: alive_rate(preset_animate(name, a), sweep) for a in AMPLITUDES}
            best = min(AMPLITUDES, key=lambda a: (abs(rates[a] - target), a))
            logger.info("realism: %s alive rates %s; %g is closest to %.3f", name, rates, best, target)
            out[f"{name}@{best:g}"] = preset_animate(name, best)
        return out

    return rows
