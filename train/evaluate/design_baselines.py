"""The two designs ``Still2Motion`` replaced, kept as baselines trained with the same data and budget.

- ``Pix2PixGenerator``: the first attempt. A U-Net paints the pixels of ``T = 16`` frames directly (16 x 4 RGBA
  channels); the frames are upsampled to the output size.
- ``STNGenerator``: the second attempt. A U-Net predicts 16 affine transforms (a Spatial Transformer) and warps the
  full-resolution input with them, in the canvas coordinates of ``motion.py``.

Both are trained on targets at the 16 phases ``2 pi j / 16`` of each loop and sample any ``num_frames`` by nearest
phase. They share ``from_pretrained`` / ``animate()`` with ``Still2Motion`` through ``Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from still2motion import io
from still2motion.generator import Generator
from still2motion.loading import GENERATORS as SHIPPED, load_model
from still2motion.motion import canvas_to_grid, frame_phases, pixel_canvas_coords
from still2motion.unet import UNet


def _check_common(name: str, generator_type: str, expected: str, resolution: int, block_out_channels, num_phases: int, noise_dim: int) -> int:
    if generator_type != expected:
        raise ValueError(f"generator_type must be {expected!r} for {name}, got {generator_type!r}")
    depth = len(block_out_channels) - 1
    if depth < 1 or resolution % (2**depth):
        raise ValueError(
            f"resolution must be divisible by 2 ** (len(block_out_channels) - 1) = {2 ** max(depth, 0)}, "
            f"got resolution={resolution}, block_out_channels={block_out_channels}"
        )
    if num_phases < 1 or noise_dim < 1:
        raise ValueError(f"num_phases and noise_dim must be >= 1, got {num_phases}, {noise_dim}")
    return depth


def nearest_phase_index(phases: torch.Tensor, num_phases: int) -> torch.Tensor:
    """Index of the nearest of the phases ``2 pi j / num_phases`` (cyclically): same shape as ``phases``, long."""
    return torch.round(phases * (num_phases / (2 * math.pi))).long().remainder(num_phases)


def _pick(frames: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``frames (B, P, ...)`` at ``index (B, S)`` -> ``(B, S, ...)``."""
    rows = torch.arange(frames.shape[0], device=frames.device)[:, None]
    return frames[rows, index]


def _clamp_premultiplied(frames: torch.Tensor, dim: int) -> torch.Tensor:
    rgb, alpha = frames.split((3, 1), dim=dim)
    alpha = alpha.clamp(0, 1)
    return torch.cat((torch.minimum(rgb.clamp(min=0), alpha), alpha), dim=dim)


