"""Style augmentation of training clips: the same random colour, edge and resampling change on every frame.

A clip is ``x (N, 4, R, R)``, premultiplied RGBA float in ``[0, 1]`` (the input frame first, then its targets). Each
transform here is a pure function of ``x`` and explicit parameters and acts on every frame alike, so the input and its
targets always get the same change, and none moves a pixel: geometry (flip, scale, position, nearest vs bilinear
sampling) stays in ``data.LoopDataset._augment``, whose ``(flip, scale, tx, ty)`` the fitted motion targets follow.
``style_transform`` draws which transforms apply, and their parameters, from a ``StyleConfig``; ``STYLE_PRESETS``
holds ``none``, ``default`` and ``strong`` (the ``--style_augment`` choices; docs/data-sources.md lists them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

_EPS = 1e-6
_LUMA = (0.299, 0.587, 0.114)
# constant 3x3 building blocks of the colour map (never written to)
_EYE = torch.eye(3)
_LUMA_W = torch.tensor(_LUMA)
_GREY = torch.ones(3, 1) @ _LUMA_W.view(1, 3)  # every row = the luma weights: rgb -> (l, l, l)


@dataclass(frozen=True)
class StyleConfig:
    """Probability (``*_p``) and range of each transform, and the geometry used with them."""

    hue_p: float = 0.2  # rotate hues about the grey axis by U(-pi, pi)
    permute_p: float = 0.05  # a random permutation of R, G, B (a palette swap)
    saturation_p: float = 0.2
    saturation: tuple[float, float] = (0.5, 1.6)  # factor, log-uniform
    contrast_p: float = 0.2
    contrast: tuple[float, float] = (0.7, 1.4)  # factor about the input frame's mean luma, log-uniform
    posterize_p: float = 0.1
    posterize_levels: tuple[int, int] = (4, 8)  # levels per channel, uniform integer
    outline_p: float = 0.1  # 1 px dark outline added (alpha dilation)
    erode_p: float = 0.05  # 1 px of the silhouette removed (alpha erosion), not if it would take half of it
    blur_p: float = 0.05  # 3x3 binomial blur
    sharpen_p: float = 0.05  # unsharp mask, amount U(0.5, 1.5)
    pixelate_p: float = 0.1  # block average down by 2 or 4, nearest up: chunky pixels
    smooth_p: float = 0.05  # block average down by 2, up again, blurred: soft, painted-looking edges
    # geometry (applied by the loader, motion targets follow it)
    affine_p: float = 0.6
    scale_range: tuple[float, float] = (0.75, 1.25)  # log-uniform
    translate: float = 0.12  # fraction of the canvas half-width
    nearest_p: float = 0.5  # nearest-neighbour rather than bilinear sampling for the scale/shift


STYLE_PRESETS: dict[str, StyleConfig | None] = {
    "none": None,
    "default": StyleConfig(),
    "strong": StyleConfig(hue_p=0.5, permute_p=0.2, saturation_p=0.5, saturation=(0.25, 2.0), contrast_p=0.5,
                          contrast=(0.5, 1.8), posterize_p=0.3, posterize_levels=(3, 6), outline_p=0.25, erode_p=0.15,
                          blur_p=0.15, sharpen_p=0.15, pixelate_p=0.25, smooth_p=0.15, affine_p=0.8,
                          scale_range=(0.6, 1.3), translate=0.2),
}


def style_config(name: str) -> StyleConfig | None:
    """The preset called ``name``.

    Raises:
        ValueError: not one of ``STYLE_PRESETS``.
    """
    if name not in STYLE_PRESETS:
        raise ValueError(f"style_augment must be one of {sorted(STYLE_PRESETS)}, got {name!r}")
    return STYLE_PRESETS[name]


# -- colour; alpha is untouched
def hue_matrix(angle: float) -> torch.Tensor:
    """The 3x3 rotation of RGB about the grey axis by ``angle`` radians (greys stay grey; Rodrigues' formula)."""
    c, s, k = math.cos(angle), math.sin(angle), 1 / math.sqrt(3.0)
    diag, off = c + (1 - c) / 3, (1 - c) / 3
    return torch.tensor([[diag, off - s * k, off + s * k], [off + s * k, diag, off - s * k],
                         [off - s * k, off + s * k, diag]])


def color_transform(x: torch.Tensor, *, matrix: torch.Tensor | None = None, saturation: float = 1.0,
                    contrast: float = 1.0, contrast_mean: float = 0.5, levels: int = 0) -> torch.Tensor:
    """Colour changes of straight RGB, in order: ``matrix`` (hue rotation / channel permutation), saturation about
    each pixel's luma, contrast about ``contrast_mean``, clipping to ``[0, 1]``, posterisation to ``levels`` per
    channel (0 = off).

    The first three are one affine map ``rgb -> M rgb + b``, applied to premultiplied colour as ``M rgb + b alpha``
    (no division), then clipped to ``[0, alpha]``; only posterisation goes through straight colour.
    """
    m = _EYE if matrix is None else matrix.float()
    if saturation != 1.0:
        m = (saturation * _EYE + (1 - saturation) * _GREY) @ m
    if contrast != 1.0:
        m = contrast * m
    a = x[:, 3:4]
    rgb = torch.matmul(m.to(x), x[:, :3].flatten(2)).view_as(x[:, :3])  # (N, 3, H, W)
    if contrast != 1.0:
        rgb = rgb + (1 - contrast) * contrast_mean * a
    rgb = torch.minimum(rgb.clamp_(min=0), a)  # a valid premultiplied colour
    if levels:
        rgb = torch.round(rgb / a.clamp_min(_EPS) * (levels - 1)).mul_(a / (levels - 1))
    return torch.cat((rgb, a), dim=1)


def mean_luma(frame: torch.Tensor) -> float:
    """Alpha-weighted mean luma of one premultiplied frame ``(4, H, W)`` (0.5 if it is empty)."""
    sums = frame.flatten(1).sum(1)  # (4,)
    return float(_LUMA_W @ sums[:3] / sums[3]) if sums[3] > _EPS else 0.5


# -- neighbourhood helpers: shifted slices of a zero-padded tensor (much cheaper than pooling / conv on CPU here)
def _max3(a: torch.Tensor) -> torch.Tensor:
    """3x3 maximum of ``(N, C, H, W)``, zero outside the canvas."""
    p = F.pad(a, (1, 1, 1, 1))
    h = torch.maximum(torch.maximum(p[..., :, :-2], p[..., :, 1:-1]), p[..., :, 2:])  # (N, C, H + 2, W)
    return torch.maximum(torch.maximum(h[..., :-2, :], h[..., 1:-1, :]), h[..., 2:, :])


def _block_mean(x: torch.Tensor, factor: int) -> torch.Tensor:
    n, c, h, w = x.shape
    if h % factor or w % factor:
        return F.adaptive_avg_pool2d(x, (max(1, h // factor), max(1, w // factor)))
    total = sum(x[..., i::factor, j::factor] for i in range(factor) for j in range(factor))  # (N, C, H / f, W / f)
    return total / factor**2


# -- edges
def add_outline(x: torch.Tensor, color: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> torch.Tensor:
    """A 1 px outline of ``color`` around the silhouette (alpha dilated by a 3x3 max, new pixels coloured)."""
    a = x[:, 3:4]
    ring = (_max3(a) - a).clamp_min(0)  # (N, 1, H, W)
    col = torch.tensor(color, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return torch.cat((x[:, :3] + ring * col, a + ring), dim=1).clamp(0, 1)


def erode(x: torch.Tensor) -> torch.Tensor:
    """Removes the outermost pixel of the silhouette (alpha eroded by a 3x3 min), keeping colours of what stays."""
    a = x[:, 3:4]
    eroded = 1 - _max3(1 - a)  # outside the canvas counts as opaque: the canvas edge is not a silhouette edge
    return x * (eroded / a.clamp_min(_EPS)).clamp(0, 1)


def blur(x: torch.Tensor) -> torch.Tensor:
    """3x3 binomial blur ``[1 2 1] / 4`` in x and y of the premultiplied frames (transparent outside the canvas)."""
    p = F.pad(x, (1, 1, 1, 1))
    h = (p[..., :, :-2] + 2 * p[..., :, 1:-1] + p[..., :, 2:]) * 0.25  # (N, C, H + 2, W)
    return (h[..., :-2, :] + 2 * h[..., 1:-1, :] + h[..., 2:, :]) * 0.25


def sharpen(x: torch.Tensor, amount: float = 1.0) -> torch.Tensor:
    """Unsharp mask ``x + amount (x - blur(x))``, kept a valid premultiplied image (``rgb <= alpha``)."""
    y = (x + amount * (x - blur(x))).clamp(0, 1)
    return torch.cat((torch.minimum(y[:, :3], y[:, 3:4]), y[:, 3:4]), dim=1)


# -- resampling at the same size
def pixelate(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Block average down by ``factor``, nearest up again: every ``factor x factor`` block becomes one colour."""
    h, w = x.shape[-2:]
    small = _block_mean(x, factor)
    if small.shape[-2] * factor == h and small.shape[-1] * factor == w:
        return small.repeat_interleave(factor, -2).repeat_interleave(factor, -1)
    return F.interpolate(small, size=(h, w), mode="nearest")


def smooth(x: torch.Tensor) -> torch.Tensor:
    """Block average down by 2, nearest up, then the 3x3 binomial blur: crisp pixel art becomes soft."""
    return blur(pixelate(x, 2))


def _log_uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(lo_hi[0]), math.log(lo_hi[1]))))


def style_transform(x: torch.Tensor, rng: np.random.Generator, config: StyleConfig) -> tuple[torch.Tensor, list[str]]:
    """Draws and applies the style transforms of ``config`` to a clip ``x (N, 4, R, R)``.

    Returns:
        the clip and the names of the transforms applied, in order.
    """
    applied: list[str] = []
    draws = rng.random(11)  # one draw per transform, always 11, so items stay reproducible whatever applies
    color: dict = {}
    if draws[0] < config.hue_p:
        color["matrix"] = hue_matrix(float(rng.uniform(-math.pi, math.pi)))
        applied.append("hue")
    if draws[1] < config.permute_p:
        order = [int(i) for i in rng.permutation(3)]
        perm = _EYE[order]
        color["matrix"] = perm @ color["matrix"] if "matrix" in color else perm
        applied.append("permute")
    if draws[2] < config.saturation_p:
        color["saturation"] = _log_uniform(rng, config.saturation)
        applied.append("saturation")
    if draws[3] < config.contrast_p:
        color["contrast"] = _log_uniform(rng, config.contrast)
        color["contrast_mean"] = mean_luma(x[0])  # from the input frame, then the same on every frame
        applied.append("contrast")
    if draws[4] < config.posterize_p:
        color["levels"] = int(rng.integers(config.posterize_levels[0], config.posterize_levels[1] + 1))
        applied.append("posterize")
    if color:
        x = color_transform(x, **color)
    if draws[5] < config.pixelate_p:
        x = pixelate(x, int(rng.choice([2, 4])))
        applied.append("pixelate")
    elif draws[6] < config.smooth_p:
        x = smooth(x)
        applied.append("smooth")
    if draws[7] < config.blur_p:
        x = blur(x)
        applied.append("blur")
    elif draws[8] < config.sharpen_p:
        x = sharpen(x, float(rng.uniform(0.5, 1.5)))
        applied.append("sharpen")
    if draws[9] < config.outline_p:
        shade = float(rng.uniform(0.0, 0.25))
        x = add_outline(x, (shade, shade * float(rng.uniform(0.5, 1.0)), shade * float(rng.uniform(0.5, 1.0))))
        applied.append("outline")
    elif draws[10] < config.erode_p:
        eroded = erode(x)
        if eroded[0, 3].sum() >= 0.5 * x[0, 3].sum():  # small sprites keep their edges
            x = eroded
            applied.append("erode")
    return x, applied
