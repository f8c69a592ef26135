"""The alpha silhouette of a letterboxed frame: its bounding box in canvas coordinates and shape features.

The coherent fit (``train/fit/coherent_fit.py``) expresses motion in the silhouette's own frame (pivot at the base
centre of the box, lengths in box heights), and retrieval (``train/evaluate/retrieval.py``) finds the training loop whose
silhouette is nearest. Canvas coordinates are those of ``still2motion/motion.py``: the ``R x R`` canvas spans
``[-1, 1]``, pixel edges included.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# the box of the silhouette (alpha above silhouette_motion.ALPHA_MIN) in canvas units, pixel edges included, the whole canvas where
# nothing is opaque: the package's own, which the vocabulary head uses too
from still2motion.silhouette_motion import alpha_box  # noqa: F401  (re-exported)

SHAPE_SIZE = 8  # the silhouette's alpha, cropped to its box, is compared at SHAPE_SIZE x SHAPE_SIZE


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