class Pix2PixGenerator(
    Generator,
    PyTorchModelHubMixin,
    library_name="still2motion",
    pipeline_tag="image-to-video",
    license="apache-2.0",
    tags=["image-to-video", "animation", "baseline", "pix2pix"],
):
    """A U-Net that outputs the RGBA pixels of ``num_phases`` frames directly (the pix2pix baseline).

    Args:
        resolution: side ``R`` of the canvas; the frames are painted at ``R x R``.
        block_out_channels: U-Net widths per level; ``R`` must be divisible by ``2 ** (len - 1)``.
        num_phases: ``T``, frames painted per loop (at phases ``2 pi j / T``).
        noise_dim: size of the noise vector ``z``.
        align_corners: used by the upsampling to the output size.
        generator_type: ``"pix2pix"``, recorded in config.json.
    """

    def __init__(
        self,
        *,
        resolution: int = 64,
        block_out_channels: tuple[int, ...] = (32, 64, 128, 256),
        num_phases: int = 16,
        noise_dim: int = 16,
        align_corners: bool = False,
        generator_type: str = "pix2pix",
    ) -> None:
        super().__init__()
        block_out_channels = tuple(block_out_channels)  # config.json hands back a list
        _check_common("Pix2PixGenerator", generator_type, "pix2pix", resolution, block_out_channels, num_phases, noise_dim)
        self.resolution = resolution
        self.num_phases = num_phases
        self.noise_dim = noise_dim
        self.align_corners = align_corners
        self.unet = UNet(in_channels=5, block_out_channels=block_out_channels, cond_dim=noise_dim)
        self.head = nn.Conv2d(block_out_channels[0], num_phases * 4, 3, padding=1)

    def forward(self, image: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """All painted frames: ``(B, 4, R, R)`` premultiplied -> ``(B, T, 4, R, R)`` premultiplied."""
        _, levels, _ = self.encode(image, noise)
        straight = torch.sigmoid(self.head(levels[-1])).unflatten(1, (self.num_phases, 4))  # (B, T, 4, R, R)
        rgb, alpha = straight.split((3, 1), dim=2)
        return torch.cat((rgb * alpha, alpha), dim=2)

    def forward_frames(self, image: torch.Tensor, phases: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Frames at the nearest painted phase: ``phases (B, S)`` -> ``(B, S, 4, R, R)``."""
        return _pick(self(image, noise), nearest_phase_index(phases, self.num_phases))

    def render_frames(
        self, canvas, image, box, *, num_frames, strength, noise, mode, out_size, has_alpha, hard_layers=False
    ) -> Iterator[np.ndarray]:
        painted = self(canvas, noise)[0]  # (T, 4, R, R)
        painted = canvas + strength * (painted - canvas)  # strength 0 gives the still image back
        left, top, bw, bh = box
        crop = _clamp_premultiplied(painted[:, :, top : top + bh, left : left + bw], dim=1)
        out_w, out_h = out_size
        index = nearest_phase_index(frame_phases(num_frames), self.num_phases)
        for t in index.tolist():
            frame = crop[t : t + 1]
            if mode == "nearest":
                frame = F.interpolate(frame, size=(out_h, out_w), mode="nearest")
            else:
                frame = F.interpolate(frame, size=(out_h, out_w), mode="bilinear", align_corners=self.align_corners)
            yield io.from_tensor(_clamp_premultiplied(frame[0], dim=0))


class STNGenerator(
    Generator,
    PyTorchModelHubMixin,
    library_name="still2motion",
    pipeline_tag="image-to-video",
    license="apache-2.0",
    tags=["image-to-video", "animation", "baseline", "spatial-transformer"],
):
    """A U-Net that outputs ``num_phases`` affine transforms and warps the input (the STN baseline).

    Args:
        resolution: side ``R`` of the canvas the network sees.
        block_out_channels: U-Net widths per level; ``R`` must be divisible by ``2 ** (len - 1)``.
        num_phases: ``T``, transforms per loop (at phases ``2 pi j / T``).
        noise_dim: size of the noise vector ``z``.
        align_corners: used by every ``grid_sample``.
        generator_type: ``"stn"``, recorded in config.json.
    """

    def __init__(
        self,
        *,
        resolution: int = 64,
        block_out_channels: tuple[int, ...] = (32, 64, 128, 256),
        num_phases: int = 16,
        noise_dim: int = 16,
        align_corners: bool = False,
        generator_type: str = "stn",
    ) -> None:
        super().__init__()
        block_out_channels = tuple(block_out_channels)  # config.json hands back a list
        _check_common("STNGenerator", generator_type, "stn", resolution, block_out_channels, num_phases, noise_dim)
        self.resolution = resolution
        self.num_phases = num_phases
        self.noise_dim = noise_dim
        self.align_corners = align_corners
        self.unet = UNet(in_channels=5, block_out_channels=block_out_channels, cond_dim=noise_dim)
        self.theta_head = nn.Sequential(
            nn.Linear(block_out_channels[-1] + noise_dim, 256), nn.SiLU(), nn.Linear(256, num_phases * 6)
        )
        nn.init.zeros_(self.theta_head[-1].weight)  # identity transforms: an untrained model returns the still image
        nn.init.zeros_(self.theta_head[-1].bias)

    def forward(self, image: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """``theta - I`` per painted phase, in canvas coordinates: ``(B, 4, R, R)`` -> ``(B, T, 2, 3)``."""
        bottleneck, _, noise = self.encode(image, noise)
        pooled = torch.cat((bottleneck.mean(dim=(2, 3)), noise), dim=1)
        return self.theta_head(pooled).view(image.shape[0], self.num_phases, 2, 3)

    def warp(self, image: torch.Tensor, delta: torch.Tensor, box, *, out_size=None, mode: str = "bilinear") -> torch.Tensor:
        """Warps ``image (B, 4, H, W)`` placed at ``box`` with ``theta = I + delta (B, S, 2, 3)``: ``(B, S, 4, h, w)``."""
        B, _, H, W = image.shape
        S = delta.shape[1]
        out_w, out_h = out_size or (W, H)
        q = pixel_canvas_coords(out_w, out_h, box, self.resolution, device=image.device).to(delta.dtype)  # (h, w, 2)
        theta = delta + torch.eye(2, 3, dtype=delta.dtype, device=delta.device)
        src = torch.einsum("bsij,hwj->bshwi", theta[..., :2], q) + theta[..., 2][:, :, None, None, :]  # (B, S, h, w, 2)
        grid = canvas_to_grid(src, box, self.resolution).to(image.dtype)
        stacked = image.unsqueeze(1).expand(B, S, *image.shape[1:]).flatten(0, 1)  # (B*S, 4, H, W)
        warped = F.grid_sample(stacked, grid.flatten(0, 1), mode=mode, padding_mode="zeros", align_corners=self.align_corners)
        return _clamp_premultiplied(warped.unflatten(0, (B, S)), dim=2)

    def forward_frames(self, image: torch.Tensor, phases: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Frames at the nearest predicted phase: ``phases (B, S)`` -> ``(B, S, 4, R, R)``."""
        delta = _pick(self(image, noise), nearest_phase_index(phases, self.num_phases))  # (B, S, 2, 3)
        return self.warp(image, delta, (0, 0, self.resolution, self.resolution))

    def render_frames(
        self, canvas, image, box, *, num_frames, strength, noise, mode, out_size, has_alpha, hard_layers=False
    ) -> Iterator[np.ndarray]:
        delta = self(canvas, noise) * strength  # (1, T, 2, 3)
        index = nearest_phase_index(frame_phases(num_frames), self.num_phases)
        for t in index.tolist():
            frame = self.warp(image, delta[:, t : t + 1], box, out_size=out_size, mode=mode)
            yield io.from_tensor(frame[0, 0])


GENERATORS: dict[str, type[Generator]] = {**SHIPPED, "pix2pix": Pix2PixGenerator, "stn": STNGenerator}


def load_generator(model, *, map_location: str = "cpu", **hub_kwargs) -> Generator:
    """``still2motion.load_model`` that also knows the two earlier designs (config.json's ``generator_type``)."""
    return load_model(model, map_location=map_location, generators=GENERATORS, **hub_kwargs)
