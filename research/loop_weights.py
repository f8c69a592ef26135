"""Per-loop weights of the reconstruction term: less L1 from loops that no warp can follow.

A "swap" loop (``train/fit/loop_kinds.py``: its best fitted warp removes less than half of the still frame's error) changes
content (a blink, a toggle, a flame flickering) rather than moving it. A warping generator cannot reproduce it, so
its L1 rewards the motion nearest zero: such loops may be what teaches the generator to move less on anything
unfamiliar. ``research/train.py --loop_kinds FILE ... --swap_l1_weight W`` scales the reconstruction term (L1 and any
coefficient regression) of swap loops by ``W``; warp loops and loops the files do not cover keep weight 1. The
energy and adversarial terms are left alone, so a swap loop still asks for as much motion as its real loop shows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

from train.fit.loop_kinds import loop_kinds


class LoopWeights:
    """Reconstruction weights by sequence name, from ``coherent_fit.py`` / ``fit_motion.py`` files of training loops."""

    def __init__(self, paths: list[str | Path], swap_weight: float) -> None:
        if not 0 <= swap_weight <= 1:
            raise ValueError(f"swap weight must be in [0, 1], got {swap_weight}")
        self.kinds = loop_kinds(*paths)
        self.swap_weight = swap_weight

    def for_seqs(self, seqs: list[str]) -> torch.Tensor:
        """``(B,)`` float32 weights: ``swap_weight`` for swap loops, 1 for warp loops and unknown sequences."""
        return torch.tensor([self.swap_weight if self.kinds.get(s) == "swap" else 1.0 for s in seqs])

    def coverage(self, seqs: list[str]) -> dict[str, int]:
        """How many of ``seqs`` are warp, swap, or not in the files."""
        counts = Counter(self.kinds.get(s, "unknown") for s in seqs)
        return {kind: counts.get(kind, 0) for kind in ("warp", "swap", "unknown")}
