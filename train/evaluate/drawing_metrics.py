"""Does a loop keep the drawing? Measures from the warp the renderer applies and from the pixels (issue 33).

From the warp (a ``Motion`` and the frames' phases, as ``rendering.plan_motion`` returns them), per frame over the
input's silhouette at the output resolution:

- **fold share**: pixels where the Jacobian of the sampling map has determinant <= 0 (the picture folds over);
- **distortion share**: pixels where a singular value of the Jacobian lies outside ``[0.8, 1.25]``.

With several layers, each pixel is measured on the layer that holds most of it (the one it is drawn from).

From the pixels (frames ``(T, 4, H, W)`` premultiplied, the input ``(4, H, W)``):

- **outline kept** (flat-coloured inputs): dark outline pixels per frame over the input's; "dark" is below the
  luminance midway between the input's darkest colours (2nd percentile) and its median, so a sub-pixel shift of a
  line keeps its count;
- **off-palette share** (flat-coloured inputs): opaque pixels farther than ``PALETTE_DISTANCE`` (RGB, 0-255) from
  every colour of the input's flat palette (colours covering at least ``PALETTE_SHARE`` of its opaque pixels);
- **ghost share** (transparent inputs): opaque output pixels (alpha >= 0.5) outside both the moving part's warped
  silhouette and the input's silhouette minus the region the part moved away from (``ghost_share``), over the
  input's silhouette pixels.
"""

from __future__ import annotations

import torch

from still2motion.fill import enclosed
from still2motion.motion import Motion, canvas_to_grid, layer_weights, pixel_canvas_coords, source_coords

DISTORTION_RANGE = (0.8, 1.25)
PALETTE_DISTANCE = 30.0
PALETTE_SHARE = 0.002
_OPAQUE = 0.5
_RIM = 0.25  # an anti-aliased rim pixel still belongs to its silhouette


