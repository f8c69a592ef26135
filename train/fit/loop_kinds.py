"""Two kinds of loop, reported separately: those a warp can follow, and those that swap content.

A warp moves pixels; it cannot make an eye close, a second pose appear in a two-frame toggle, or a leg pass behind the
other. The classifier asks the warps we fit whether one of them can follow the loop: ``train/fit/fit_motion.py``'s fit
(2 layers, affine + 16² flow, 3 harmonics, at 32²) and ``train/fit/coherent_fit.py``'s of each evaluated loop, the better
of the two, and its residual over the still frame's (both at 32², over frames 1..N-1). A loop is

- ``"warp"`` when that fit removes at least half of the still image's error (``fit L1 <= SWAP_RATIO * static L1``);
- ``"swap"`` otherwise: the frames differ in ways no smooth motion of frame 0 reproduces (blinks, toggles, legs
  passing, flames flickering).

The threshold sits near the median of the fit's per-loop ratio on this data (0.30 on 400 training loops, 0.52 on
SuperTux), so both kinds hold enough loops to report. It is a property of the loop and the warp model, not of any
generator, so every row of a table is split the same way.
"""

from __future__ import annotations

from pathlib import Path

import torch

from train.fit.motion_targets import MotionTargets

SWAP_RATIO = 0.5  # fit L1 / static L1 above this: the loop swaps content
KINDS = ("warp", "swap")


def kind_of(fit_l1: float, static_l1: float) -> str:
    """``"warp"`` if the fit removes at least half of the static error, else ``"swap"``."""
    return "warp" if fit_l1 <= SWAP_RATIO * static_l1 else "swap"


def loop_kinds(*paths: str | Path) -> dict[str, str]:
    """``{seq: kind}`` for every loop of the given fit files (``fit_motion.py`` / ``coherent_fit.py`` outputs with
    ``l1`` and ``static_l1``); a loop in several files takes its best fit (an optimiser that overshot on one loop in
    one fit does not make it a "swap").

    Raises:
        ValueError: a file without per-loop ``l1`` / ``static_l1``.
    """
    best: dict[str, tuple[float, float]] = {}
    for path in paths:
        targets = MotionTargets(path)
        if "l1" not in targets.tensors or "static_l1" not in targets.tensors:
            raise ValueError(f"motions file '{path}' has no per-loop 'l1' and 'static_l1' to classify loops by")
        for seq, f, s in zip(targets.seqs, targets.tensors["l1"].tolist(), targets.tensors["static_l1"].tolist()):
            if seq not in best or f < best[seq][0]:
                best[seq] = (f, s)
    return {seq: kind_of(f, s) for seq, (f, s) in best.items()}


def fit_ratio(targets: MotionTargets) -> torch.Tensor:
    """Per-loop ``fit L1 / static L1`` ``(N,)`` of a motions file."""
    return targets.tensors["l1"] / targets.tensors["static_l1"].clamp_min(1e-9)
