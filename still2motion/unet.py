"""A small pix2pix-like U-Net encoder/decoder, shared by the generator and the baselines."""

from __future__ import annotations

import torch
from torch import nn


def _group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels // 4) or 1, channels)


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm and SiLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            _group_norm(out_channels),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            _group_norm(out_channels),
            nn.SiLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UNet(nn.Module):
    """Encoder/decoder with skips. ``forward`` returns the bottleneck and every decoder level, coarse to fine.

    With ``block_out_channels = (c0, c1, ..., cL)`` and input ``(B, C_in, R, R)``, the bottleneck is
    ``(B, cL, R / 2^L, R / 2^L)`` and decoder level ``i`` is ``(B, c_{L-1-i}, R / 2^(L-1-i), ...)``.
    A conditioning vector ``(B, cond_dim)`` is added to the bottleneck (noise ``z``).
    """

    def __init__(self, *, in_channels: int, block_out_channels: tuple[int, ...], cond_dim: int = 0) -> None:
        super().__init__()
        chans = tuple(block_out_channels)
        self.stem = ConvBlock(in_channels, chans[0])
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, cin, 4, stride=2, padding=1), ConvBlock(cin, cout))
            for cin, cout in zip(chans[:-1], chans[1:])
        )
        self.cond = nn.Linear(cond_dim, chans[-1]) if cond_dim else None
        self.up = nn.ModuleList(
            ConvBlock(cout + cskip, cskip) for cout, cskip in zip(chans[::-1][:-1], chans[::-1][1:])
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        h = skips.pop()
        if self.cond is not None and cond is not None:
            h = h + self.cond(cond)[:, :, None, None]
        bottleneck = h
        levels = []
        for up in self.up:
            skip = skips.pop()
            h = up(torch.cat((nn.functional.interpolate(h, size=skip.shape[-2:], mode="nearest"), skip), dim=1))
            levels.append(h)
        return bottleneck, levels