def _straight(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(..., 4, H, W)`` premultiplied -> straight RGB in 0-255 ``(..., 3, H, W)`` and alpha ``(..., H, W)``."""
    alpha = frames[..., 3, :, :]
    rgb = frames[..., :3, :, :] / alpha.unsqueeze(-3).clamp_min(1e-6)
    return rgb.clamp(0, 1) * 255, alpha


def warp_shares(
    motion: Motion, phases: torch.Tensor, image: torch.Tensor, box, canvas_size: int, *, align_corners: bool = False,
) -> dict[str, list[float]]:
    """Fold and distortion shares per frame of ``motion`` (batch 1) rendered at the input's own size.

    ``image`` ``(1, 4, H, W)`` is the premultiplied input; its alpha >= 0.5 is the silhouette measured. Returns
    ``{"fold": [T floats], "distortion": [T floats], "peak_px": the farthest any silhouette pixel samples from}``.
    """
    _, _, H, W = image.shape
    out = pixel_canvas_coords(W, H, box, canvas_size, device=image.device)  # (H, W, 2)
    src = source_coords(motion, phases, out, align_corners)[0]  # (T, K, H, W, 2) canvas units
    if src.shape[1] > 1:  # the layer each pixel is drawn from: the one holding most of it
        weights = layer_weights(image, motion.masks, box, canvas_size, align_corners)[0]  # (K, H, W)
        pick = weights.argmax(dim=0)[None, None, :, :, None].expand(src.shape[0], 1, H, W, 2)
        src = src.gather(1, pick)
    src = canvas_to_grid(src[:, 0], box, canvas_size) * src.new_tensor([W / 2, H / 2])  # (T, H, W, 2) in pixels
    jx = src[:, :-1, 1:] - src[:, :-1, :-1]  # d s / d x (one pixel step)
    jy = src[:, 1:, :-1] - src[:, :-1, :-1]  # d s / d y
    a, c, b, d = jx[..., 0], jx[..., 1], jy[..., 0], jy[..., 1]
    det = a * d - b * c
    s2 = a * a + b * b + c * c + d * d
    root = (s2 * s2 - 4 * det * det).clamp_min(0).sqrt()
    high, low = ((s2 + root) / 2).sqrt(), ((s2 - root) / 2).clamp_min(0).sqrt()
    inside = image[0, 3, :-1, :-1] >= _OPAQUE
    n = max(int(inside.sum()), 1)
    fold = ((det <= 0) & inside).flatten(1).sum(1) / n
    bad = ((low < DISTORTION_RANGE[0]) | (high > DISTORTION_RANGE[1])) & inside
    pixel = torch.stack(torch.meshgrid(torch.arange(W, device=src.device) - (W - 1) / 2,
                                       torch.arange(H, device=src.device) - (H - 1) / 2, indexing="xy"), -1)
    moved = (src - pixel.to(src.dtype)).norm(dim=-1)[:, image[0, 3] >= _OPAQUE]  # (T, P) output pixels
    peak = float(moved.max()) if moved.numel() else 0.0
    return {"fold": fold.tolist(), "distortion": (bad.flatten(1).sum(1) / n).tolist(), "peak_px": peak}


def _luminance(rgb: torch.Tensor) -> torch.Tensor:
    return 0.299 * rgb[..., 0, :, :] + 0.587 * rgb[..., 1, :, :] + 0.114 * rgb[..., 2, :, :]


def outline_kept(frames: torch.Tensor, image: torch.Tensor) -> list[float]:
    """Dark outline pixels of each frame ``(T, 4, H, W)`` over the input's ``(4, H, W)`` (1.0 keeps the outline)."""
    rgb, alpha = _straight(image)
    lum = _luminance(rgb)[alpha >= _OPAQUE]
    if lum.numel() == 0:
        return [1.0] * frames.shape[0]
    threshold = (torch.quantile(lum, 0.02) + lum.median()) / 2

    def dark(x: torch.Tensor) -> torch.Tensor:
        c, a = _straight(x)
        return ((_luminance(c) < threshold) & (a >= _OPAQUE)).flatten(-2).sum(-1).double()

    return (dark(frames) / dark(image).clamp_min(1)).tolist()


def flat_palette(image: torch.Tensor) -> torch.Tensor:
    """The colours ``(P, 3)`` (0-255) that cover at least ``PALETTE_SHARE`` of the input's opaque pixels."""
    rgb, alpha = _straight(image)
    colours = rgb.round().flatten(1).T[(alpha >= 0.99).flatten()]  # (N, 3)
    if len(colours) == 0:
        return rgb.new_zeros(0, 3)
    values, counts = torch.unique(colours, dim=0, return_counts=True)
    return values[counts >= PALETTE_SHARE * len(colours)]


def off_palette_share(frames: torch.Tensor, image: torch.Tensor) -> list[float]:
    """Share of each frame's opaque pixels (alpha >= 0.99) farther than ``PALETTE_DISTANCE`` from the flat palette."""
    palette = flat_palette(image)
    shares = []
    for frame in frames:
        rgb, alpha = _straight(frame)
        colours = rgb.flatten(1).T[(alpha >= 0.99).flatten()]  # (N, 3)
        if len(colours) == 0 or len(palette) == 0:
            shares.append(0.0)
            continue
        nearest = torch.cdist(colours.double(), palette.double()).amin(dim=1)
        shares.append(float((nearest > PALETTE_DISTANCE).double().mean()))
    return shares


def ghost_share(frames: torch.Tensor, image: torch.Tensor, moving: torch.Tensor, warped: torch.Tensor) -> list[float]:
    """Ghost pixels per frame over the input's silhouette pixels (0: no ghost).

    Args:
        frames: ``(T, 4, H, W)`` the rendered loop.
        image: ``(4, H, W)`` the input.
        moving: ``(H, W)`` bool, the moving part's silhouette in the input (the whole silhouette without a mask).
        warped: ``(T, H, W)`` bool, the moving part's silhouette (its anti-aliased rim included, alpha >= 0.25) as
            the motion carries it in each frame.

    The region a part moved away from is its silhouette where it no longer is and no still part continues behind
    it (``enclosed``); an opaque pixel there, or outside the input's silhouette and the warped part, is a ghost.
    """
    sil = image[3] >= _OPAQUE
    still = sil & ~moving
    left = moving[None] & ~warped & ~enclosed(still)[None]  # (T, H, W): uncovered against empty background
    rim = image[3] >= _RIM  # where two anti-aliased rims overlap, their sum may pass 0.5: not a ghost
    allowed = warped | (rim[None] & ~left)
    ghost = (frames[:, 3] >= _OPAQUE) & ~allowed
    return (ghost.flatten(1).sum(1).double() / max(int(sil.sum()), 1)).tolist()


DRAWING_METRICS = ("outline_kept_min", "outline_kept_max", "off_palette", "fold", "distortion")  # evaluate.py's keys


def drawing_scores(clip: torch.Tensor, image: torch.Tensor) -> dict[str, float]:
    """The pixel measures of one loop ``(T, 4, H, W)`` of ``image`` ``(4, H, W)``, worst frame of each:
    ``{"outline_kept_min", "outline_kept_max", "off_palette"}``."""
    kept = outline_kept(clip, image)
    return {"outline_kept_min": min(kept), "outline_kept_max": max(kept),
            "off_palette": max(off_palette_share(clip, image))}


def planned_motion(model, img, *, num_frames: int, seed: int, strength: float = 1.0):
    """The motion ``model.animate(img, ...)`` renders with ``motion="auto"`` at the input's size, as the request plans
    it: ``(motion, phases, image (1, 4, H, W), box)`` (``Still2Motion`` only)."""
    from still2motion import io
    from still2motion.rendering import plan_motion

    canvas, box = io.letterbox(img, model.resolution)
    x, image = io.to_tensor(canvas)[None], io.to_tensor(img)[None]
    mode = io.auto_resample(img)
    mo = model.auto_motion(x, box, strength=strength, noise=model.sample_noise(seed), out_size=img.size,
                           has_alpha=img.getextrema()[3][0] < 255, hard_layers=mode == "nearest" and io.is_pixel_art(img),
                           num_frames=num_frames)
    planned, phases = plan_motion(image, x, mo, box, canvas_size=model.resolution, num_frames=num_frames,
                                  out_size=img.size, align_corners=model.align_corners)
    return planned, phases, image, box


def warp_scores(model, img, *, num_frames: int, seed: int, strength: float = 1.0) -> dict[str, float]:
    """``{"fold", "distortion"}``: the worst frame's shares of the warp ``model.animate`` applies to ``img``."""
    with torch.no_grad():
        planned, phases, image, box = planned_motion(model, img, num_frames=num_frames, seed=seed, strength=strength)
        shares = warp_shares(planned, phases, image, box, model.resolution, align_corners=model.align_corners)
    return {"fold": max(shares["fold"]), "distortion": max(shares["distortion"])}
