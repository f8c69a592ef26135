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

Coordinates follow ``train/fit/coherent_fit.py`` (``u = (x - pivot) / h`` in the silhouette's box, flow over the box in
box heights, masks over height): ``coherent_motion`` is that conversion, and ``coherent_fit.to_motion`` and
``train/fit/silhouette.py`` call this module's functions (``train`` uses the package, never the reverse).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .motion import Motion

HEIGHT_BINS = 8  # mask logits per layer over the silhouette's height (coherent_fit.py --height_bins)
FLOW_SIZE = 4  # flow grid over the silhouette box (coherent_fit.py --flow_size)
CANVAS_GRID = 16  # canvas maps the motion is written as
ALPHA_MIN = 0.1  # canvas alpha above this belongs to the silhouette (train/fit/silhouette.py)
RESIDUALS = ("log_scale", "anchor_x", "anchor_y", "split", "pivot_x", "pivot_y")
_A, _B, _TX, _C, _D, _TY = range(6)


def alpha_box(canvas: torch.Tensor) -> torch.Tensor:
    """Silhouette boxes ``(B, 4)`` = ``(x0, y0, x1, y1)`` in canvas units of letterboxed ``(B, 4, R, R)``; pixel edges
    included; the whole canvas where no alpha exceeds ``ALPHA_MIN``."""
    R = canvas.shape[-1]
    inside = canvas[:, 3] > ALPHA_MIN  # (B, R, R)
    idx = torch.arange(R, device=canvas.device)
    rows, cols = inside.any(dim=2), inside.any(dim=1)  # (B, R)

    def edges(hit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first = torch.where(hit, idx, R).min(dim=1).values
        last = torch.where(hit, idx, -1).max(dim=1).values + 1
        return first, last

    (y0, y1), (x0, x1) = edges(rows), edges(cols)
    boxes = 2 * torch.stack((x0, y0, x1, y1), dim=1).to(canvas.dtype) / R - 1
    empty = ~rows.any(dim=1)
    return torch.where(empty[:, None], boxes.new_tensor([-1.0, -1.0, 1.0, 1.0]), boxes)


def coherent_motion(masks: torch.Tensor, affine: torch.Tensor, flow: torch.Tensor, boxes: torch.Tensor,
                    canvas_grid: int = CANVAS_GRID, pivot_shift: torch.Tensor | None = None) -> Motion:
    """Silhouette-relative motion (``masks (B, K, Nh)`` logits over height, ``affine (B, K, 6, M, 2)``, ``flow
    (B, K, 2, M, 2, F, F)``) placed on ``boxes (B, 4)``: the canvas ``Motion``. ``pivot_shift (B, 2)`` moves the pivot
    by box heights."""
    B = affine.shape[0]
    pivot = torch.stack(((boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]), dim=1)  # (B, 2) base centre
    h = (boxes[:, 3] - boxes[:, 1]).clamp_min(1e-3)  # (B,)
    if pivot_shift is not None:
        pivot = pivot + pivot_shift * h[:, None]
    lin = (torch.arange(canvas_grid, dtype=affine.dtype, device=affine.device) * 2 + 1) / canvas_grid - 1
    ys, xs = torch.meshgrid(lin, lin, indexing="ij")
    points = torch.stack((xs, ys), dim=-1).expand(B, -1, -1, -1)  # (B, G, G, 2) canvas cell centres
    centre = ((boxes[:, :2] + boxes[:, 2:]) / 2).view(B, 1, 1, 2)
    half = ((boxes[:, 2:] - boxes[:, :2]) / 2).clamp_min(1e-3).view(B, 1, 1, 2)
    grid = (points - centre) / half  # (B, G, G, 2) grid_sample coords of maps spanning each box
    layer = torch.softmax(F.grid_sample(masks.unsqueeze(-1), grid, padding_mode="border", align_corners=False), 1)
    dense = F.grid_sample(flow.flatten(1, 4), grid, padding_mode="border", align_corners=False)
    dense = dense.view(*flow.shape[:5], canvas_grid, canvas_grid) * h.view(B, 1, 1, 1, 1, 1, 1)
    linear = affine[:, :, [_A, _B, _C, _D]].unflatten(2, (2, 2))  # (B, K, 2, 2, M, 2)
    shift = affine[:, :, [_TX, _TY]] * h.view(B, 1, 1, 1, 1) - torch.einsum("bkijmc,bj->bkimc", linear, pivot)
    return Motion(layer, torch.cat((linear, shift.unsqueeze(3)), dim=3).flatten(2, 3), dense)


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
