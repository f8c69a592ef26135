"""Training targets and loss of the vocabulary head (``still2motion/vocab_head.py``), from the oracle run offline.

``research/vocab_oracle.py --split train`` renders every table entry on each training loop and keeps the best variant:
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

With a ``temperature`` T > 0 the class target is **soft** instead, on every loop the oracle saw: the oracle file's
``entry_l1`` (each entry's coarse phase-L1, best of anchors and mirror) over the loop's static L1 gives entry ``e`` the
probability ``softmax(-ratio_e / T)``, on the oracle's mirror for its best entry and halved between both mirrors for
the others (the coarse pass does not say which). Every entry's fit is a training signal, not only the best one of the
loops it fits well; the residual keeps the hard rule above.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from train.fit.motion_targets import MotionTargets

MIN_GAIN = 0.15  # a loop's best entry must beat a still frame by this share of its L1 to be a hard target


class OracleTargets:
    """Per-loop targets of one or more oracle files (``vocab_oracle.py --shard``), looked up by sequence name.

    Raises:
        ValueError: a file is not a ``vocab_oracle.py`` output.
    """

    def __init__(self, paths: str | Path | list, size: int, min_gain: float = MIN_GAIN, temperature: float = 0.0) -> None:
        parts = []
        for path in paths if isinstance(paths, (list, tuple)) else [paths]:
            targets = MotionTargets(path)
            if targets.config.get("kind") != "vocab-oracle":
                raise ValueError(f"'{path}' is not a vocab_oracle.py file")
            parts.append(targets)
        self.seqs = [s for t in parts for s in t.seqs]
        self.index = {s: i for i, s in enumerate(self.seqs)}
        keys = ("entry", "mirror", "anchor", "scale", "oracle_l1", "static_l1") + (("entry_l1",) if temperature > 0 else ())
        t = {k: torch.cat([p.tensors[k] for p in parts]) for k in keys}
        self.size = size
        self.entry, self.mirror = t["entry"].long(), t["mirror"].long()
        self.anchor, self.log_scale = t["anchor"].float(), t["scale"].float().log()
        self.weight = (t["oracle_l1"] <= (1 - min_gain) * t["static_l1"]).float()  # (N,)
        self.soft = None
        if temperature > 0:
            entry = torch.softmax(-t["entry_l1"] / t["static_l1"].clamp_min(1e-9)[:, None] / temperature, dim=1)
            best = F.one_hot(self.entry, size).bool()
            mirror = self.mirror[:, None].bool()
            plain = torch.where(best, torch.where(mirror, 0.0, entry), entry / 2)
            self.soft = torch.cat((plain, torch.where(best, torch.where(mirror, entry, 0.0), entry / 2)), dim=1)

    def __len__(self) -> int:
        return len(self.seqs)

    def batch(self, seqs: list[str], start=None, num_frames=None, flip=None) -> tuple[
            torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(classes (B,), residual (B, 6), weight (B,), soft)`` of items showing frame ``start (B,)`` of loops of
        ``num_frames (B,)`` (default: frame 0), mirrored where ``flip (B,)`` > 0.5; unknown loops get weight 0.
        ``soft`` is ``None``, or with a temperature the ``(B, 2V)`` class probabilities (rows of unknown loops 0)."""
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
        soft = None
        if self.soft is not None:
            soft = self.soft[rows] * known[:, None]
            if flip is not None:
                soft = torch.where((torch.as_tensor(flip) > 0.5)[:, None], soft.roll(self.size, dims=1), soft)
        return classes, residual, self.weight[rows] * known, soft


def vocab_loss(logits: torch.Tensor, residual: torch.Tensor, classes: torch.Tensor, target: torch.Tensor,
               weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of ``logits (B, 2V)`` on ``classes`` and L1 of ``residual (B, 6)`` on ``target``, means over the
    weight (0 when every weight is 0): ``(ce, l1)``. Index classes ``(B,)`` take the weight; soft classes ``(B, 2V)``
    (``OracleTargets.batch``'s ``soft``: rows summing to 1, or 0 for unknown loops) weigh each row by its sum."""
    norm = weight.sum().clamp_min(1e-8)
    if classes.ndim == 2:
        mass = classes.sum(dim=1)
        ce = (-(classes * torch.log_softmax(logits.float(), dim=1)).sum(dim=1)).sum() / mass.sum().clamp_min(1e-8)
    else:
        ce = (F.cross_entropy(logits.float(), classes, reduction="none") * weight).sum() / norm
    l1 = ((residual.float() - target).abs().mean(dim=1) * weight).sum() / norm
    return ce, l1
