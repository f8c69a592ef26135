"""The silhouette of a letterboxed input and motion placed on it: what the vocabulary head renders, and what
``train/`` fits loops with (``train/fit/coherent_fit.py``) and scores retrieval and oracle rows with.

Silhouette-relative coordinates: ``u = (x - pivot) / h`` in the silhouette's box (the pivot is the base centre of the
box, ``h`` its height), flow over the box in box heights, layer masks over the box's height.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .motion import Motion

HEIGHT_BINS = 8  # mask logits per layer over the silhouette's height (coherent_fit.py --height_bins)
FLOW_SIZE = 4  # flow grid over the silhouette box (coherent_fit.py --flow_size)
CANVAS_GRID = 16  # canvas maps the motion is written as
ALPHA_MIN = 0.1  # canvas alpha above this belongs to the silhouette
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
