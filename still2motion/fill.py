"""The fill behind a front layer: a push-pull (image pyramid) fill in pure torch, no parameters.

What a moving front layer uncovers must look like the surrounding back layer, never a hole or a second copy of the
front. ``push_pull`` spreads the colours of *known* pixels (weight 1) into unknown ones (weight 0): the weighted
colours are averaged down a pyramid of 2 x 2 blocks ("pull"), then every level takes its own estimate where it knows
enough and the upsampled coarser estimate elsewhere ("push"). One pass costs about 4/3 of a few elementwise ops per
pixel, so it runs at full resolution (1024^2 and beyond) and stays differentiable for training.

With ``hard=True`` (pixel art, ``resample="nearest"``) blocks *pick* their best-known pixel instead of averaging and
upsampling repeats pixels, so every filled colour is one that exists in the image: the palette stays exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-6


def _pad_even(x: torch.Tensor, value: float = 0.0) -> torch.Tensor:
    """Pads ``(B, C, H, W)`` on the right / bottom to even ``H`` and ``W``."""
    return F.pad(x, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2), value=value)


def _repeat2(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest 2x upsampling cropped to ``size``: fine pixel ``(i, j)`` takes coarse pixel ``(i // 2, j // 2)``."""
    return x.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)[..., : size[0], : size[1]]


def _upsample2(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear 2x upsampling cropped to ``size`` (coarse pixel ``j`` covers fine pixels ``2j, 2j + 1``)."""
    up = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    return up[..., : size[0], : size[1]]


def enclosed(still: torch.Tensor) -> torch.Tensor:
    """Where a still part continues behind a moving one: pixels with ``still`` (bool ``(..., H, W)``) pixels on both
    sides along their row or along their column (the still part itself included).

    A body behind a brushed patch of its belly encloses the patch; an arm held out from the body, or a head above
    it, has empty background on one side, so nothing is behind it: when it moves, that place must turn transparent.
    """

    def between(dim: int) -> torch.Tensor:
        before = still.int().cummax(dim=dim).values.bool()
        after = still.int().flip(dim).cummax(dim=dim).values.flip(dim).bool()
        return before & after

    return between(-1) | between(-2)


def push_pull(color: torch.Tensor, weight: torch.Tensor, *, hard: bool = False) -> torch.Tensor:
    """Fills every pixel with a colour spread from the pixels that are known.

    Args:
        color: ``(B, C, H, W)`` colours already multiplied by ``weight`` (for premultiplied RGB with
            ``weight = known * alpha`` this is ``known * rgb``, so transparent pixels never lend their colour).
        weight: ``(B, 1, H, W)`` in ``[0, 1]``: how well each pixel's colour is known.
        hard: pick existing colours (nearest known pixel, blockwise) instead of averaging.

    Returns:
        ``(B, C, H, W)`` *straight* colours (``color / weight`` where known, the fill elsewhere). Callers give every
        pixel a vanishing weight too, so a region with no known pixel still gets the mean of its colours; the hard
        fill falls back to some existing pixel.
    """
    if hard:
        return _push_pull_hard(color, weight)
    colors, weights = [color], [weight]
    floor = weight.new_tensor(_EPS)
    while max(colors[-1].shape[-2:]) > 1:
        colors.append(F.avg_pool2d(_pad_even(colors[-1]), 2))
        weights.append(F.avg_pool2d(_pad_even(weights[-1]), 2))
    estimate = colors[-1] / weights[-1].clamp_min(floor)  # (B, C, 1, 1)
    for level in range(len(colors) - 2, 0, -1):
        c, w = colors[level], weights[level]
        trust = (4 * w).clamp(max=1)  # a block with a quarter of its pixels known is trusted outright
        estimate = trust * c / w.clamp_min(floor) + (1 - trust) * _upsample2(estimate, c.shape[-2:])
    c, w = colors[0], weights[0]
    if len(colors) > 1:
        estimate = _upsample2(estimate, c.shape[-2:])
    return (c + (1 - w).clamp(min=0) * estimate).clamp(0, 1)


def _push_pull_hard(color: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    straight = torch.where(weight > 0, color / weight.clamp_min(_EPS), color)
    B, C = straight.shape[:2]
    colors, weights = [straight], [weight]
    while max(colors[-1].shape[-2:]) > 1:
        w = _pad_even(weights[-1], value=-1.0)  # padding is never picked
        best, index = F.max_pool2d(w, 2, return_indices=True)  # (B, 1, h, w): the best-known pixel of each block
        c = _pad_even(colors[-1])
        picked = torch.gather(c.flatten(2), 2, index.flatten(2).expand(B, C, -1)).view(B, C, *best.shape[-2:])
        colors.append(picked)
        weights.append(best)
    estimate = colors[-1]
    for level in range(len(colors) - 2, -1, -1):
        c, w = colors[level], weights[level]
        estimate = torch.where(w > 0, c, _repeat2(estimate, c.shape[-2:]))
    return estimate
