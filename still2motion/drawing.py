"""Keeping the drawing: a learned motion turned, at render time, into one a drawing tolerates (issue 33).

A layered motion (soft masks, one affine trajectory and a dense flow per layer) can melt a clean sticker: the soft
split smears colours across regions and the flow bends outlines. ``keep_drawing`` rebuilds it as **one continuous
warp** (a ``K = 1`` ``Motion``), so every output pixel samples the input at one place and no layer fill or colour
split can appear:

- every part moves near-rigidly: each layer's affine keeps its rotation, scale, axis squash and translation, its
  shear is dropped;
- parts are blended by smooth, low-frequency weights (their masks low-passed), and each layer's flow becomes a smooth
  low-frequency bend, so the warp never tears;
- the warp's Jacobian is bounded over the silhouette by construction: the non-rigid part of the motion (everything
  but the common translation) is scaled down until, in every phase, the Jacobian's singular values lie in
  ``SINGULAR_RANGE`` and its determinant in ``AREA_RANGE`` (the way ``framing.keep_in_frame`` scales a motion that
  leaves the frame);
- an opaque picture keeps its background still and its borders fixed: the front part moves within it, its weight
  tapering to 0 at the frame, so the picture moves without letting anything in at its borders;
- pixel art moves in whole pixels: the parts' common translation alone, sampled with nearest (parts that slide past
  each other by whole pixels tear the outline where they meet: measured, docs/keeping-the-drawing.md);
- a motion that moves no pixel by a whole output pixel is scaled up to one, with a margin (never a silent still);
- the guard keeps the amount of motion it was given: where bounding took away pixel change (on val, v2.1's motion
  of a 72-px sprite is mostly bend, of which the bound keeps about 1 px in 8), the kept warp is scaled up until its
  pixel change at the canvas matches the learned motion's (at most ``ENERGY_GAIN`` times; the common translation
  grows, the rest is bounded again), so the guard changes the motion's shape, not how lively it is. Framing still
  keeps the result inside the picture.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F

from .motion import Box, Motion, fourier_basis, output_px_per_unit, pixel_canvas_coords, render_canvas

logger = logging.getLogger(__name__)

SINGULAR_RANGE = (0.9, 1.11)  # singular values of the warp's Jacobian inside the silhouette, every phase
AREA_RANGE = (0.95, 1.05)  # its determinant: a dark outline keeps about its pixel count
# an opaque picture's front part must fade out before the frame, a stretch a scene takes better than an outline does
OPAQUE_RANGES = ((0.85, 1.18), (0.85, 1.18))
MIN_PIXELS = 1.0  # the least peak motion, in output pixels, of a motion that moves at all
# a raised motion peaks this far above MIN_PIXELS, as the frames need not sample the loop's very peak: a little for
# sub-pixel steps (more overshoots small sprites: on val, 16 % of loops moved over twice as much as the real ones at
# 1.5, 7 % at 1.1), more for pixel art, whose whole-pixel steps round (at 1.1 a check sprite peaked at 0.88 px)
_MIN_MARGIN, _MIN_MARGIN_PIXEL_ART = 1.1, 1.5
ENERGY_GAIN = 8.0  # the most the kept warp is scaled up to keep the learned motion's pixel change
_ENERGY_STEPS = 3  # rounds of scale-up and re-bounding (the bound may take back part of each round)
_ENERGY_PHASES = 8
_WEIGHT_CELLS = 6  # part weights are low-passed to about this many cells across the canvas
_BEND_CELLS = 4  # a layer's flow is low-passed to this many cells: a bend, not a ripple
_TAPER = 0.35  # an opaque picture's front weight reaches 1 this far (a fraction of its side) inside the frame
_PHASES = 16
_STEPS = 8  # bisection steps on the scale of the non-rigid part (0.4 % resolution)
_LINEAR = (0, 1, 3, 4)  # entries of theta - I that are its linear part (row-major 2 x 3)


def _low_pass(maps: torch.Tensor, cells: int) -> torch.Tensor:
    """``(N, C, R, R)`` canvas maps averaged down to ``cells x cells`` and bilinearly back up: smooth, low-frequency."""
    R = maps.shape[-1]
    coarse = F.adaptive_avg_pool2d(maps, min(cells, R))
    return F.interpolate(coarse, size=(R, R), mode="bilinear", align_corners=False)


def near_rigid(affine: torch.Tensor) -> torch.Tensor:
    """Affine coefficients ``(..., 6, M, 2)`` with the shear of their linear part dropped: rotation, isotropic scale,
    an axis-aligned squash and the translation stay."""
    e00, e01, e10, e11 = affine[..., 0, :, :], affine[..., 1, :, :], affine[..., 3, :, :], affine[..., 4, :, :]
    turn, scale, squash = (e10 - e01) / 2, (e00 + e11) / 2, (e00 - e11) / 2
    out = affine.clone()
    out[..., 0, :, :], out[..., 4, :, :] = scale + squash, scale - squash
    out[..., 1, :, :], out[..., 3, :, :] = -turn, turn
    return out


def _taper(box: Box, R: int, device) -> torch.Tensor:
    """``(R, R)``: 0 at the frame ``box`` (and outside it), rising to 1 at ``_TAPER`` of its side inside."""
    left, top, bw, bh = (float(v) for v in box)
    c = torch.arange(R, device=device, dtype=torch.float32) + 0.5
    # 0 on the outermost canvas pixels too, so the flow upsampled to the output is exactly 0 at the picture's border
    tx = (torch.minimum(c - left - 1, left + bw - c - 1) / (_TAPER * bw)).clamp(0, 1)
    ty = (torch.minimum(c - top - 1, top + bh - c - 1) / (_TAPER * bh)).clamp(0, 1)
    return ty[:, None] * tx[None, :]


def blended(
    motion: Motion, silhouette: torch.Tensor, *, opaque: bool, box: Box, pixel_art: bool = False
) -> tuple[Motion, torch.Tensor]:
    """The layers of ``motion`` (batch of 1) as one continuous near-rigid warp, before any bounding (see the module).

    ``silhouette`` ``(R, R)`` weighs each layer's share of the common motion (the canvas alpha, or a brushed region).
    Returns the parts' motion (``K = 1``) and, apart, the smooth bend ``(1, 1, 2, M, 2, R, R)`` to add to its flow.
    """
    affine, R = near_rigid(motion.affine[0]), silhouette.shape[-1]  # (K, 6, M, 2); R: the canvas side
    K, _, M, _ = affine.shape
    dev, dt = affine.device, affine.dtype
    masks = motion.masks[0].to(dt)  # (K, Hm, Wm)
    if masks.shape[-1] != R or masks.shape[-2] != R:
        masks = F.interpolate(masks[None], size=(R, R), mode="bilinear", align_corners=False)[0]
    weights = _low_pass(masks[None], _WEIGHT_CELLS)[0]  # (K, R, R)
    if opaque:  # the back layer is the background: it stays, and the parts in front fade out before the frame
        weights = weights * _taper(box, R, dev).to(dt)
        base = torch.zeros_like(affine[0])
    else:
        share = (weights * silhouette.to(dt)).flatten(1).sum(1).detach()  # how much each layer holds: a constant
        share = share / share.sum().clamp_min(1e-9) if float(share.sum()) > 0 else torch.full((K,), 1 / K, device=dev)
        base = torch.einsum("k,kpmc->pmc", share.to(dt), affine)  # (6, M, 2): the parts' common motion
    if pixel_art:  # whole pixels: the common translation alone (nearest sampling keeps every pixel whole)
        # (parts sliding past each other by whole pixels were measured: they tear the outline where they meet)
        only = torch.zeros_like(base)
        only[2], only[5] = base[2], base[5]
        zero = torch.zeros(1, 1, 2, M, 2, 1, 1, device=dev, dtype=dt)
        return Motion(torch.ones(1, 1, R, R, device=dev, dtype=dt), only[None, None], zero), zero
    # each part's deviation from the common motion, spread by its smooth weight: (E_k - E) q + (d_k - d)
    q = pixel_canvas_coords(R, R, (0, 0, R, R), R, device=dev).to(dt)  # (R, R, 2) canvas pixel centres
    dev_aff = (affine - base).unflatten(1, (2, 3))  # (K, 2, 3, M, 2)
    deviation = torch.einsum("kijmc,hwj->kimchw", dev_aff[:, :, :2], q) + dev_aff[:, :, 2, :, :, None, None]
    flow = torch.einsum("khw,kimchw->imchw", weights, deviation)  # (2, M, 2, R, R)
    bend = torch.zeros_like(flow)
    if motion.flow.abs().max() > 0:  # each layer's own flow, low-passed into a bend and weighted like the layer
        f = motion.flow[0].to(dt)  # (K, 2, M, 2, Hf, Wf)
        maps = F.interpolate(f.flatten(1, 3), size=(R, R), mode="bilinear", align_corners=False)
        layer_bends = _low_pass(maps, _BEND_CELLS).unflatten(1, (2, M, 2))  # (K, 2, M, 2, R, R)
        bend = torch.einsum("khw,kimchw->imchw", weights, layer_bends)
    return Motion(torch.ones(1, 1, R, R, device=dev, dtype=dt), base[None, None], flow[None, None]), bend[None, None]


def _jacobian_terms(motion: Motion, points: torch.Tensor) -> tuple:
    """The parts of the warp's Jacobian that do not depend on its scale: ``E`` (the affine's linear part per phase)
    and the flow's gradients at the canvas pixels ``points`` ``(R, R)`` bool (both one-sided differences)."""
    affine, flow = motion.affine[0, 0], motion.flow[0, 0]  # (6, M, 2), (2, M, 2, Hf, Wf)
    M = affine.shape[1]
    phases = torch.arange(_PHASES, device=affine.device, dtype=affine.dtype) * (2 * math.pi / _PHASES)
    basis = fourier_basis(phases, M)  # (T, M, 2)
    E = torch.einsum("pmc,tmc->tp", affine[list(_LINEAR)], basis)  # (T, 4): e00, e01, e10, e11
    R = points.shape[-1]
    if flow.shape[-1] == R:
        g = torch.einsum("dmchw,tmc->tdhw", flow, basis) * (R / 2)  # (T, 2, R, R), per canvas pixel step
        gx, gy = g[..., :, 1:] - g[..., :, :-1], g[..., 1:, :] - g[..., :-1, :]
        xs = (torch.cat((gx[..., :1], gx), -1), torch.cat((gx, gx[..., -1:]), -1))  # left, right difference
        ys = (torch.cat((gy[..., :1, :], gy), -2), torch.cat((gy, gy[..., -1:, :]), -2))  # above, below
        xs, ys = [x[..., points] for x in xs], [y[..., points] for y in ys]  # (T, 2, P)
    else:  # a constant flow has no gradient
        zero = E.new_zeros(E.shape[0], 2, int(points.sum()))
        xs, ys = [zero], [zero]
    return E, xs, ys


