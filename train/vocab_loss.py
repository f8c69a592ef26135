"""Training targets and loss of the vocabulary head (``still2motion/vocab_head.py``), from the oracle run offline.

``train/vocab_oracle.py --split train`` renders every table entry on each training loop and keeps the best variant:
its entry, mirror, anchor and scale. That is the target here:

- the **class** ``entry + V * mirror`` (cross-entropy over the ``2 V`` scores);
- the **residual** ``(log scale, cos(anchor) - 1, sin(anchor), 0, 0, 0)`` (L1; split and pivot are not searched by the
  oracle, so they are pulled towards 0).

A loop the oracle could not fit better than a still frame by ``min_gain`` gets weight 0 (issue 19: down-weight loops
whose coherent motion does not beat static).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from train.motion_targets import MotionTargets


class OracleTargets:
    """Per-loop targets of an oracle file, looked up by sequence name.

    Raises:
        ValueError: the file is not a ``vocab_oracle.py`` output.
    """

    def __init__(self, path, size: int, min_gain: float = 0.15) -> None:
        targets = MotionTargets(path)
        if targets.config.get("kind") != "vocab-oracle":
            raise ValueError(f"'{path}' is not a vocab_oracle.py file")
        t = targets.tensors
        self.index = targets.index
        self.classes = (t["entry"] + size * t["mirror"]).long()  # (N,)
        anchor = t["anchor"]
        zero = torch.zeros_like(anchor)
        self.residual = torch.stack((t["scale"].log(), anchor.cos() - 1, anchor.sin(), zero, zero, zero), dim=1)
        self.weight = (t["oracle_l1"] <= (1 - min_gain) * t["static_l1"]).float()  # (N,)

    def batch(self, seqs: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(classes (B,), residual (B, 6), weight (B,))``; unknown loops get weight 0."""
        rows = torch.tensor([self.index.get(s, 0) for s in seqs])
        known = torch.tensor([s in self.index for s in seqs], dtype=torch.float32)
        return self.classes[rows], self.residual[rows], self.weight[rows] * known


def vocab_loss(logits: torch.Tensor, residual: torch.Tensor, classes: torch.Tensor, target: torch.Tensor,
               weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted cross-entropy of ``logits (B, 2V)`` on ``classes (B,)`` and L1 of ``residual (B, 6)`` on ``target``:
    ``(ce, l1)`` means over the weight (0 when every weight is 0)."""
    norm = weight.sum().clamp_min(1e-8)
    ce = (F.cross_entropy(logits, classes, reduction="none") * weight).sum() / norm
    l1 = ((residual - target).abs().mean(dim=1) * weight).sum() / norm
    return ce, l1
