"""Synthetic loops for the realism tests: small sprites that move like animation, and fakes that do not.

A "character" is one random sprite (a blob with a darker outline, a highlight and a second part, on transparency);
each of its loops moves it smoothly and periodically (bob, sway, a circle, a limb swinging), at a random amplitude,
phase and length. Everything is seeded.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from still2motion import io
from train.evaluate.metrics import motion_energy

SIZE = 24  # frame side in pixels


def sprite(rng: np.random.Generator) -> np.ndarray:
    """A straight-RGBA ``uint8 (SIZE, SIZE, 4)`` sprite: an ellipse body with an outline, a head and a highlight."""
    yy, xx = np.mgrid[:SIZE, :SIZE].astype(np.float64)
    img = np.zeros((SIZE, SIZE, 4), np.uint8)
    cx, cy = SIZE / 2 + rng.uniform(-1.5, 1.5), SIZE * 0.6
    rx, ry = rng.uniform(4, 6), rng.uniform(5, 7)
    body = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    colour = rng.integers(60, 230, 3)
    img[body <= 1.0] = (*(colour // 2), 255)
    img[body <= 0.7] = (*colour, 255)
    head = (xx - cx) ** 2 + (yy - (cy - ry - 2)) ** 2 <= rng.uniform(4, 9)
    img[head] = (*rng.integers(60, 230, 3), 255)
    img[int(cy) - 2, int(cx) - 1] = (250, 250, 250, 255)
    return img


def warp(image: np.ndarray, theta: torch.Tensor) -> np.ndarray:
    """``image`` warped by the affine ``theta (2, 3)`` (output -> input, ``[-1, 1]`` coordinates), nearest."""
    x = io.to_tensor(image)[None]
    grid = F.affine_grid(theta[None].float(), [1, 4, SIZE, SIZE], align_corners=False)
    out = F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return io.from_tensor(out)[0]


def real_loop(image: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """One smooth periodic motion of ``image``: ``N`` (4 to 8) straight-RGBA frames, frame 0 the image itself."""
    n = int(rng.integers(4, 9))
    kind = rng.integers(0, 4)
    amp = rng.uniform(0.1, 0.25)
    frames = []
    for t in range(n):
        phi = 2 * math.pi * t / n
        s, c = math.sin(phi), math.cos(phi) - 1
        if kind == 0:  # bob
            theta = [[1, 0, 0], [0, 1, amp * s]]
        elif kind == 1:  # sway about the base
            a = 1.5 * amp * s
            theta = [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), -0.6 * math.sin(a)]]
        elif kind == 2:  # a circle
            theta = [[1, 0, amp * c], [0, 1, amp * s]]
        else:  # squash and stretch
            theta = [[1 + 0.5 * amp * s, 0, 0], [0, 1 - 0.5 * amp * s, 0]]
        frames.append(warp(image, torch.tensor(theta)) if t else image.copy())
    return frames


def characters(count: int, loops_each: int, seed: int = 0) -> list[tuple[str, list[np.ndarray]]]:
    """``count * loops_each`` real loops as ``(character, frames)``."""
    rng = np.random.default_rng(seed)
    out = []
    for c in range(count):
        image = sprite(rng)
        out += [(f"char{c}", real_loop(image, rng)) for _ in range(loops_each)]
    return out


def static_copy(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [frames[0].copy() for _ in frames]


def wobble(frames: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """Frame 0 moved by independent random per-pixel displacements in every frame, scaled (by bisection) so the
    clip's motion energy matches the real loop's: as alive as the real loop, but no coherent motion."""
    gen = torch.Generator().manual_seed(seed)
    x = io.to_tensor(frames[0])[None].expand(len(frames) - 1, 4, SIZE, SIZE)
    noise = torch.randn(len(frames) - 1, SIZE, SIZE, 2, generator=gen)
    base = F.affine_grid(torch.eye(2, 3)[None].expand(len(frames) - 1, 2, 3), [len(frames) - 1, 4, SIZE, SIZE],
                         align_corners=False)
    target = motion_energy(torch.stack([io.to_tensor(f) for f in frames]))

    def make(sigma: float) -> torch.Tensor:
        moved = F.grid_sample(x, base + sigma * noise, mode="nearest", padding_mode="zeros", align_corners=False)
        return torch.cat([io.to_tensor(frames[0])[None], moved])

    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if motion_energy(make(mid)) < target else (lo, mid)
    return list(io.from_tensor(make(hi)))
