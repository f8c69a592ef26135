"""Discriminators: a conditional PatchGAN on (input, frame) pairs and a temporal one on (input, clip).

Both are small, use spectral norm (no normalisation layers, so real and fake batches never mix statistics) and return
their intermediate features for feature matching. ``Discriminators`` holds both so one ``accelerator.prepare`` (one
DDP wrapper) covers them; its forward takes real and fake together, so each update is one forward and one backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass
class Judgement:
    """Logits and features of one discriminator: ``logits`` a patch map, ``features`` one tensor per layer."""

    logits: torch.Tensor
    features: list[torch.Tensor]


class _LayerStack(nn.Module):
    """``self.layers`` then ``self.out``; every layer's output is kept for feature matching."""

    layers: nn.ModuleList
    out: nn.Module

    def forward(self, x: torch.Tensor) -> Judgement:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return Judgement(self.out(x), features)


class NLayerDiscriminator(_LayerStack):
    """The pix2pix PatchGAN: stride-2 4x4 convs, width capped at ``8 * ndf``, ending in a 1-channel patch map.

    Args:
        in_channels: channels of the concatenated (input, frame) pair: 8 for RGBA + RGBA.
        ndf: width of the first layer.
        n_layers: stride-2 layers; each output logit sees a ``~16 * 2 ** n_layers`` pixel patch.
    """

    def __init__(self, *, in_channels: int = 8, ndf: int = 16, n_layers: int = 2) -> None:
        super().__init__()
        layers = [nn.Sequential(spectral_norm(nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1)), nn.LeakyReLU(0.2))]
        nf = ndf
        for n in range(1, n_layers + 1):
            nf_prev, nf = nf, ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers.append(nn.Sequential(spectral_norm(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=1)), nn.LeakyReLU(0.2)))
        self.layers = nn.ModuleList(layers)
        self.out = spectral_norm(nn.Conv2d(nf, 1, 4, stride=1, padding=1))



class TemporalDiscriminator(_LayerStack):
    """3D convolutions over the input and ``S`` frames in phase order, with the phases as cos/sin planes.

    Input ``(B, 4 + 4 + 2, S, R, R)``: the input frame repeated along time, the frame, ``cos``/``sin`` of its phase.
    Time is never strided (``S`` is small), space is halved per layer.
    """

    def __init__(self, *, in_channels: int = 10, ndf: int = 16, n_layers: int = 2) -> None:
        super().__init__()
        layers = []
        nf_prev, nf = in_channels, ndf
        for n in range(n_layers + 1):
            nf = ndf * min(2**n, 8)
            conv = nn.Conv3d(nf_prev, nf, (3, 4, 4), stride=(1, 2, 2), padding=(1, 1, 1))
            layers.append(nn.Sequential(spectral_norm(conv), nn.LeakyReLU(0.2)))
            nf_prev = nf
        self.layers = nn.ModuleList(layers)
        self.out = spectral_norm(nn.Conv3d(nf, 1, 3, padding=1))



def pair_input(image: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """(input, frame) pairs for the PatchGAN: ``(B, 4, R, R)``, ``(B, S, 4, R, R)`` -> ``(B*S, 8, R, R)``."""
    B, S = frames.shape[:2]
    cond = image.unsqueeze(1).expand(B, S, *image.shape[1:])
    return torch.cat((cond, frames), dim=2).flatten(0, 1)


def clip_input(image: torch.Tensor, frames: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """The temporal discriminator's input, frames sorted by phase: -> ``(B, 10, S, R, R)``."""
    B, S, _, H, W = frames.shape
    order = phases.argsort(dim=1)  # (B, S)
    rows = torch.arange(B, device=frames.device)[:, None]
    frames, phases = frames[rows, order], phases[rows, order]
    cond = image.unsqueeze(1).expand(B, S, *image.shape[1:])
    planes = torch.stack((torch.cos(phases), torch.sin(phases)), dim=2).to(frames.dtype)  # (B, S, 2)
    planes = planes[..., None, None].expand(B, S, 2, H, W)
    return torch.cat((cond, frames, planes), dim=2).transpose(1, 2)  # (B, 10, S, H, W)


class Discriminators(nn.Module):
    """The PatchGAN and (optionally) the temporal discriminator, judged in one call.

    Args:
        ndf: width of the first layer of each.
        n_layers: stride-2 layers of each.
        patch: build the PatchGAN; temporal: build the temporal discriminator (each is left out when its loss weight
            is 0, so DDP never sees unused weights).
    """

    def __init__(self, *, ndf: int = 16, n_layers: int = 2, patch: bool = True, temporal: bool = True) -> None:
        super().__init__()
        if not (patch or temporal):
            raise ValueError("Discriminators needs at least one of patch and temporal")
        self.patch = NLayerDiscriminator(ndf=ndf, n_layers=n_layers) if patch else None
        self.temporal = TemporalDiscriminator(ndf=ndf, n_layers=n_layers) if temporal else None

    def forward(self, image: torch.Tensor, frames: torch.Tensor, phases: torch.Tensor) -> dict[str, Judgement]:
        """Judges ``frames (B, S, 4, R, R)`` given ``image (B, 4, R, R)`` at ``phases (B, S)``."""
        out = {}
        if self.patch is not None:
            out["patch"] = self.patch(pair_input(image, frames))
        if self.temporal is not None:
            out["temporal"] = self.temporal(clip_input(image, frames, phases))
        return out