def _within(terms: tuple, scale: float, ranges=None) -> bool:
    """Whether ``I + scale (E + grad f)`` (``terms`` from ``_jacobian_terms``) keeps its singular values in
    ``SINGULAR_RANGE`` and its determinant in ``AREA_RANGE`` (or ``ranges``) at every point, in every phase."""
    (sv_low, sv_high), (area_low, area_high) = ranges or (SINGULAR_RANGE, AREA_RANGE)
    E, xs, ys = terms
    for gxp in xs:
        for gyp in ys:
            a = 1 + scale * (E[:, 0, None] + gxp[:, 0])  # ds_x / dx
            b = scale * (E[:, 1, None] + gyp[:, 0])  # ds_x / dy
            c = scale * (E[:, 2, None] + gxp[:, 1])  # ds_y / dx
            d = 1 + scale * (E[:, 3, None] + gyp[:, 1])  # ds_y / dy
            det = a * d - b * c
            s2 = a * a + b * b + c * c + d * d
            root = (s2 * s2 - 4 * det * det).clamp_min(0).sqrt()
            high, low = ((s2 + root) / 2).sqrt(), ((s2 - root) / 2).clamp_min(0).sqrt()
            if (det <= area_low).any() or (det >= area_high).any():
                return False
            if (low < sv_low).any() or (high > sv_high).any():
                return False
    return True


