"""Style-free features of an input: its silhouette alone (``vocab_probe.py --features silhouette``).

The alpha channel of a letterboxed frame, cropped to its box (``still2motion.silhouette_motion.alpha_box``) and resized to ``size²``, plus
the box's log aspect ratio, its height on the canvas and the share of the box the silhouette fills. Colours, outlines
and shading (what differs between art styles) are gone; what a motion could be read from (legs, a tail, a tall or a
squat body) stays.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from still2motion.silhouette_motion import alpha_box


@torch.no_grad()
def silhouette_features(x: torch.Tensor, size: int = 16) -> torch.Tensor:
    """Features ``(N, size² + 3)`` of letterboxed premultiplied inputs ``(N, 4, R, R)``."""
    boxes = alpha_box(x)  # (N, 4) in [-1, 1]
    n = x.shape[0]
    # an affine grid that maps the output square onto each box: crop and resize in one resample
    theta = torch.zeros(n, 2, 3, dtype=x.dtype)
    theta[:, 0, 0] = (boxes[:, 2] - boxes[:, 0]) / 2
    theta[:, 0, 2] = (boxes[:, 2] + boxes[:, 0]) / 2
    theta[:, 1, 1] = (boxes[:, 3] - boxes[:, 1]) / 2
    theta[:, 1, 2] = (boxes[:, 3] + boxes[:, 1]) / 2
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    crop = F.grid_sample(x[:, 3:4], grid, mode="bilinear", align_corners=False).flatten(1)  # (N, size²)
    w = (boxes[:, 2] - boxes[:, 0]).clamp_min(1e-3)
    h = (boxes[:, 3] - boxes[:, 1]).clamp_min(1e-3)
    fill = x[:, 3].sum(dim=(1, 2)) / (w * h * (x.shape[-1] / 2) ** 2)
    return torch.cat((crop, torch.stack(((h / w).log(), h / 2, fill), dim=1)), dim=1)
