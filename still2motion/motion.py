"""Periodic motion and rendering: pure tensor functions, no parameters.

All motion lives in *canvas coordinates*: the model's ``R x R`` letterbox canvas spans ``[-1, 1]`` in x and y, pixel
edges included (the ``align_corners=False`` convention). The canvas is square and the letterbox keeps aspect, so a
canvas unit has the same length in x and y: a rotation of a 400 x 3 strip is a rotation, not a shear. A letterbox
``box = (left, top, width, height)`` places an image of any size in the canvas; converting canvas positions to
``grid_sample``'s per-axis ``[-1, 1]`` grid happens here and nowhere else (``canvas_to_grid``).

A trajectory is a short Fourier series in the loop phase ``phi``:
``p(phi) = sum_m a_m (cos(m phi) - 1) + b_m sin(m phi)``, so ``p(0) = p(2 pi) = 0``: frame 0 is the input and the
loop closes by construction.

Layers are **depth-ordered**: layer 0 is at the back, higher layers in front of it, and frames are composited back
to front with "over" (``composite``), never summed. For an opaque picture the back layer is the background; for a
sprite on transparency the empty background needs no layer, so the layers are *parts inside the silhouette* (the
body behind, a head, an arm or the upper half in front). ``layer_images`` builds the back layer first, the input
with the region the front covers filled (``fill_behind``, a push-pull fill from ``fill.py``), and derives the front
from it, so zero motion gives the input back exactly and a front that moves uncovers plausible back, never a hole
or a second copy of itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .fill import enclosed, push_pull

Box = Sequence[int]  # (left, top, width, height) in canvas pixels, as returned by io.letterbox


@dataclass
class Motion:
    """Everything needed to render a loop, for ``K`` layers and ``M`` harmonics.

    Attributes:
        masks: ``(B, K, Hm, Wm)`` layer weights over the canvas, a partition of unity over ``K``.
        affine: ``(B, K, 6, M, 2)`` Fourier coefficients ``(a_m, b_m)`` of ``theta - I`` (2 x 3, row-major).
        flow: ``(B, K, 2, M, 2, Hf, Wf)`` Fourier coefficients of a coarse backward flow ``(x, y)`` in canvas units.
    """

    masks: torch.Tensor
    affine: torch.Tensor
    flow: torch.Tensor

    def scaled(self, strength: float | torch.Tensor) -> Motion:
        """The same motion with every trajectory scaled by ``strength`` (a float or a ``(B,)`` tensor)."""
        s = torch.as_tensor(strength, dtype=self.affine.dtype, device=self.affine.device)
        if s.ndim == 1:
            return Motion(self.masks, self.affine * s.view(-1, 1, 1, 1, 1), self.flow * s.view(-1, 1, 1, 1, 1, 1, 1))
        return Motion(self.masks, self.affine * s, self.flow * s)

    def reversed_time(self) -> Motion:
        """The loop played backwards, ``q(phi) = p(-phi)``: every sine coefficient ``b_m`` changes sign."""
        sign = self.affine.new_tensor([1.0, -1.0])
        return Motion(self.masks, self.affine * sign, self.flow * sign.view(2, 1, 1))

    def detach(self) -> Motion:
        return Motion(self.masks.detach(), self.affine.detach(), self.flow.detach())


def frame_phases(num_frames: int, device=None) -> torch.Tensor:
    """Phases ``2 pi t / num_frames`` of the frames of one loop, ``(T,)``."""
    return torch.arange(num_frames, device=device, dtype=torch.float32) * (2 * math.pi / num_frames)


def fourier_basis(phases: torch.Tensor, num_harmonics: int) -> torch.Tensor:
    """``(cos(m phi) - 1, sin(m phi))`` for ``m = 1..M``: ``(..., M, 2)`` for phases of shape ``(...)``."""
    m = torch.arange(1, num_harmonics + 1, device=phases.device, dtype=phases.dtype)
    angle = phases.unsqueeze(-1) * m  # (..., M)
    return torch.stack((torch.cos(angle) - 1, torch.sin(angle)), dim=-1)


def shown_harmonics(num_frames: int) -> int:
    """How many harmonics a loop of ``num_frames`` frames shows as motion: those with at least three frames per cycle
    (``m <= T / 3``), at least the first.

    Sampled at ``T`` frames, harmonic ``m`` is indistinguishable from ``T - m``, so above ``T / 2`` a trajectory folds
    onto slower ones; between two and three frames per cycle it jitters. Either way frames land at poses the motion
    never meant: on a 4- or 5-frame loop the last frame can sit next to the rest pose and the loop stalls at its seam.
    """
    return max(1, num_frames // 3)


def band_limited(motion: Motion, num_frames: int) -> Motion:
    """``motion`` with the harmonics a ``num_frames`` loop cannot show (``shown_harmonics``) set to 0."""
    keep = shown_harmonics(num_frames)
    if keep >= motion.affine.shape[3]:
        return motion
    affine, flow = motion.affine.clone(), motion.flow.clone()
    affine[:, :, :, keep:] = 0
    flow[:, :, :, keep:] = 0
    return Motion(motion.masks, affine, flow)


def shown_motion(motion: Motion, num_frames: int | None) -> Motion:
    """``band_limited`` for a request of ``num_frames`` (``None``: every harmonic), unless nothing would be left to
    move: a loop that only moves at harmonics its frames fold is still better than a still."""
    if num_frames is None:
        return motion
    shown = band_limited(motion, num_frames)
    return shown if bool(shown.affine.ne(0).any() or shown.flow.ne(0).any()) else motion


def affine_at(affine: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """``theta(phi)`` for each layer: ``(B, K, 6, M, 2)`` and phases ``(B, T)`` or ``(T,)`` -> ``(B, T, K, 2, 3)``."""
    B, K = affine.shape[:2]
    basis = fourier_basis(phases.to(affine.dtype), affine.shape[3])
    if basis.ndim == 3:  # shared phases (T, M, 2)
        delta = torch.einsum("bkpmc,tmc->btkp", affine, basis)
    else:  # per-sample phases (B, T, M, 2)
        delta = torch.einsum("bkpmc,btmc->btkp", affine, basis)
    identity = torch.tensor([1, 0, 0, 0, 1, 0], dtype=affine.dtype, device=affine.device)
    return (identity + delta).unflatten(-1, (2, 3))  # (B, T, K, 2, 3)


def flow_at(flow: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """Coarse flow at the phases: ``(B, K, 2, M, 2, Hf, Wf)`` -> ``(B, T, K, 2, Hf, Wf)``."""
    basis = fourier_basis(phases.to(flow.dtype), flow.shape[3])
    if basis.ndim == 3:
        return torch.einsum("bkdmchw,tmc->btkdhw", flow, basis)
    return torch.einsum("bkdmchw,btmc->btkdhw", flow, basis)


def output_px_per_unit(box: Box, canvas_size: int, out_size: tuple[int, int]) -> float:
    """Output pixels per canvas unit for an input at ``box`` rendered at ``out_size`` (the canvas spans 2 units;
    the larger of the two axes' scales)."""
    return canvas_size / 2 * max(out_size[0] / max(box[2], 1), out_size[1] / max(box[3], 1))


def pixel_canvas_coords(width: int, height: int, box: Box, canvas_size: int, device=None) -> torch.Tensor:
    """Canvas coordinates of the pixel centres of a ``width x height`` image placed at ``box``: ``(H, W, 2)``."""
    left, top, bw, bh = (float(v) for v in box)
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width  # (W,) in (0, 1)
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    cx = 2 * (left + xs * bw) / canvas_size - 1
    cy = 2 * (top + ys * bh) / canvas_size - 1
    return torch.stack(torch.meshgrid(cx, cy, indexing="xy"), dim=-1)  # (H, W, 2)


def canvas_to_grid(points: torch.Tensor, box: Box, canvas_size: int) -> torch.Tensor:
    """Canvas coordinates ``(..., 2)`` -> ``grid_sample`` coordinates of the image placed at ``box`` (per-axis)."""
    left, top, bw, bh = (float(v) for v in box)
    centre = points.new_tensor([2 * (left + bw / 2) / canvas_size - 1, 2 * (top + bh / 2) / canvas_size - 1])
    half = points.new_tensor([bw / canvas_size, bh / canvas_size])
    return (points - centre) / half


def sample_canvas_map(maps: torch.Tensor, coords: torch.Tensor, align_corners: bool) -> torch.Tensor:
    """Bilinearly sample maps that cover the whole canvas ``(N, C, h, w)`` at canvas coords ``(N, H, W, 2)``."""
    return F.grid_sample(maps, coords, mode="bilinear", padding_mode="border", align_corners=align_corners)


def layer_weights(
    image: torch.Tensor, masks: torch.Tensor, box: Box, canvas_size: int, align_corners: bool, *, hard: bool = False
) -> torch.Tensor:
    """The canvas masks sampled at the pixels of ``image (B, 4, H, W)``: ``(B, K, H, W)``; one-hot with ``hard``."""
    B, _, H, W = image.shape
    coords = pixel_canvas_coords(W, H, box, canvas_size, device=image.device).to(masks.dtype)
    weights = sample_canvas_map(masks, coords.expand(B, H, W, 2), align_corners)  # (B, K, H, W)
    if hard:  # each pixel belongs to one layer, so every output pixel is one input pixel
        weights = F.one_hot(weights.argmax(dim=1), weights.shape[1]).permute(0, 3, 1, 2).to(weights.dtype)
    return weights


def fill_behind(
    image: torch.Tensor, cover: torch.Tensor, *, hard: bool = False, only_where_behind: bool = False
) -> torch.Tensor:
    """The back layer of a two-layer split: ``image (B, 4, H, W)`` with the part a front layer covers filled.

    ``cover (B, 1, H, W)`` is the front layer's mask, so the front's alpha is ``a_F = cover * alpha``. The back keeps
    the alpha that makes ``front over back`` the image again: 1 at opaque pixels (something is always behind an
    opaque front: the fill), ``alpha (1 - cover) / (1 - a_F)`` elsewhere (nothing behind a semi-transparent front
    edge; transparent stays transparent). With ``only_where_behind`` (a brushed part) the back is filled only where
    the still part continues behind the front (``fill.enclosed``: still pixels on both sides along the row or the
    column) and is transparent where the front covers half or more and nothing is behind it: an arm held out
    against empty background leaves empty background when it moves, never a ghost of itself. Its colour is the pixel's own where the front barely covers it and a
    push-pull fill from those pixels (weighted by alpha: inside the silhouette) where the front covers half or more
    (``known = 1 - 2 cover``, clamped), so a front that moves uncovers the fill, never a copy of itself.

    Where the front is at most half opaque the colour is clamped to the range that keeps the front
    ``image - (1 - a_F) back`` a valid premultiplied colour; that clamp is released gradually up to ``a_F = 0.9``,
    because under a front-dominated soft mask (0.9, say) a saturated colour would pin the back to the front's own
    colour: a ghost. There the front's colour may leave the premultiplied range a little; compositing is linear, so
    zero motion is exact either way, and ``render`` clamps the frames it returns.
    """
    rgb, alpha = image[:, :3], image[:, 3:]
    a_front = cover * alpha
    opaque = alpha >= 1 - 1e-6
    a_back = torch.where(opaque, torch.ones_like(alpha), alpha * (1 - cover) / (1 - a_front).clamp_min(1e-6))
    if only_where_behind:  # transparent where the still part does not continue behind the front (issue 33)
        still = ((alpha >= 0.5) & (cover < 0.5)).detach()
        a_back = torch.where((cover >= 0.5) & ~enclosed(still), torch.zeros_like(a_back), a_back)
    known = (cover < 0.5).to(cover.dtype) if hard else (1 - 2 * cover).clamp(0, 1) + 1e-6
    color = a_back * push_pull(known * rgb, known * alpha, hard=hard)  # (B, 3, H, W): own colour where known
    # the range that keeps the front valid, enforced where the front is at most half opaque and released by a_F = 0.9
    shows = (1 - a_front).clamp_min(1e-6)
    low, high = ((rgb - a_front) / shows).clamp_min(0), torch.minimum(a_back, rgb / shows)
    valid = torch.minimum(torch.maximum(color, low), high)
    release = ((a_front - 0.5) / 0.4).clamp(0, 1)
    return torch.cat((torch.lerp(valid, color, release), a_back), dim=1)


def layer_images(
    image: torch.Tensor, masks: torch.Tensor, box: Box, canvas_size: int, align_corners: bool, *, hard: bool = False,
    only_where_behind: bool = False,
) -> torch.Tensor:
    """Splits the premultiplied image ``(B, 4, H, W)`` into ``K`` depth-ordered layers ``(B, K, 4, H, W)``.

    Layer 0 is at the back, higher layers in front of it. Front to back, each layer ``k`` takes its share
    ``m_k / (m_0 + ... + m_k)`` of what is left: the rest behind it is built first (``fill_behind``: the region it
    covers filled), then the layer is what the rest does not explain, ``rest - (1 - a_k) back`` (its alpha is
    ``a_k = share * alpha``; under a soft mask its colour may leave the premultiplied range, see ``fill_behind``).
    Composited back to front with "over", the layers give back the image (exactly, up to float rounding), so zero
    motion is the still image. With ``hard`` (pixel art) masks are one-hot and the fill picks existing colours: the
    palette stays exact. ``only_where_behind`` (inference) fills behind a layer only where the rest continues behind
    it (``fill_behind``): a part that moves away from empty background leaves empty background.
    """
    weights = layer_weights(image, masks, box, canvas_size, align_corners, hard=hard)  # (B, K, H, W)
    below = weights.cumsum(dim=1)  # weight of layers 0..k
    rest, layers = image, []
    for k in range(weights.shape[1] - 1, 0, -1):
        share = (weights[:, k : k + 1] / below[:, k : k + 1].clamp_min(1e-6)).clamp(0, 1)  # (B, 1, H, W)
        back = fill_behind(rest, share, hard=hard, only_where_behind=only_where_behind)
        layers.append(rest - (1 - share * rest[:, 3:]) * back)
        rest = back
    layers.append(rest)
    return torch.stack(layers[::-1], dim=1)


def composite(layers: torch.Tensor) -> torch.Tensor:
    """Premultiplied layers ``(B, K, 4, ...)`` composited back to front with "over": ``(B, 4, ...)``.

    ``out = L_k + (1 - alpha(L_k)) out`` for ``k = 1..K-1`` over ``out = L_0``: a front layer hides what is behind it
    (a sum would double edges where layers overlap and leave see-through gaps where they part).
    """
    back, *fronts = layers.unbind(dim=1)  # unbind, not indexing: its backward writes each gradient once
    out = back
    for front in fronts:
        out = torch.addcmul(front, 1 - front[:, 3:4], out)
    return out


def source_coords(motion: Motion, phases: torch.Tensor, out_coords: torch.Tensor, align_corners: bool) -> torch.Tensor:
    """Where each output pixel samples from, per layer: canvas coords ``(B, T, K, H, W, 2)``.

    ``out_coords`` are the canvas coordinates of the output pixels, ``(H, W, 2)``.
    """
    theta = affine_at(motion.affine, phases)  # (B, T, K, 2, 3)
    flow = flow_at(motion.flow, phases)  # (B, T, K, 2, Hf, Wf)
    B, T, K = theta.shape[:3]
    H, W = out_coords.shape[:2]
    q = out_coords.to(theta.dtype)
    warped = torch.einsum("btkij,hwj->btkhwi", theta[..., :2], q) + theta[..., 2][:, :, :, None, None, :]
    flow_maps = flow.flatten(0, 2)  # (B*T*K, 2, Hf, Wf)
    grid = q.expand(flow_maps.shape[0], H, W, 2)
    dense = sample_canvas_map(flow_maps, grid, align_corners)  # (B*T*K, 2, H, W)
    dense = dense.unflatten(0, (B, T, K)).permute(0, 1, 2, 4, 5, 3)  # (B, T, K, H, W, 2)
    return warped + dense


def _reflected(grid: torch.Tensor, opaque: torch.Tensor, size: tuple[int, int], align_corners: bool) -> torch.Tensor:
    """Reflects the grid ``(B, ..., 2)`` of the ``opaque`` ``(B,)`` items about the outer pixel centres of a
    ``(W, H)`` image, chosen per item inside one zero-padded call.

    Outside an opaque picture the renderer shows the picture mirrored about its edge pixels (the edge pixel itself
    is not repeated), so a motion that reaches the border never smears the edge pixels into streaks (issue 32,
    item 11) and never lets transparency in.
    """
    if align_corners:
        limit = grid.new_ones(2)
    else:
        limit = 1 - 1 / grid.new_tensor(size)
    span = (2 * limit).clamp_min(1e-6)  # a one-pixel axis (limit 0) clamps to its only pixel
    folded = torch.remainder(grid + limit, 2 * span)
    mirrored = torch.where(folded > span, 2 * span - folded, folded) - limit
    mirrored = torch.where(limit > 0, mirrored, torch.zeros_like(mirrored))
    return torch.where(opaque.view(-1, *[1] * (grid.ndim - 1)), mirrored, grid)


def render(
    layers: torch.Tensor,
    motion: Motion,
    phases: torch.Tensor,
    *,
    box: Box,
    canvas_size: int,
    out_size: tuple[int, int] | None = None,
    out_box: Box | None = None,
    mode: str = "bilinear",
    align_corners: bool = False,
) -> torch.Tensor:
    """Warps each layer and composites them back to front with "over": the frames at ``phases``.

    The one renderer: training (``Still2Motion.forward_frames``, ``train/fit/fit_motion.py``; differentiable) and
    inference (``render_loop``) both call it. Layers are sampled with zero padding (outside the image is
    transparent), except the back layer of an *opaque* input (its alpha is 1 everywhere), which is reflected about
    its edge pixels, so moving layers never let transparency in at the borders of a picture and never smear its edge
    pixels into streaks.

    Args:
        layers: ``(B, K, 4, H, W)`` depth-ordered premultiplied RGBA layers (``layer_images``; layer 0 at the back),
            placed in the canvas at ``box``.
        motion: the motion to apply (already scaled by strength).
        phases: ``(T,)`` shared or ``(B, T)`` per-sample loop phases in radians.
        box: where the input sits in the canvas.
        canvas_size: ``R``, the canvas side in pixels that ``box`` refers to.
        out_size: ``(width, height)`` of the frames; default the input's.
        out_box: where the output frame sits in the canvas; default ``box`` (same framing, any resolution).
        mode: ``"bilinear"``, ``"bicubic"`` or ``"nearest"`` sampling of the layers (the result is clamped to
            valid premultiplied RGBA, so bicubic's overshoot never leaves it).
        align_corners: passed to every ``grid_sample``.

    Returns:
        ``(B, T, 4, H_out, W_out)`` premultiplied RGBA with alpha in ``[0, 1]`` and RGB ``<=`` alpha.
    """
    B, K, C, H, W = layers.shape
    out_w, out_h = out_size or (W, H)
    out_coords = pixel_canvas_coords(out_w, out_h, out_box or box, canvas_size, device=layers.device)
    src = source_coords(motion, phases, out_coords, align_corners)  # (B, T, K, h, w, 2)
    T = src.shape[1]
    grid = canvas_to_grid(src, box, canvas_size).to(layers.dtype)  # (B, T, K, h, w, 2)
    opaque = layers[:, 0, 3].flatten(1).amin(dim=1) >= 1 - 1e-6  # (B,)
    if bool(opaque.any()):
        back = _reflected(grid[:, :, :1], opaque, (W, H), align_corners)
        grid = torch.cat((back, grid[:, :, 1:]), dim=2)
    # one grid_sample per layer image, its T frames stacked along the output height: no copy of the layers
    grid = grid.transpose(1, 2).reshape(B * K, T * out_h, out_w, 2)
    warped = F.grid_sample(layers.reshape(B * K, C, H, W), grid, mode=mode, padding_mode="zeros", align_corners=align_corners)
    frames = composite(warped.view(B, K, C, T, out_h, out_w)).transpose(1, 2)  # (B, T, 4, h, w)
    rgb, alpha = frames.split((3, 1), dim=2)
    alpha = alpha.clamp(0, 1)
    return torch.cat((torch.minimum(rgb.clamp(min=0), alpha), alpha), dim=2)


def render_canvas(image: torch.Tensor, motion: Motion, phases: torch.Tensor, *, align_corners: bool = False
                  ) -> torch.Tensor:
    """``motion`` over whole canvases ``image`` ``(B, 4, R, R)`` (the letterboxed input fills the box): frames
    ``(B, T, 4, R, R)`` at ``phases`` ``(B, T)``, differentiable (training, and the drawing guard's energy)."""
    R = image.shape[-1]
    box = (0, 0, R, R)
    layers = layer_images(image, motion.masks, box, R, align_corners)
    return render(layers, motion, phases, box=box, canvas_size=R, align_corners=align_corners)


def render_chunks(
    layers: torch.Tensor, motion: Motion, phases: torch.Tensor, *, chunk_size: int = 4, **kwargs
) -> Iterator[torch.Tensor]:
    """``render`` a few phases at a time, so memory stays flat however many frames are asked for."""
    for start in range(0, phases.shape[-1], chunk_size):
        yield render(layers, motion, phases[..., start : start + chunk_size], **kwargs)


_CHUNK_FLOATS = 16_000_000  # floats of warped layers per rendering chunk (~64 MB), so memory stays flat


def render_loop(
    image: torch.Tensor,
    motion: Motion,
    num_frames: int,
    *,
    box: Box,
    canvas_size: int,
    out_size: tuple[int, int],
    mode: str = "bilinear",
    align_corners: bool = False,
    hard_layers: bool = False,
    phases: torch.Tensor | None = None,
    only_where_behind: bool = False,
) -> Iterator[torch.Tensor]:
    """The frames of one loop of a full-resolution image ``(1, 4, H, W)``, a few at a time: ``(t, 4, h, w)`` chunks.

    ``phases`` ``(T,)`` overrides the uniform ``frame_phases(num_frames)`` (see ``timing.seam_phases``).

    With ``hard_layers`` (pixel art, ``mode="nearest"``) each pixel belongs to one layer and the fill behind front
    layers picks existing colours, so every output pixel is an input pixel or a fill from one: a palette stays exact.
    ``only_where_behind``: fill behind a front layer only where the rest continues behind it (``layer_images``).
    """
    layers = layer_images(image, motion.masks, box, canvas_size, align_corners, hard=hard_layers,
                          only_where_behind=only_where_behind)
    out_w, out_h = out_size
    chunk = max(1, min(8, _CHUNK_FLOATS // (layers.shape[1] * 4 * out_w * out_h)))
    if phases is None:
        phases = frame_phases(num_frames, device=image.device)
    for frames in render_chunks(
        layers, motion, phases, chunk_size=chunk, box=box, canvas_size=canvas_size,
        out_size=out_size, mode=mode, align_corners=align_corners,
    ):
        yield frames[0]


def shift_phase(motion: Motion, phase: torch.Tensor) -> Motion:
    """Re-anchors trajectories at ``phase`` ``(B,)``: the result is ``q(psi) = p(phase + psi) - p(phase)``.

    A loop fitted with frame 0 as its anchor describes, to first order, the motion seen from frame ``k`` once shifted
    by ``2 pi k / N``; ``q(0) = 0`` still holds. Masks are kept as they are.
    """

    def rotate(coeffs: torch.Tensor) -> torch.Tensor:  # (B, K, P, M, 2, ...): M at dim 3, (a, b) at dim 4
        M = coeffs.shape[3]
        m = torch.arange(1, M + 1, device=coeffs.device, dtype=coeffs.dtype)
        angle = (phase.to(coeffs.dtype)[:, None] * m).view(-1, 1, 1, M, *([1] * (coeffs.ndim - 5)))
        a, b = coeffs[:, :, :, :, 0], coeffs[:, :, :, :, 1]
        cos, sin = torch.cos(angle), torch.sin(angle)
        return torch.stack((a * cos + b * sin, b * cos - a * sin), dim=4)

    return Motion(motion.masks, rotate(motion.affine), rotate(motion.flow))


def augment_motion(motion: Motion, augment: torch.Tensor, align_corners: bool = False) -> Motion:
    """The motion of a clip after the data augmentation ``x'(q) = x(G q)``, ``G(q) = F (q - t) / s``.

    ``augment`` is ``(B, 4)`` = ``(flip, scale, tx, ty)`` (``F`` mirrors x when ``flip`` is 1). A source map
    ``S(p) = p + D p + d + f(p)`` becomes ``G^-1 S G``: ``D' = F D F``, ``d' = s F d - D' t``, ``f'(q) = s F f(G q)``
    and masks ``m'(q) = m(G q)``. Exact, coefficient by coefficient, since trajectories are linear in them.
    """
    B = augment.shape[0]
    aug = augment.to(motion.affine.dtype)
    sign = 1 - 2 * aug[:, 0]  # -1 where flipped
    s, t = aug[:, 1], aug[:, 2:4]
    D = motion.affine.unflatten(2, (2, 3))  # (B, K, 2, 3, M, 2)
    flip_rows = torch.stack((sign, torch.ones_like(sign)), dim=1).view(B, 1, 2, 1, 1, 1)
    linear = D[:, :, :, :2] * flip_rows * flip_rows.transpose(2, 3)  # F D F
    shift = D[:, :, :, 2] * flip_rows[:, :, :, 0] * s.view(B, 1, 1, 1, 1) - torch.einsum("bkijmc,bj->bkimc", linear, t)
    affine = torch.cat((linear, shift.unsqueeze(3)), dim=3).flatten(2, 3)
    # G maps the augmented canvas back into the original one; resample flow and masks there
    theta = torch.zeros(B, 2, 3, dtype=aug.dtype, device=aug.device)
    theta[:, 0, 0], theta[:, 1, 1] = sign / s, 1 / s
    theta[:, 0, 2], theta[:, 1, 2] = -sign * t[:, 0] / s, -t[:, 1] / s

    def resample(maps: torch.Tensor) -> torch.Tensor:  # (B, C, h, w) canvas maps, sampled at G(q)
        grid = F.affine_grid(theta, [B, 1, *maps.shape[-2:]], align_corners=align_corners)
        return sample_canvas_map(maps, grid, align_corners)

    flow = resample(motion.flow.flatten(1, 4)).view(motion.flow.shape)
    flow = flow * (s.view(B, 1, 1, 1, 1, 1, 1) * torch.stack((sign, torch.ones_like(sign)), 1).view(B, 1, 2, 1, 1, 1, 1))
    masks = resample(motion.masks)
    return Motion(masks, affine, flow)