def _jacobian_ok(motion: Motion, points: torch.Tensor, scale: float, ranges=None) -> bool:
    """Whether ``motion`` at ``scale`` keeps the Jacobian within ``ranges`` at ``points`` (``_within``)."""
    return _within(_jacobian_terms(motion, points), scale, ranges)


def _non_rigid_scaled(motion: Motion, scale: float, bend: torch.Tensor, bend_scale: float) -> Motion:
    """``motion`` with its linear part and its flow scaled by ``scale``, plus ``bend_scale`` times the bend; the
    translation is kept."""
    affine = motion.affine.clone()
    affine[:, :, list(_LINEAR)] *= scale
    flow = motion.flow * scale
    if bend_scale > 0:
        flow = flow + bend * bend_scale
    return Motion(motion.masks, affine, flow)


def _largest(ok) -> float:
    """The largest ``s`` in ``[0, 1]`` with ``ok(s)``, for ``ok`` true at 0: halvings find its scale (a wild motion
    may fit only at 1e-3), then bisection refines it to ``_STEPS`` bits."""
    high = 1.0
    while not ok(high / 2):
        high /= 2
        if high < 2.0**-20:
            return 0.0
    low = high / 2
    for _ in range(_STEPS):
        mid = (low + high) / 2
        low, high = (mid, high) if ok(mid) else (low, mid)
    return low


