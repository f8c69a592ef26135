"""When each frame is shown: phases that keep a loop moving through its seam.

The trajectory ``a_m (cos m phi - 1)`` has zero speed at ``phi = 0``, so the frames next to the seam barely differ;
with nearest sampling they round to the input and the loop stalls there each time round. ``seam_phases`` samples the
loop so that no step is slower than ``FLOOR`` times the mean step: where the motion is slow the phase advances faster,
elsewhere the timing is unchanged (then all of it is stretched to fill one loop). Frame 0 stays at phase 0, the loop
still closes, and any frame count works.
"""

from __future__ import annotations

import math

import torch

from .motion import Box, Motion, frame_phases, sample_canvas_map, source_coords

FLOOR = 0.5  # the slowest step between frames, as a fraction of the mean step
_FINE = 128  # phases at which speed is measured
_MAX_POINTS = 128


def motion_points(alpha: torch.Tensor, box: Box, canvas_size: int) -> torch.Tensor:
    """Canvas coordinates ``(P, 2)`` of up to 128 pixels of the silhouette of a canvas alpha ``(R, R)``
    (the pixels of ``box`` where nothing is opaque)."""
    inside = alpha > 0.5
    if not inside.any():
        inside = torch.zeros_like(inside)
        left, top, w, h = (int(v) for v in box)
        inside[top : top + h, left : left + w] = True
    ys, xs = torch.nonzero(inside, as_tuple=True)
    stride = max(1, math.ceil(len(xs) / _MAX_POINTS))
    xs, ys = xs[::stride].float(), ys[::stride].float()
    return torch.stack(((xs + 0.5) * 2 / canvas_size - 1, (ys + 0.5) * 2 / canvas_size - 1), dim=1)


def displacements(motion: Motion, points: torch.Tensor, *, align_corners: bool = False) -> torch.Tensor:
    """How far each point samples from away from itself, on each layer that holds it, over one loop.

    Returns ``(G + 1, K * P, 2)`` canvas units at the phases ``2 pi g / G``, ``g = 0..G`` (``G = 128``); NaN where a
    layer does not hold the point. Linear in the motion's coefficients: ``motion.scaled(s)`` gives ``s`` times this.
    """
    fine = frame_phases(_FINE, device=motion.affine.device)
    phases = torch.cat((fine, fine[:1] + 2 * math.pi))
    pts = points.to(motion.affine)
    src = source_coords(motion, phases, pts[None], align_corners)[0, :, :, 0]  # (G + 1, K, P, 2)
    weight = sample_canvas_map(motion.masks[:1], pts[None, None], align_corners)[0, :, 0]  # (K, P)
    disp = (src - pts).masked_fill((weight < 0.25)[None, :, :, None], math.nan)
    return disp.flatten(1, 2)


def peak_displacement(disp: torch.Tensor) -> float:
    """The largest distance in ``displacements`` (canvas units)."""
    return float(torch.nan_to_num(disp.norm(dim=-1), nan=0.0).max()) if disp.numel() else 0.0


def seam_phases(disp: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Phases ``(T,)`` for the frames of one loop, starting at 0, from the ``displacements`` of the motion.

    Speed is the largest step of any point between neighbouring fine phases; steps slower than ``FLOOR`` times the
    mean step are sped up to it. A motion that does not move gets the uniform phases ``2 pi t / T``.
    """
    uniform = frame_phases(num_frames, device=disp.device)
    speed = torch.nan_to_num((disp[1:] - disp[:-1]).norm(dim=-1), nan=0.0).amax(dim=1).double()  # (G,)
    mean = speed.mean()
    if num_frames < 2 or not mean > 1e-9:
        return uniform
    # time spent on each fine step: unchanged where fast, shortened where slower than the floor
    dwell = torch.minimum(torch.ones_like(speed), speed / (FLOOR * mean))
    tau = torch.cat((dwell.new_zeros(1), dwell.cumsum(0)))  # (G + 1,) monotone, tau[0] = 0
    targets = torch.arange(num_frames, dtype=torch.float64, device=tau.device) * (tau[-1] / num_frames)
    i = torch.searchsorted(tau, targets, right=True).clamp(1, _FINE) - 1  # fine step holding each target
    frac = ((targets - tau[i]) / dwell[i].clamp_min(1e-12)).clamp(0, 1)
    phases = (i.double() + frac) * (2 * math.pi / _FINE)
    phases[0] = 0.0
    return phases.to(uniform.dtype)
