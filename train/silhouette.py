"""The alpha silhouette of a letterboxed frame: its bounding box in canvas coordinates and shape features.

The coherent fit (``train/coherent_fit.py``) expresses motion in the silhouette's own frame (pivot at the base
centre of the box, lengths in box heights), and retrieval (``train/retrieval.py``) finds the training loop whose
silhouette is nearest. Canvas coordinates are those of ``still2motion/motion.py``: the ``R x R`` canvas spans
``[-1, 1]``, pixel edges included.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

ALPHA_MIN = 0.1  # alpha above this belongs to the silhouette
SHAPE_SIZE = 8  # the silhouette's alpha, cropped to its box, is compared at SHAPE_SIZE x SHAPE_SIZE


def alpha_box(canvas: torch.Tensor) -> torch.Tensor:
    """Bounding box of the silhouette in canvas coordinates: ``(B, 4, R, R)`` -> ``(B, 4)`` = ``(x0, y0, x1, y1)``.

    Pixel edges are included (a box of one pixel is ``2 / R`` wide). A frame with no alpha above ``ALPHA_MIN``
    gets the whole canvas.
    """
    B, _, R, _ = canvas.shape
    inside = canvas[:, 3] > ALPHA_MIN  # (B, R, R)
    boxes = torch.tensor([-1.0, -1.0, 1.0, 1.0]).repeat(B, 1)
    for b in range(B):
        rows, cols = inside[b].any(dim=1).nonzero()[:, 0], inside[b].any(dim=0).nonzero()[:, 0]
        if rows.numel():
            edges = torch.stack((cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)).float()
            boxes[b] = 2 * edges / R - 1
    return boxes


def pivot_and_height(boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The base centre ``(B, 2)`` (x centre, bottom y) and the height ``(B,)`` of each box, canvas units."""
    pivot = torch.stack(((boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]), dim=1)
    return pivot, (boxes[:, 3] - boxes[:, 1]).clamp_min(1e-3)


def box_grid(boxes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Canvas points ``(B, ..., 2)`` -> ``grid_sample`` coordinates of maps that span each box exactly."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = ((boxes[:, 2:] - boxes[:, :2]) / 2).clamp_min(1e-3)
    shape = (points.shape[0],) + (1,) * (points.ndim - 2) + (2,)
    return (points - centre.view(shape)) / half.view(shape)


def features(canvas: torch.Tensor) -> torch.Tensor:
    """Silhouette descriptors for nearest-neighbour retrieval: ``(B, 4, R, R)`` -> ``(B, SHAPE_SIZE**2 + 5)``.

    The alpha inside the box resampled to ``SHAPE_SIZE``² (its shape), ``log(width / height)`` of the box (its
    aspect) and the box itself (where and how large the silhouette sits in the canvas).
    """
    B = canvas.shape[0]
    boxes = alpha_box(canvas)
    lin = (torch.arange(SHAPE_SIZE, dtype=torch.float32) + 0.5) / SHAPE_SIZE  # (S,) in (0, 1)
    ys, xs = torch.meshgrid(lin, lin, indexing="ij")
    unit = torch.stack((xs, ys), dim=-1)  # (S, S, 2): (x, y) in the box, 0..1
    points = boxes[:, None, None, :2] + unit * (boxes[:, None, None, 2:] - boxes[:, None, None, :2])
    shape = F.grid_sample(canvas[:, 3:], points, mode="bilinear", padding_mode="zeros", align_corners=False)
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    aspect = torch.log(width.clamp_min(1e-3) / height.clamp_min(1e-3))
    return torch.cat((shape.flatten(1), aspect[:, None], boxes), dim=1).view(B, -1)
