"""Motion codes for the realism test: the stage-1 motion fitted to a loop, reduced to numbers a loop's phase and
direction do not change.

A loop is fitted with ``train/fit/fit_motion.py``'s fitter (same parameterisation, same defaults), anchored at its frame
0. A trajectory ``p(phi) = sum_m a_m (cos m phi - 1) + b_m sin m phi`` started at another frame rotates every pair
``(a_m, b_m)`` by ``m`` times the phase shift; played backwards, every ``b_m`` changes sign. So the code keeps only
what survives both, per layer and harmonic ``m``:

- the energy ``a_m^2 + b_m^2`` of each of the 6 affine entries of ``theta - I``;
- the energy of the coarse flow's ``x`` and ``y`` components, pooled over the layer's mask;
- the energy of the flow's spatial differences (rough, incoherent flow is how per-pixel wobble shows up);
- for ``m = 1``, how the translations of the layers move together: with ``c = a_1 + i b_1`` for ``tx`` and ``ty``
  of each layer, ``Re(c_p conj(c_q))`` and ``|Im(c_p conj(c_q))|`` normalised by ``|c_p| |c_q|`` (a line, an
  ellipse, or layers in and out of step).

Energies enter as ``log(sqrt(e) + eps)``. The fit residual is *not* part of the code: every generated loop is a warp,
so it would tell generated loops from real ones however real their motion looks.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math

import numpy as np
import torch
import torch.nn.functional as F

from still2motion import io
from train.data.datasets import letterbox_frames
from still2motion.motion import Motion
from train.fit import fit_motion

logger = logging.getLogger(__name__)

TX, TY = 2, 5  # entries of theta - I (row-major 2 x 3) that translate
EPS = 1e-3  # canvas units: a 32-px canvas pixel is 0.0625


def fitter_args(*, steps: int = 150, fit_resolution: int = 32, batch_size: int = 64, max_frames: int = 32,
                **overrides) -> argparse.Namespace:
    """``train/fit/fit_motion.py``'s arguments with its defaults, so codes and stored motion targets are fitted alike."""
    args = fit_motion.parse_args(["--data_dir", "-", "--output", "-"])
    args.steps, args.fit_resolution, args.batch_size, args.max_frames = steps, fit_resolution, batch_size, max_frames
    for key, value in overrides.items():
        if not hasattr(args, key):
            raise ValueError(f"fit_motion.py has no argument {key!r}")
        setattr(args, key, value)
    return args


def fit_clip(frames: list[np.ndarray], resolution: int, max_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight-RGBA ``uint8 (H, W, 4)`` frames -> ``(frames (N', 4, R, R) premultiplied, phases (N',))``.

    Letterboxed as ``fit_motion.load_clips`` does; loops longer than ``max_frames`` keep evenly spaced frames.
    """
    n = len(frames)
    which = list(range(n)) if n <= max_frames else [round(t * n / max_frames) for t in range(max_frames)]
    boxed = letterbox_frames([frames[i] for i in which], resolution)
    clip = torch.stack([io.to_tensor(f) for f in boxed])  # (N', 4, R, R)
    return clip, torch.tensor(which, dtype=torch.float32) * (2 * math.pi / n)


def fit_codes(clips: list[tuple[torch.Tensor, torch.Tensor]], args: argparse.Namespace) -> np.ndarray:
    """Fits every clip (``fit_clip`` outputs) and returns their codes ``(N, D)``.

    A clip whose frames are all identical has zero motion: its code is that of zero coefficients, with no fit.
    """
    moving = [i for i, (clip, _) in enumerate(clips) if not bool((clip == clip[:1]).all())]
    K, M, R = args.num_layers, args.num_harmonics, args.fit_resolution
    codes = np.tile(motion_code(zero_motion(K, M, args.flow_size, args.mask_size)), (len(clips), 1))
    if moving:
        with torch.enable_grad():
            motion, _, _ = fit_motion.fit_all(
                [(str(i), "", *clips[i]) for i in moving], args)  # (seq, source, frames, phases) as load_clips
        codes[moving] = motion_code(motion)
    logger.debug("fitted %d of %d clips at %d^2 (%d static)", len(moving), len(clips), R, len(clips) - len(moving))
    return codes


def zero_motion(K: int, M: int, flow_size: int, mask_size: int) -> Motion:
    return Motion(torch.full((1, K, mask_size, mask_size), 1.0 / K), torch.zeros(1, K, 6, M, 2),
                  torch.zeros(1, K, 2, M, 2, flow_size, flow_size))


def _log_amplitude(energy: torch.Tensor) -> torch.Tensor:
    return torch.log(energy.clamp_min(0).sqrt() + EPS)


def motion_code(motion: Motion) -> np.ndarray:
    """The phase- and direction-invariant code of fitted motions: ``(B, D)`` float64, ``D = K (6M + 3M) + pairs``."""
    affine, flow, masks = motion.affine.double(), motion.flow.double(), motion.masks.double()
    B, K = affine.shape[:2]
    Hf, Wf = flow.shape[-2:]
    parts = [_log_amplitude(affine.pow(2).sum(-1)).flatten(1)]  # (B, K * 6 * M)
    weight = F.interpolate(masks, size=(Hf, Wf), mode="bilinear", align_corners=False)  # (B, K, Hf, Wf)
    weight = weight / weight.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    flow_energy = flow.pow(2).sum(4)  # (B, K, 2, M, Hf, Wf): a^2 + b^2
    parts.append(_log_amplitude((flow_energy * weight[:, :, None, None]).sum(dim=(-2, -1))).flatten(1))  # (B, K*2*M)
    rough = flow.diff(dim=-1).pow(2).sum(4).mean(dim=(-2, -1)) + flow.diff(dim=-2).pow(2).sum(4).mean(dim=(-2, -1))
    parts.append(_log_amplitude(rough.sum(2)).flatten(1))  # (B, K * M)
    c = torch.complex(affine[:, :, [TX, TY], 0, 0], affine[:, :, [TX, TY], 0, 1]).flatten(1)  # (B, 2K), m = 1
    for p, q in itertools.combinations(range(c.shape[1]), 2):
        z = c[:, p] * c[:, q].conj()
        norm = c[:, p].abs() * c[:, q].abs() + EPS**2
        parts += [(z.real / norm)[:, None], (z.imag.abs() / norm)[:, None]]
    return torch.cat(parts, dim=1).numpy()
