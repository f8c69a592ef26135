"""The vocabulary head: scores a table of real motions for the input and predicts a small residual.

Issue 19's alternative to regressing every Fourier coefficient: the table (``research/vocabulary.py``: coherent fits of
training loops, clustered) holds ``V`` silhouette-relative motions; the head scores ``2 V`` classes (each entry and
its mirror image) and predicts a residual per input:

- ``log_scale``: the amplitude, ``exp(log_scale)`` times the entry's;
- ``anchor``: where the input sits in the entry's cycle, an angle (``atan2`` of a 2-vector that starts at ``(1, 0)``);
- ``split``: shifts the layers' boundary along the height of the silhouette (added to the height-mask logits of layer 0,
  subtracted from the last layer's);
- ``pivot``: moves the pivot (the base centre of the silhouette box) by ``(dx, dy)`` box heights.

Seeds **sample** from the predicted distribution by inverse CDF with ``u = Phi(z_0)`` (the noise's first component
through the normal CDF), so each seed is a distinct clean motion; a zero noise vector (seed 0, see
``Still2Motion.sample_noise``) takes the most likely class.

Coordinates follow ``train/fit/coherent_fit.py``; the silhouette box and the conversion to a canvas ``Motion`` live in
``silhouette_motion.py``, which ``train/`` uses too.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .motion import Motion
from .silhouette_motion import _B, _C, _TX, FLOW_SIZE, HEIGHT_BINS, alpha_box, coherent_motion

RESIDUALS = ("log_scale", "anchor_x", "anchor_y", "split", "pivot_x", "pivot_y")


def _rotate(coeffs: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Re-anchors Fourier coefficients ``(B, K, P, M, 2, ...)`` at phase ``angle (B,)`` (``motion.shift_phase``)."""
    M = coeffs.shape[3]
    m = torch.arange(1, M + 1, dtype=coeffs.dtype, device=coeffs.device)
    a_m = (angle[:, None] * m).view(-1, 1, 1, M, *([1] * (coeffs.ndim - 5)))
    a, b = coeffs[:, :, :, :, 0], coeffs[:, :, :, :, 1]
    return torch.stack((a * torch.cos(a_m) + b * torch.sin(a_m), b * torch.cos(a_m) - a * torch.sin(a_m)), dim=4)


class VocabHead(nn.Module):
    """Scores over ``2 * size`` classes (entry ``i`` is class ``i``, its mirror image ``size + i``) and a residual.

    Args:
        in_features: width of the pooled features it reads.
        size: ``V``, entries in the table (its buffers are filled by ``set_table`` and saved with the weights).
        num_layers, num_harmonics: ``K`` and ``M`` of the entries.
        top_p: seeds sample only the most likely classes holding this much probability (1: all of them).

    Both linear layers start at zero: a uniform distribution and the identity residual.
    """

    def __init__(self, in_features: int, size: int, num_layers: int, num_harmonics: int, top_p: float = 1.0) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"vocabulary size must be >= 1, got {size}")
        K, M = num_layers, num_harmonics
        self.size = size
        self.top_p = float(top_p)
        self.register_buffer("table_masks", torch.zeros(size, K, HEIGHT_BINS))
        self.register_buffer("table_affine", torch.zeros(size, K, 6, M, 2))
        self.register_buffer("table_flow", torch.zeros(size, K, 2, M, 2, FLOW_SIZE, FLOW_SIZE))
        self.score = nn.Linear(in_features, 2 * size)
        self.residual = nn.Linear(in_features, len(RESIDUALS))
        for layer in (self.score, self.residual):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def set_table(self, masks: torch.Tensor, affine: torch.Tensor, flow: torch.Tensor) -> None:
        """Copies a vocabulary's entries (``train/vocabulary.load_table``) into the buffers; shapes must match."""
        for name, value in (("table_masks", masks), ("table_affine", affine), ("table_flow", flow)):
            buffer = getattr(self, name)
            if value.shape != buffer.shape:
                raise ValueError(f"{name} must be {tuple(buffer.shape)}, got {tuple(value.shape)}")
            buffer.copy_(value)

    def choose(self, logits: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Class per sample ``(B,)``: the most likely where ``noise`` is all zero, else inverse-CDF sampling with
        ``u = Phi(noise[:, 0])`` over the classes ``top_p`` keeps."""
        probs = torch.softmax(logits.float(), dim=1)
        if self.top_p < 1:
            ranked, order = probs.sort(dim=1, descending=True)
            kept = (ranked.cumsum(dim=1) - ranked) < self.top_p  # the head that first reaches top_p of the mass
            probs = probs * torch.zeros_like(kept).scatter(1, order, kept)
            probs = probs / probs.sum(dim=1, keepdim=True)
        u = 0.5 * (1 + torch.erf(noise[:, :1].float() / math.sqrt(2)))  # (B, 1) uniform in (0, 1)
        hit = (probs.cumsum(dim=1) >= u) & (probs > 0)  # the first class reaching u is always a kept one
        sampled = torch.where(hit.any(dim=1), hit.int().argmax(dim=1), logits.argmax(dim=1))
        return torch.where((noise == 0).all(dim=1), logits.argmax(dim=1), sampled)

    def motion(self, classes: torch.Tensor, residual: torch.Tensor, boxes: torch.Tensor) -> Motion:
        """The canvas ``Motion`` of ``classes (B,)`` with ``residual (B, 6)`` on silhouette ``boxes (B, 4)``."""
        entry, mirrored = classes % self.size, classes >= self.size
        masks, affine, flow = self.table_masks[entry], self.table_affine[entry], self.table_flow[entry]
        sign = torch.ones(6, dtype=affine.dtype, device=affine.device)
        sign[[_B, _TX, _C]] = -1  # x -> -x: F (I + L) F, F t
        m = mirrored.view(-1, 1, 1, 1, 1)
        affine = torch.where(m, affine * sign.view(6, 1, 1), affine)
        flip = flow.flip(-1) * torch.tensor([-1.0, 1.0], dtype=flow.dtype, device=flow.device).view(2, 1, 1, 1, 1)
        flow = torch.where(m.unsqueeze(-1).unsqueeze(-1), flip, flow)
        log_scale, ax, ay, split, px, py = residual.unbind(dim=1)
        angle = torch.atan2(ay, 1 + ax)  # 0 at the identity residual
        scale = torch.exp(log_scale)
        affine = _rotate(affine, angle) * scale.view(-1, 1, 1, 1, 1)
        flow = _rotate(flow, angle) * scale.view(-1, 1, 1, 1, 1, 1, 1)
        K = masks.shape[1]
        tilt = torch.zeros(K, dtype=masks.dtype, device=masks.device)
        if K > 1:
            tilt[0], tilt[-1] = 1.0, -1.0
        masks = masks + split.view(-1, 1, 1) * tilt.view(1, K, 1)
        return coherent_motion(masks, affine, flow, boxes, pivot_shift=torch.stack((px, py), dim=1))

    def forward(self, features: torch.Tensor, canvas: torch.Tensor, noise: torch.Tensor,
                classes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, Motion]:
        """``features (B, in_features)`` of letterboxed ``canvas (B, 4, R, R)``: ``(logits (B, 2V), residual (B, 6),
        motion)``. ``classes (B,)`` renders given classes (training on each loop's best entry) where they are ``>= 0``;
        ``choose`` picks the rest (all of them without ``classes``)."""
        logits, residual = self.score(features), self.residual(features)
        chosen = self.choose(logits, noise)
        classes = chosen if classes is None else torch.where(classes >= 0, classes, chosen)
        return logits, residual, self.motion(classes, residual, alpha_box(canvas))
