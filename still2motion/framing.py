"""Keeping a motion visible inside the image's own frame.

The output keeps the input's size, so whatever a motion carries out of the frame is lost. A very wide or very tall
input makes this severe: a few degrees of turn carry a 1000 x 20 bar out of its own strip. ``keep_in_frame`` renders a
small proxy of the input's alpha into a frame twice as large, and scales the motion down until at least
``MIN_VISIBLE`` of it stays inside the real frame in every phase.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .motion import Box, Motion, frame_phases, layer_images, render

MIN_VISIBLE = 0.9  # the fraction of the moved alpha that must stay inside the frame in every phase
_PROXY_SIDE = 32  # longer side of the alpha proxy
_PHASES = 6
_STEPS = 6  # bisection steps on the scale factor (1.6 % resolution)


def visible_fraction(alpha: torch.Tensor, motion: Motion, box: Box, canvas_size: int, *, align_corners: bool = False) -> float:
    """The smallest fraction, over the loop, of the moved alpha that lies inside the frame.

    ``alpha`` is the input's alpha ``(1, 1, h, w)`` at any resolution (a proxy), placed in the canvas at ``box``.
    """
    _, _, h, w = alpha.shape
    left, top, bw, bh = (float(v) for v in box)
    mx, my = max(1, w // 2), max(1, h // 2)  # about half the frame again on every side, in whole proxy pixels
    px, py = bw / w, bh / h  # a proxy pixel in canvas pixels
    big = (left - mx * px, top - my * py, (w + 2 * mx) * px, (h + 2 * my) * py)
    layers = layer_images(alpha.expand(1, 4, h, w), motion.masks[:1], box, canvas_size, align_corners)
    phases = frame_phases(_PHASES, device=alpha.device)
    frames = render(layers, Motion(motion.masks[:1], motion.affine[:1], motion.flow[:1]), phases, box=box,
                    canvas_size=canvas_size, out_box=big, out_size=(w + 2 * mx, h + 2 * my), align_corners=align_corners)
    moved = frames[0, :, 3]  # (T, h + 2 my, w + 2 mx)
    inside = moved[:, my : my + h, mx : mx + w].sum(dim=(1, 2))
    total = moved.sum(dim=(1, 2)).clamp_min(1e-9)
    return float((inside / total).min())


def alpha_proxy(image: torch.Tensor) -> torch.Tensor:
    """The alpha of a full-resolution input ``(1, 4, H, W)`` at a longer side of at most 32: ``(1, 1, h, w)``."""
    H, W = image.shape[-2:]
    scale = min(1.0, _PROXY_SIDE / max(H, W))
    size = (max(1, round(H * scale)), max(1, round(W * scale)))
    alpha = image[:, 3:4]
    return alpha if size == (H, W) else F.interpolate(alpha, size=size, mode="area")


def clearly_inside(alpha: torch.Tensor, box: Box, canvas_size: int, peak: float) -> bool:
    """A cheap test first: no pixel of the canvas alpha ``(R, R)`` moves (``peak``, canvas units) half as far again
    as the silhouette's margin to the frame."""
    ys, xs = torch.nonzero(alpha > 0, as_tuple=True)
    if len(xs) == 0:
        return True
    left, top, bw, bh = (float(v) for v in box)
    margin = min(xs.min().item() - left, ys.min().item() - top, left + bw - 1 - xs.max().item(), top + bh - 1 - ys.max().item())
    return margin > 0 and 1.5 * peak < margin * 2 / canvas_size  # canvas pixels -> canvas units


def keep_in_frame(
    image: torch.Tensor, motion: Motion, box: Box, canvas_size: int, *, align_corners: bool = False
) -> tuple[Motion, float]:
    """Scales ``motion`` down, if needed, so at least ``MIN_VISIBLE`` of the input's alpha stays in the frame.

    Returns:
        The motion (the same object when nothing had to change) and the factor applied (1.0 when none).
    """
    alpha = alpha_proxy(image)
    # an opaque picture fills its frame and the renderer pads it by reflection: nothing leaves, nothing to scale
    # (measured against the enlarged proxy frame it would always look 3/4 lost, and be scaled to a still)
    if float(alpha.sum()) == 0 or float(alpha.min()) >= 1 - 1e-6 or visible_fraction(alpha, motion, box, canvas_size, align_corners=align_corners) >= MIN_VISIBLE:
        return motion, 1.0
    low, high = 0.0, 1.0
    for _ in range(_STEPS):
        mid = (low + high) / 2
        fits = visible_fraction(alpha, motion.scaled(mid), box, canvas_size, align_corners=align_corners) >= MIN_VISIBLE
        low, high = (mid, high) if fits else (low, mid)
    return motion.scaled(low), low