def bounded(motion: Motion, points: torch.Tensor, bend: torch.Tensor | None = None, ranges=None) -> Motion:
    """The motion plus its ``bend``, scaled down until the Jacobian stays within ``ranges`` (singular values,
    determinant; default ``SINGULAR_RANGE``, ``AREA_RANGE``) at ``points`` ``(R, R)`` bool: the bend gives way first,
    then the parts' own turn, scale and motion relative to each other (the common translation is never scaled: it
    does not distort)."""
    bend = torch.zeros_like(motion.flow) if bend is None else bend

    def ok(m: Motion) -> bool:
        return _jacobian_ok(m, points, 1.0, ranges)

    full = _non_rigid_scaled(motion, 1.0, bend, 1.0)
    if not bool(points.any()) or ok(full):
        return full
    terms = _jacobian_terms(motion, points)  # the search over the scale alone reuses them
    if _within(terms, 1.0, ranges):  # the parts alone fit: keep as much of the bend as fits
        return _non_rigid_scaled(motion, 1.0, bend, _largest(lambda v: ok(_non_rigid_scaled(motion, 1.0, bend, v))))
    return _non_rigid_scaled(motion, _largest(lambda v: _within(terms, v, ranges)), bend, 0.0)


def peak_pixels(motion: Motion, points: torch.Tensor, px_per_unit: float) -> float:
    """The largest distance, in output pixels, any canvas pixel of ``points`` ``(R, R)`` samples from, over one loop."""
    from .timing import displacements, peak_displacement  # timing imports motion only; here, to keep this file light

    R = points.shape[-1]
    ys, xs = torch.nonzero(points, as_tuple=True)
    stride = max(1, len(xs) // 256)
    pts = torch.stack(((xs[::stride] + 0.5) * 2 / R - 1, (ys[::stride] + 0.5) * 2 / R - 1), dim=1)
    return peak_displacement(displacements(motion, pts.to(motion.affine.dtype))) * px_per_unit


@torch.no_grad()
def canvas_energy(motion: Motion, canvas: torch.Tensor) -> float:
    """Mean absolute change per frame step around the loop (``_ENERGY_PHASES`` frames) of ``motion`` rendered over
    the letterboxed ``canvas`` ``(1, 4, R, R)`` at the canvas resolution: how much the pixels change."""
    phases = torch.arange(_ENERGY_PHASES, device=canvas.device, dtype=canvas.dtype) * (2 * math.pi / _ENERGY_PHASES)
    frames = render_canvas(canvas, motion, phases[None])[0]  # (T, 4, R, R)
    return float((frames.roll(-1, 0) - frames).abs().mean())


def kept_energy(kept: Motion, learned: Motion, canvas: torch.Tensor, points: torch.Tensor, *, ranges=None,
                pixel_art: bool = False) -> Motion:
    """``kept`` (a bounded warp) scaled up until its pixel change at the canvas matches ``learned``'s, at most
    ``ENERGY_GAIN`` times, re-bounded after each round (so its common translation grows and the rest stays within
    ``ranges``); never scaled down."""
    want, have = canvas_energy(learned, canvas), canvas_energy(kept, canvas)
    gain = 1.0
    for _ in range(_ENERGY_STEPS):
        if have <= 0 or want <= 1.05 * have or gain >= ENERGY_GAIN:
            break
        step = min(want / have, ENERGY_GAIN / gain)
        kept, gain = kept.scaled(step), gain * step
        if not pixel_art:
            kept = bounded(kept, points, ranges=ranges)
        have = canvas_energy(kept, canvas)
    return kept


def keep_drawing(
    motion: Motion, canvas: torch.Tensor, box: Box, *, out_size: tuple[int, int], pixel_art: bool = False,
    opaque: bool | None = None, region: torch.Tensor | None = None,
) -> Motion:
    """A learned motion (already scaled by strength) as one warp that keeps the drawing (see the module docstring).

    Args:
        motion: ``K`` layers over the ``R x R`` canvas, batch of 1.
        canvas: ``(1, 4, R, R)`` the letterboxed input.
        box: where the input sits in the canvas.
        out_size: ``(width, height)`` of the frames (for the one-output-pixel minimum).
        pixel_art: move in whole pixels (nearest sampling; the common translation only).
        opaque: the input has no transparency (background still, borders fixed); default: read from ``canvas``.
        region: ``(R, R)`` weights of what moves (a brushed mask); default the silhouette.

    Returns:
        A ``K = 1`` ``Motion`` (flow ``(1, 1, 2, M, 2, R, R)``, or ``1 x 1`` for pixel art).
    """
    R = canvas.shape[-1]
    left, top, bw, bh = (int(v) for v in box)
    alpha = canvas[0, 3]
    if opaque is None:
        opaque = bool(alpha[top : top + bh, left : left + bw].min() >= 1 - 1e-3)
    silhouette = alpha if region is None else alpha * region
    inside = silhouette > 0.5
    if not inside.any():
        inside = silhouette > 0
    points = F.max_pool2d(inside[None, None].float(), 3, 1, 1)[0, 0] > 0  # the silhouette and its edge
    px_per_unit = output_px_per_unit(box, R, out_size)

    scene = opaque and region is None
    ranges = OPAQUE_RANGES if scene else None

    def fit(learned: Motion) -> tuple[Motion, float]:
        one, bend = blended(learned, silhouette, opaque=scene, box=box, pixel_art=pixel_art)
        if not pixel_art:
            one = bounded(one, points, bend, ranges)
        peak = peak_pixels(one, inside, px_per_unit) if inside.any() else 0.0
        if 0 < peak < MIN_PIXELS:  # a guard may not buy cleanliness by standing still
            one = one.scaled(MIN_PIXELS / peak * (_MIN_MARGIN_PIXEL_ART if pixel_art else _MIN_MARGIN))
            if not pixel_art:
                one = bounded(one, points, ranges=ranges)
            peak = peak_pixels(one, inside, px_per_unit)
        return one, peak

    one, peak = fit(motion)
    if peak < MIN_PIXELS and not pixel_art:  # too wild to bound: the parts' translations alone
        shifts = torch.zeros_like(motion.affine)
        shifts[:, :, 2], shifts[:, :, 5] = motion.affine[:, :, 2], motion.affine[:, :, 5]
        other, other_peak = fit(Motion(motion.masks, shifts, torch.zeros_like(motion.flow[..., :1, :1])))
        if other_peak > peak:
            one, peak = other, other_peak
    if peak > 0 and region is None:  # the shape changed, the liveliness should not (a brushed part moves as drawn)
        one = kept_energy(one, motion, canvas, points, ranges=ranges, pixel_art=pixel_art)
    moves = float(motion.affine.abs().max()) + float(motion.flow.abs().max()) > 0
    if peak == 0 and moves and bool(silhouette.max() > 0):  # (an all-black mask was already warned about)
        logger.warning("note: no motion that keeps this drawing was found, so it stays still; try a preset")
    return one
