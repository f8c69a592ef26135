"""``Still2Motion``: a U-Net that predicts how the pixels of a still image move in one seamless loop.

For each of ``K`` depth-ordered layers (layer 0 at the back) it predicts a soft mask and a periodic trajectory (an affine
matrix and a coarse dense flow, each a short Fourier series in the loop phase). ``motion.py`` renders it at any
resolution by warping the input: pixels are moved, never repainted.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .drawing import keep_drawing
from .generator import Generator
from .motion import Motion, render_canvas, shown_motion
from .rendering import render_motion
from .unet import UNet
from .vocab_head import VocabHead


def check_noise_scale(value) -> float:
    """``value`` as a seed-noise spread, or a ``ValueError`` naming it (the one check: config, evaluate overrides)."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10):
        raise ValueError(f"noise_scale must be a number in [0, 10], got {value!r}")
    return float(value)


def silhouette_view(image: torch.Tensor) -> torch.Tensor:
    """Premultiplied ``(B, 4, R, R)`` with its colours replaced by flat grey under its alpha: the silhouette alone."""
    return torch.cat((0.5 * image[:, 3:].expand(-1, 3, -1, -1), image[:, 3:]), dim=1)


class Still2Motion(
    Generator,
    PyTorchModelHubMixin,
    library_name="still2motion",
    pipeline_tag="image-to-video",
    license="apache-2.0",
    tags=["image-to-video", "animation", "sprites", "looping"],
):
    """The periodic-warp generator.

    Args:
        resolution: side ``R`` of the square canvas the network sees (the input is letterboxed into it).
        block_out_channels: U-Net widths per level; ``R`` must be divisible by ``2 ** (len - 1)``.
        num_layers: ``K``, depth-ordered layers that move independently (layer 0 at the back: an opaque picture's
            background, or the larger part of a sprite; higher layers are parts in front of it).
        num_harmonics: ``M``, Fourier harmonics per trajectory.
        flow_downsample: the coarse flow is predicted at ``R / flow_downsample`` (a power of two).
        noise_dim: size of the noise vector ``z`` drawn from the seed.
        align_corners: used by every ``grid_sample`` / ``interpolate``.
        generator_type: recorded in config.json so loaders know which class to build.
        vocabulary_size: ``V`` > 0 replaces the coefficient heads' output with a motion vocabulary
            (``vocab_head.py``: scores over ``2 V`` table entries and a small residual; seeds sample the scores).
            0 (configs saved before it: the default) keeps coefficient regression.
        motion_scale: amplitude calibration applied when animating (``animate``'s ``strength`` multiplies it), chosen
            on the val split after training (``train/ship/ship.py --motion_scale``); training never sees it.
        seed_zero: with a vocabulary, what zero noise (seed 0) animates with: ``"vocabulary"`` (the most likely
            entry) or ``"coefficients"`` (the coefficient heads, as a model without a vocabulary does; other seeds
            still sample the vocabulary: one best guess, then distinct real motions).
        noise_scale: the seeds' noise ``z`` is drawn with this standard deviation (training draws 1). Above 1 the
            seeds differ more; chosen on val like ``motion_scale``.
        silhouette_only: the network reads the input's silhouette alone (its colours flat grey under the alpha;
            ``silhouette_view``), so no art style can change the motion it predicts; it still warps the real picture.
            Trained with ``research/train.py --colour_dropout 1``.
        vocab_top_p: with a vocabulary, seeds sample only the most likely classes that hold this much of the
            probability (nucleus sampling); 1 samples every class. Rare classes can hold motions that tear an unfamiliar
            silhouette.
    """

    # keys added after models were saved: older configs load with their defaults
    added_config_keys = ("motion_scale", "vocabulary_size", "seed_zero", "noise_scale", "vocab_top_p",
                         "silhouette_only")

    def __init__(
        self,
        *,
        resolution: int = 64,
        block_out_channels: tuple[int, ...] = (32, 64, 128, 256),
        num_layers: int = 2,
        num_harmonics: int = 3,
        flow_downsample: int = 4,
        noise_dim: int = 16,
        align_corners: bool = False,
        generator_type: str = "still2motion",
        motion_scale: float = 1.0,
        vocabulary_size: int = 0,
        seed_zero: str = "vocabulary",
        noise_scale: float = 1.0,
        vocab_top_p: float = 1.0,
        silhouette_only: bool = False,
    ) -> None:
        super().__init__()
        block_out_channels = tuple(block_out_channels)  # config.json hands back a list
        depth = len(block_out_channels) - 1
        if not (isinstance(motion_scale, (int, float)) and 0 < motion_scale <= 10):
            raise ValueError(f"motion_scale must be a number in (0, 10], got {motion_scale!r}")
        noise_scale = check_noise_scale(noise_scale)
        if generator_type != "still2motion":
            raise ValueError(f"generator_type must be 'still2motion' for Still2Motion, got {generator_type!r}")
        if depth < 1 or resolution % (2**depth):
            raise ValueError(
                f"resolution must be divisible by 2 ** (len(block_out_channels) - 1) = {2 ** max(depth, 0)}, "
                f"got resolution={resolution}, block_out_channels={block_out_channels}"
            )
        if flow_downsample < 1 or flow_downsample & (flow_downsample - 1) or flow_downsample > 2**depth:
            raise ValueError(f"flow_downsample must be a power of two <= {2 ** depth}, got {flow_downsample}")
        if num_layers < 1 or num_harmonics < 1 or noise_dim < 1:
            raise ValueError(
                f"num_layers, num_harmonics and noise_dim must be >= 1, got {num_layers}, {num_harmonics}, {noise_dim}"
            )
        self.resolution = resolution
        self.num_layers = num_layers
        self.num_harmonics = num_harmonics
        self.noise_dim = noise_dim
        self.align_corners = align_corners
        self.motion_scale = float(motion_scale)
        self.noise_scale = noise_scale
        self.flow_level = depth - 1 - flow_downsample.bit_length() + 1  # decoder level at R / flow_downsample

        K, M = num_layers, num_harmonics
        self.unet = UNet(in_channels=5, block_out_channels=block_out_channels, cond_dim=noise_dim)
        flow_channels = block_out_channels[depth - 1 - self.flow_level] if self.flow_level >= 0 else block_out_channels[-1]
        self.affine_head = nn.Sequential(
            nn.Linear(block_out_channels[-1] + noise_dim, 256), nn.SiLU(), nn.Linear(256, K * 6 * M * 2)
        )
        self.flow_head = nn.Conv2d(flow_channels, K * 2 * M * 2, 3, padding=1)
        self.mask_head = nn.Conv2d(block_out_channels[0], K, 3, padding=1)
        for head in (self.affine_head[-1], self.flow_head, self.mask_head):
            nn.init.zeros_(head.weight)  # an untrained model returns the still image
            nn.init.zeros_(head.bias)
        if not isinstance(vocabulary_size, int) or isinstance(vocabulary_size, bool) or vocabulary_size < 0:
            raise ValueError(f"vocabulary_size must be an integer >= 0, got {vocabulary_size!r}")
        self.vocabulary_size = vocabulary_size
        if seed_zero not in ("vocabulary", "coefficients"):
            raise ValueError(f"seed_zero must be 'vocabulary' or 'coefficients', got {seed_zero!r}")
        self.seed_zero = seed_zero
        if not isinstance(silhouette_only, bool):
            raise ValueError(f"silhouette_only must be true or false, got {silhouette_only!r}")
        self.silhouette_only = silhouette_only
        if isinstance(vocab_top_p, bool) or not (isinstance(vocab_top_p, (int, float)) and 0 < vocab_top_p <= 1):
            raise ValueError(f"vocab_top_p must be a number in (0, 1], got {vocab_top_p!r}")
        if self.vocabulary_size:  # issue 19: score a table of real motions instead of regressing coefficients
            self.vocab_head = VocabHead(block_out_channels[-1], self.vocabulary_size, K, M, top_p=vocab_top_p)

    def forward(
        self, image: torch.Tensor, noise: torch.Tensor | None = None, has_alpha: torch.Tensor | None = None
    ) -> Motion:
        """Predicts the motion of letterboxed images.

        Args:
            image: ``(B, 4, R, R)`` premultiplied RGBA in ``[0, 1]``.
            noise: ``(B, noise_dim)``; zeros when omitted.
            has_alpha: ``(B,)``, 1 where the original image had transparency; ones when omitted.

        Returns:
            ``Motion`` with masks ``(B, K, R, R)``, affine ``(B, K, 6, M, 2)``, flow ``(B, K, 2, M, 2, Hf, Wf)``.
        """
        if self.vocabulary_size and not self._coefficient_seed(noise):
            # the class is drawn from the unscaled draw (u = Phi(z), uniform): noise_scale widens the coefficient
            # seeds but must not push u to 0 or 1, where the rare classes lie
            unscaled = None if noise is None else noise / self.noise_scale
            return self.forward_vocab(image, unscaled, has_alpha)[2]
        bottleneck, levels, noise = self.encode(self._seen(image), noise, has_alpha)
        B, K, M = image.shape[0], self.num_layers, self.num_harmonics
        pooled = torch.cat((bottleneck.mean(dim=(2, 3)), noise), dim=1)
        affine = self.affine_head(pooled).view(B, K, 6, M, 2)
        flow_features = levels[self.flow_level] if self.flow_level >= 0 else bottleneck
        flow = self.flow_head(flow_features)  # (B, K*2*M*2, Hf, Wf)
        flow = flow.view(B, K, 2, M, 2, *flow.shape[-2:])
        masks = torch.softmax(self.mask_head(levels[-1]), dim=1)  # (B, K, R, R)
        return Motion(masks=masks, affine=affine, flow=flow)

    def _seen(self, image: torch.Tensor) -> torch.Tensor:
        """What the network reads of ``image``: itself, or with ``silhouette_only`` its silhouette."""
        return silhouette_view(image) if self.silhouette_only else image

    def _coefficient_seed(self, noise: torch.Tensor | None) -> bool:
        """Whether a vocabulary model animates this noise with its coefficient heads (``seed_zero="coefficients"``
        and zero noise); a batch mixing zero and non-zero noise is refused (the two motions have other shapes)."""
        if self.seed_zero != "coefficients":
            return False
        if noise is None:
            return True
        zero = (noise == 0).all(dim=1)
        if zero.any() and not zero.all():
            raise ValueError("seed_zero='coefficients' needs a batch of all-zero or all-non-zero noise, got both")
        return bool(zero.all())

    def forward_vocab(
        self, image: torch.Tensor, noise: torch.Tensor | None = None, has_alpha: torch.Tensor | None = None,
        classes: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, Motion]:
        """With ``vocabulary_size`` > 0: ``(logits (B, 2V), residual (B, 6), motion)`` (``vocab_head.VocabHead``).

        The scores see the image only (the U-Net runs with zero noise), so every seed samples one distribution;
        ``noise`` picks the class (zero noise: the most likely) unless ``classes (B,)`` are given (training).
        """
        if not self.vocabulary_size:
            raise ValueError("forward_vocab needs a model built with vocabulary_size > 0, got 0")
        bottleneck, _, _ = self.encode(self._seen(image), image.new_zeros(image.shape[0], self.noise_dim), has_alpha)
        noise = image.new_zeros(image.shape[0], self.noise_dim) if noise is None else noise
        return self.vocab_head(bottleneck.mean(dim=(2, 3)), image, noise, classes)

    def sample_noise(self, seed: int, batch_size: int = 1) -> torch.Tensor:
        """The noise for a seed (standard deviation ``noise_scale``); with a vocabulary, seed 0 is zero noise: the most
        likely motion."""
        if self.vocabulary_size and seed == 0:
            return torch.zeros(batch_size, self.noise_dim)
        return super().sample_noise(seed, batch_size) * self.noise_scale

    def forward_frames(
        self, image: torch.Tensor, phases: torch.Tensor, noise: torch.Tensor | None = None, motion: Motion | None = None
    ) -> torch.Tensor:
        """Differentiable frames at the canvas resolution, for training.

        Args:
            image: ``(B, 4, R, R)`` premultiplied letterboxed inputs.
            phases: ``(B, S)`` loop phases to render.
            noise: ``(B, noise_dim)`` or ``None``.
            motion: precomputed ``self(image, noise)`` (to reuse it for other losses).

        Returns:
            ``(B, S, 4, R, R)``.
        """
        motion = motion if motion is not None else self(image, noise)
        return render_canvas(image, motion, phases, align_corners=self.align_corners)

    def predict_motion(self, canvas: torch.Tensor, noise: torch.Tensor, has_alpha: bool) -> Motion:
        return self(canvas, noise, canvas.new_tensor([float(has_alpha)])).scaled(self.motion_scale)

    def auto_motion(self, canvas, box, *, strength, noise, out_size, has_alpha, hard_layers=False,
                    num_frames: int | None = None) -> Motion:
        """The motion ``render_frames`` renders (before framing): the learned layers at ``strength``, limited to the
        harmonics ``num_frames`` frames can show (``motion.band_limited``; ``None``: all), as one near-rigid warp whose
        Jacobian is bounded (``drawing.keep_drawing``), so the drawing stays a drawing."""
        motion = self.predict_motion(canvas, noise, has_alpha).scaled(strength)
        motion = shown_motion(motion, num_frames)
        return keep_drawing(motion, canvas, box, out_size=out_size, pixel_art=hard_layers)

    def render_frames(
        self, canvas, image, box, *, num_frames, strength, noise, mode, out_size, has_alpha, hard_layers=False
    ) -> Iterator[np.ndarray]:
        motion = self.auto_motion(canvas, box, strength=strength, noise=noise, out_size=out_size, has_alpha=has_alpha,
                                  hard_layers=hard_layers, num_frames=num_frames)
        yield from render_motion(
            image, canvas, motion, box, canvas_size=self.resolution, num_frames=num_frames, out_size=out_size,
            mode=mode, align_corners=self.align_corners, hard_layers=hard_layers,
        )
