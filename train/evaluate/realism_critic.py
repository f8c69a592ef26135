"""The pixel half of the realism test: a small 3D-conv critic on real vs generated loops.

Every loop, real or generated, goes through the same path: letterboxed to ``size x size`` (``io.letterbox``, as
training does), premultiplied RGBA, resampled to ``T`` frames at phases ``2 pi t / T`` (the nearest frame: no
blending, so no ghosting is added). Training draws random cyclic shifts, reversals and horizontal flips of each clip,
so the critic cannot win on where a loop starts or which way it plays. It sees what the motion codes cannot: ghosting,
smear, tearing, a frame that is not a warp, but also blur, so report sharpness beside it. With a few hundred clips the
critic's accuracy varies a lot between folds and seeds: read it with its spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from still2motion import io
from train.data.datasets import letterbox_frames
from train.evaluate.realism_cv import FitPredict


@dataclass(kw_only=True)
class CriticConfig:
    size: int = 64  # canvas side the critic sees
    num_frames: int = 8  # T: every loop is resampled to T phases
    width: int = 16  # channels of the first conv; the others double
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 3e-3


def critic_clip(frames: list[np.ndarray], size: int, num_frames: int) -> torch.Tensor:
    """Straight-RGBA ``uint8 (H, W, 4)`` frames of one loop -> ``(4, T, size, size)`` premultiplied float."""
    n = len(frames)
    which = [round(t * n / num_frames) % n for t in range(num_frames)]  # nearest frame to phase 2 pi t / T
    boxed = letterbox_frames([frames[i] for i in which], size)
    return torch.stack([io.to_tensor(f) for f in boxed], dim=1)  # (4, T, S, S)


class Critic(nn.Module):
    """Three strided 3D convs and a linear head: ``(B, 4, T, S, S) -> (B,)`` logits (real > 0).

    The first conv sees each frame next to its change to the next frame (cyclic), so motion is one layer away.
    """

    def __init__(self, *, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(8, width, (3, 4, 4), stride=(1, 4, 4), padding=(1, 0, 0)),  # (B, w, T, S/4, S/4): patchify
            nn.LeakyReLU(0.2),
            nn.Conv3d(width, 2 * width, 3, stride=(1, 2, 2), padding=1),  # (B, 2w, T, S/8, S/8)
            nn.LeakyReLU(0.2),
            nn.Conv3d(2 * width, 2 * width, 3, stride=2, padding=1),  # (B, 2w, T/2, S/16, S/16)
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(2 * width, 1)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        step = clips.roll(-1, dims=2) - clips  # (B, 4, T, S, S): frame t+1 - frame t, around the loop
        h = self.body(torch.cat((clips, step), dim=1)).mean(dim=(2, 3, 4))  # (B, 2w)
        return self.head(h).squeeze(1)


def _augment(clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random cyclic shift, reversal and horizontal flip per clip: ``(B, 4, T, S, S)``."""
    B, _, T = clips.shape[:3]
    shift = torch.randint(0, T, (B,), generator=generator)
    reverse = torch.rand(B, generator=generator) < 0.5
    flip = torch.rand(B, generator=generator) < 0.5
    t = torch.arange(T)
    index = torch.where(reverse[:, None], (shift[:, None] - t) % T, (shift[:, None] + t) % T)  # (B, T)
    out = torch.stack([clips[b][:, index[b]] for b in range(B)])
    return torch.where(flip.view(B, 1, 1, 1, 1), out.flip(-1), out)


def train_critic(clips: torch.Tensor, labels: torch.Tensor, config: CriticConfig, seed: int) -> Critic:
    """Trains a fresh critic on ``clips (N, 4, T, S, S)`` with ``labels (N,)`` (1 = real)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    critic = Critic(width=config.width)
    opt = torch.optim.Adam(critic.parameters(), lr=config.learning_rate, betas=(0.5, 0.999))
    y = labels.float()
    with torch.enable_grad():
        for _ in range(config.epochs):
            order = torch.randperm(len(clips), generator=generator)
            for start in range(0, len(order), config.batch_size):
                idx = order[start : start + config.batch_size]
                loss = F.binary_cross_entropy_with_logits(critic(_augment(clips[idx], generator)), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return critic.eval()


def critic_fit_predict(clips: torch.Tensor, labels: np.ndarray, config: CriticConfig, *, seed: int = 0) -> FitPredict:
    """A ``FitPredict`` (``train/evaluate/realism_cv.py``) that trains a critic per fold and scores the held-out clips."""
    y = torch.as_tensor(np.asarray(labels))
    calls = iter(range(10**9))  # each fold trains from its own seed

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        critic = train_critic(clips[train], y[train], config, seed=seed * 1000 + next(calls))
        with torch.no_grad():
            logits = torch.cat([critic(clips[test[i : i + 64]]) for i in range(0, len(test), 64)])
        return torch.sigmoid(logits).numpy()

    return fit_predict
