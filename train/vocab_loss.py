"""Training targets and loss of the vocabulary head (``still2motion/vocab_head.py``), from the oracle run offline.

``train/vocab_oracle.py --split train`` renders every table entry on each training loop and keeps the best variant:
its entry, mirror, anchor and scale. That is the target here:

- the **class** ``entry + V * mirror`` (cross-entropy over the ``2 V`` scores);
- the **residual** ``(log scale, cos(anchor) - 1, sin(anchor), 0, 0, 0)`` (L1; split and pivot are not searched by the
  oracle, so they are pulled towards 0).

The oracle saw each loop from its frame 0. A training item shows frame ``start`` and may be mirrored
(``data.py``'s ``augment``): the anchor then moves by ``2 pi start / num_frames`` (as ``losses.anchor_targets`` moves
fitted coefficients) and a mirrored clip's class is the entry's mirror image. Scale and shift augmentations need
nothing: entries live in silhouette-box units.

A loop the oracle could not fit better than a still frame by ``min_gain`` gets weight 0 (issue 19: down-weight loops
whose coherent motion does not beat static).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from train.motion_targets import MotionTargets


class OracleTargets:
    """Per-loop targets of one or more oracle files (``vocab_oracle.py --shard``), looked up by sequence name.

    Raises:
        ValueError: a file is not a ``vocab_oracle.py`` output.
    """

    def __init__(self, paths: str | Path | list, size: int, min_gain: float = 0.15) -> None:
        parts = []
        for path in paths if isinstance(paths, (list, tuple)) else [paths]:
            targets = MotionTargets(path)
            if targets.config.get("kind") != "vocab-oracle":
                raise ValueError(f"'{path}' is not a vocab_oracle.py file")
            parts.append(targets)
        self.seqs = [s for t in parts for s in t.seqs]
        self.index = {s: i for i, s in enumerate(self.seqs)}
        t = {k: torch.cat([p.tensors[k] for p in parts]) for k in ("entry", "mirror", "anchor", "scale", "oracle_l1",
                                                                      "static_l1")}
        self.size = size
        self.entry, self.mirror = t["entry"].long(), t["mirror"].long()
        self.anchor, self.log_scale = t["anchor"].float(), t["scale"].float().log()
        self.weight = (t["oracle_l1"] <= (1 - min_gain) * t["static_l1"]).float()  # (N,)

    def __len__(self) -> int:
        return len(self.seqs)

    def batch(self, seqs: list[str], start=None, num_frames=None, flip=None) -> tuple[torch.Tensor, torch.Tensor,
                                                                                          torch.Tensor]:
        """``(classes (B,), residual (B, 6), weight (B,))`` of items showing frame ``start (B,)`` of loops of
        ``num_frames (B,)`` (default: frame 0), mirrored where ``flip (B,)`` > 0.5; unknown loops get weight 0."""
        rows = torch.tensor([self.index.get(s, 0) for s in seqs])
        known = torch.tensor([s in self.index for s in seqs], dtype=torch.float32)
        anchor = self.anchor[rows]
        if start is not None:
            anchor = anchor + 2 * math.pi * torch.as_tensor(start).float() / torch.as_tensor(num_frames).float()
        mirror = self.mirror[rows]
        if flip is not None:
            mirror = mirror ^ (torch.as_tensor(flip) > 0.5).long()
        classes = self.entry[rows] + self.size * mirror
        zero = torch.zeros_like(anchor)
        residual = torch.stack((self.log_scale[rows], anchor.cos() - 1, anchor.sin(), zero, zero, zero), dim=1)
        return classes, residual, self.weight[rows] * known


def vocab_loss(logits: torch.Tensor, residual: torch.Tensor, classes: torch.Tensor, target: torch.Tensor,
               weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted cross-entropy of ``logits (B, 2V)`` on ``classes (B,)`` and L1 of ``residual (B, 6)`` on ``target``:
    ``(ce, l1)`` means over the weight (0 when every weight is 0)."""
    norm = weight.sum().clamp_min(1e-8)
    ce = (F.cross_entropy(logits.float(), classes, reduction="none") * weight).sum() / norm
    l1 = ((residual.float() - target).abs().mean(dim=1) * weight).sum() / norm
    return ce, l1
