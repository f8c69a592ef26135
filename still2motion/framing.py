"""Keeping a motion visible inside the image's own frame.

The output keeps the input's size, so whatever a motion carries out of the frame is lost. A very wide or very tall
input makes this severe: a few degrees of turn carry a 1000 x 20 bar out of its own strip. ``keep_in_frame`` renders a
small proxy of the input's alpha into a frame three times larger, and scales the motion down until at least
``MIN_VISIBLE`` of it stays inside the real frame in every phase.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .motion import Box, Motion, frame_phases, layer_images, pixel_canvas_coords, render
from .timing import peak_displacement

MIN_VISIBLE = 0.9  # the fraction of the moved alpha that must stay inside the frame in every phase
_PROXY_SIDE = 64  # longer side of the alpha proxy
_PHASES = 8
_STEPS = 6  # bisection steps on the scale factor (1.6 % resolution)


def visible_fraction(alpha: torch.Tensor, motion: Motion, box: Box, canvas_size: int, *, align_corners: bool = False) -> float:
    """The smallest fraction, over the loop, of the moved alpha that lies inside the frame.

    ``alpha`` is the input's alpha ``(1, 1, h, w)`` at any resolution (a proxy), placed in the canvas at ``box``.
    """
    _, _, h, w = alpha.shape
    left, top, bw, bh = (float(v) for v in box)
    big = (left - bw, top - bh, 3 * bw, 3 * bh)  # the frame and its size again on every side
    layers = layer_images(alpha.expand(1, 4, h, w), motion.masks[:1], box, canvas_size, align_corners)
    phases = frame_phases(_PHASES, device=alpha.device)
    frames = render(layers, Motion(motion.masks[:1], motion.affine[:1], motion.flow[:1]), phases, box=box,
                    canvas_size=canvas_size, out_box=big, out_size=(3 * w, 3 * h), align_corners=align_corners)
    moved = frames[0, :, 3]  # (T, 3h, 3w)
    inside = moved[:, h : 2 * h, w : 2 * w].sum(dim=(1, 2))
    total = moved.sum(dim=(1, 2)).clamp_min(1e-9)
    return float((inside / total).min())


def alpha_proxy(image: torch.Tensor) -> torch.Tensor:
    """The alpha of a full-resolution input ``(1, 4, H, W)`` at a longer side of at most 64: ``(1, 1, h, w)``."""
    H, W = image.shape[-2:]
    scale = min(1.0, _PROXY_SIDE / max(H, W))
    size = (max(1, round(H * scale)), max(1, round(W * scale)))
    alpha = image[:, 3:4]
    return alpha if size == (H, W) else F.interpolate(alpha, size=size, mode="area")


def _clearly_inside(alpha: torch.Tensor, motion: Motion, box: Box, canvas_size: int, align_corners: bool) -> bool:
    """A cheap test first: no pixel moves half as far again as the silhouette's margin to the frame."""
    _, _, h, w = alpha.shape
    coords = pixel_canvas_coords(w, h, box, canvas_size, device=alpha.device)  # (h, w, 2)
    inside = alpha[0, 0] > 0
    points = coords[inside]  # (P, 2)
    stride = max(1, len(points) // 256)
    left, top, bw, bh = (float(v) for v in box)
    frame = torch.tensor([left, top, left + bw, top + bh]) * (2 / canvas_size) - 1
    half = torch.tensor([bw / w, bh / h]) / canvas_size  # half a proxy pixel, in canvas units
    lo, hi = points.min(dim=0).values - half, points.max(dim=0).values + half
    margin = float(torch.cat((lo - frame[:2], frame[2:] - hi)).min())
    return margin > 0 and 1.5 * peak_displacement(motion, points[::stride], align_corners=align_corners) < margin


def keep_in_frame(
    image: torch.Tensor, motion: Motion, box: Box, canvas_size: int, *, align_corners: bool = False
) -> tuple[Motion, float]:
    """Scales ``motion`` down, if needed, so at least ``MIN_VISIBLE`` of the input's alpha stays in the frame.

    Returns:
        The motion (the same object when nothing had to change) and the factor applied (1.0 when none).
    """
    alpha = alpha_proxy(image)
    if float(alpha.sum()) == 0 or _clearly_inside(alpha, motion, box, canvas_size, align_corners):
        return motion, 1.0
    if visible_fraction(alpha, motion, box, canvas_size, align_corners=align_corners) >= MIN_VISIBLE:
        return motion, 1.0
    low, high = 0.0, 1.0
    for _ in range(_STEPS):
        mid = (low + high) / 2
        fits = visible_fraction(alpha, motion.scaled(mid), box, canvas_size, align_corners=align_corners) >= MIN_VISIBLE
        low, high = (mid, high) if fits else (low, mid)
    return motion.scaled(low), low
