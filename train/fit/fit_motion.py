"""Stage 1: fit each real loop's periodic motion by gradient descent, and cache it.

For every sequence, masks, affine and coarse-flow Fourier coefficients (the exact parameterisation and canvas
coordinates of ``still2motion/motion.py``) are optimised so that warping frame 0 reproduces the loop's frames at their
phases ``2 pi t / N``. The result is our own "ground-truth motion" per clip: the generator then learns to *predict* it
from one frame (``train.py --motion_targets``), and ``evaluate.py --baseline random-motion`` borrows it. How well the
fit reconstructs the real loops is the ceiling of what warping can express on this data; it is printed and stored.

    python train/fit/fit_motion.py --data_dir ~/.cache/still2motion/data --split train,val \\
        --output ~/.cache/still2motion/motions.safetensors
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

if __package__ in (None, ""):  # run as a script: import `train` from the repo root (train/train.py would shadow it)
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from still2motion import io  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from still2motion.motion import Motion, layer_images, render  # noqa: E402
from train.losses import front_share_prior  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, help="prepared ROOT, a pack, or a folder of animations")
    p.add_argument("--split", default="train,val", help="comma-separated splits to fit")
    p.add_argument("--output", required=True, help="motion-targets .safetensors file to write")
    p.add_argument("--fit_resolution", type=int, default=32, help="canvas size used for fitting (motion is resolution-free)")
    p.add_argument("--num_layers", type=int, default=2)
    p.add_argument("--num_harmonics", type=int, default=3)
    p.add_argument("--flow_size", type=int, default=16, help="coarse flow grid (the model predicts it at R / flow_downsample)")
    p.add_argument("--mask_size", type=int, default=16)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--learning_rate", type=float, default=0.03)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--lambda_smooth", type=float, default=0.05, help="flow smoothness weight")
    p.add_argument("--lambda_flow", type=float, default=0.01, help="flow magnitude weight (prefer affine motion)")
    p.add_argument("--lambda_front_share", type=float, default=0.1,
                   help="hinge on front layers covering more than half the silhouette (layer 0 is the back)")
    p.add_argument("--max_sequences", type=int, default=None)
    p.add_argument("--max_frames", type=int, default=32, help="longer loops are fitted on evenly spaced frames")
    return p.parse_args(argv)


def load_clips(data_dir: str, split: str, resolution: int, max_sequences: int | None, max_frames: int, every: int = 1,
               shard: tuple[int, int] = (0, 1)):
    """The sequences of a split (every ``every``-th, at most ``max_sequences``; of those the ``k``-th of every ``n``
    for ``shard = (k, n)``) as ``(seq, source, frames (N, 4, R, R) premultiplied, phases (N,))``."""
    ds = open_dataset(data_dir, split, resolution=resolution, augment=False)
    indices = list(range(0, len(ds), max(1, every)))[:max_sequences][shard[0]::shard[1]]
    clips = []
    for i in tqdm(indices, desc=f"loading {split}", unit="seq", disable=None):
        n = ds.num_frames(i)
        which = list(range(n)) if n <= max_frames else [round(t * n / max_frames) for t in range(max_frames)]
        frames = torch.stack([io.to_tensor(f) for f in ds.frames(i, which)])
        phases = torch.tensor(which, dtype=torch.float32) * (2 * math.pi / n)
        seq, source = ds.meta(i)
        clips.append((seq, source, frames, phases))
    return clips


def parse_shard(value: str) -> tuple[int, int]:
    """``--shard K/N`` (``load_clips``' ``shard``): keep the K-th of every N selected loops."""
    try:
        k, n = (int(v) for v in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be K/N, got {value!r}") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"needs 0 <= K < N, got {value!r}")
    return k, n


def scored_every(data_dir: str, split: str, resolution: int, max_sequences: int | None, every: int = 1) -> int:
    """``every``, raised to ``ceil(n / max_sequences)`` for a split of ``n`` sequences: with it ``load_clips`` loads
    the loops that ``evaluate.py --max_sequences N`` scores (every k-th)."""
    if not max_sequences:
        return every
    n = len(open_dataset(data_dir, split, resolution=resolution))
    return max(every, -(-n // max_sequences))


def _smoothness(flow: torch.Tensor) -> torch.Tensor:
    return (flow.diff(dim=-1).abs().mean() + flow.diff(dim=-2).abs().mean()) / 2


def initial_mask_logits(first: torch.Tensor, num_layers: int, size: int) -> torch.Tensor:
    """Starting mask logits ``(B, K, size, size)`` for first frames ``(B, 4, R, R)``: layer 0 (the back) everywhere
    but one front part.

    A sprite's front part starts as the upper 40 % of its silhouette (a head and shoulders in front of the body), an
    opaque picture's as a central disc of radius 1/2 (the subject in front of the background). These only break the
    layers' symmetry (the fit moves the masks), but they start the layers as depth-ordered parts, never as
    "front = alpha". More front layers start as random splits of that part.
    """
    B = first.shape[0]
    alpha = F.interpolate(first[:, 3:].float(), size=(size, size), mode="area")[:, 0]  # (B, s, s)
    rows = torch.arange(size, dtype=torch.float32)
    occupied = (alpha > 0.1).any(dim=2)  # (B, s)
    top = torch.where(occupied.any(dim=1), occupied.float().argmax(dim=1), 0).float()
    bottom = torch.where(occupied.any(dim=1), size - 1 - occupied.flip(1).float().argmax(dim=1), size - 1).float()
    cut = top + 0.4 * (bottom - top + 1)  # (B,)
    upper = (2 * (cut[:, None] - rows - 0.5)).clamp(-4, 4)[:, :, None].expand(B, size, size)  # (B, s, s)
    c = torch.linspace(-1 + 1 / size, 1 - 1 / size, size)
    radius = (c[None, :] ** 2 + c[:, None] ** 2).sqrt()
    disc = (8 * (0.5 - radius)).clamp(-4, 4).expand(B, size, size)
    opaque = alpha.flatten(1).amin(dim=1) > 0.99
    front = torch.where(opaque[:, None, None], disc, upper)  # (B, s, s)
    logits = torch.zeros(B, num_layers, size, size)
    if num_layers > 1:
        noise = torch.randn(B, num_layers - 1, size, size, generator=torch.Generator().manual_seed(0))
        logits[:, 1:] = front[:, None] + (noise if num_layers > 2 else 0)
    return logits


def fit_batch(frames: torch.Tensor, phases: torch.Tensor, valid: torch.Tensor, args) -> tuple[Motion, torch.Tensor]:
    """Fits ``B`` clips at once. ``frames (B, T, 4, R, R)``, ``phases (B, T)``, ``valid (B, T)`` (padding = 0).

    Returns the motion and the per-clip L1 of the fit over frames 1..T-1.
    """
    B, T, _, R, _ = frames.shape
    K, M = args.num_layers, args.num_harmonics
    logits = initial_mask_logits(frames[:, 0], K, args.mask_size).requires_grad_(True)
    affine = torch.zeros(B, K, 6, M, 2, requires_grad=True)
    flow = torch.zeros(B, K, 2, M, 2, args.flow_size, args.flow_size, requires_grad=True)
    opt = torch.optim.Adam([logits, affine, flow], lr=args.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    box = (0, 0, R, R)
    source, target = frames[:, 0], frames
    weight = valid[:, :, None, None, None].float()
    for _ in range(args.steps):
        motion = Motion(torch.softmax(logits, dim=1), affine, flow)
        layers = layer_images(source, motion.masks, box, R, False)
        pred = render(layers, motion, phases, box=box, canvas_size=R)
        l1 = ((pred - target).abs() * weight).sum() / (weight.sum() * 4 * R * R)
        loss = l1 + args.lambda_smooth * _smoothness(flow) + args.lambda_flow * flow.abs().mean()
        loss = loss + args.lambda_front_share * front_share_prior(motion.masks, source)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        motion = Motion(torch.softmax(logits, dim=1), affine, flow).detach()
        pred = render(layer_images(source, motion.masks, box, R, False), motion, phases, box=box, canvas_size=R)
        per_clip = ((pred - target).abs() * weight).sum(dim=(1, 2, 3, 4)) / (weight.sum(dim=(1, 2, 3, 4)) * 4 * R * R)
    return motion, per_clip


def fit_all(clips, args, fit=None, extras: dict | None = None) -> tuple[Motion, torch.Tensor, torch.Tensor]:
    """Fits every clip, batching clips of similar length; returns motions, fitted L1 and static L1 in clip order.

    ``fit`` is ``fit_batch`` by default; another fit (``train/fit/coherent_fit.py``) may return a third value, a dict of
    per-clip tensors ``(B, ...)``, which are gathered in clip order into ``extras`` when it is given.
    """
    fit = fit or fit_batch
    order = sorted(range(len(clips)), key=lambda i: clips[i][2].shape[0])
    results: dict[int, tuple] = {}
    bar = tqdm(total=len(clips), desc="fitting", unit="seq", disable=None)
    for start in range(0, len(order), args.batch_size):
        idx = order[start : start + args.batch_size]
        T = max(clips[i][2].shape[0] for i in idx)
        R = clips[idx[0]][2].shape[-1]
        frames = torch.zeros(len(idx), T, 4, R, R)
        phases = torch.zeros(len(idx), T)
        valid = torch.zeros(len(idx), T, dtype=torch.bool)
        for b, i in enumerate(idx):
            f, ph = clips[i][2], clips[i][3]
            frames[b, : len(f)], phases[b, : len(f)], valid[b, 1 : len(f)] = f, ph, True
            frames[b, len(f) :] = f[0]
        motion, l1, *more = fit(frames, phases, valid, args)
        w = valid[:, :, None, None, None].float()
        static = ((frames - frames[:, :1]).abs() * w).sum(dim=(1, 2, 3, 4)) / (w.sum(dim=(1, 2, 3, 4)) * 4 * R * R)
        for b, i in enumerate(idx):
            results[i] = (Motion(motion.masks[b], motion.affine[b], motion.flow[b]), l1[b], static[b],
                          {k: v[b] for k, v in (more[0] if more else {}).items()})
        bar.update(len(idx))
    bar.close()
    rows = [results[i] for i in range(len(clips))]
    if extras is not None and rows:
        extras.update({k: torch.stack([r[3][k] for r in rows]) for k in rows[0][3]})
    motion = Motion(*(torch.stack([getattr(r[0], k) for r in rows]) for k in ("masks", "affine", "flow")))
    return motion, torch.stack([r[1] for r in rows]), torch.stack([r[2] for r in rows])


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    started = time.time()
    seqs, sources, motions, fitted, static, splits = [], [], [], [], [], []
    for split in args.split.split(","):
        clips = load_clips(args.data_dir, split, args.fit_resolution, args.max_sequences, args.max_frames)
        if not clips:
            print(f"error: split {split!r} of {args.data_dir} has no sequences", file=sys.stderr)
            return 1
        motion, l1, st = fit_all(clips, args)
        seqs += [c[0] for c in clips]
        sources += [c[1] for c in clips]
        splits += [split] * len(clips)
        motions.append(motion)
        fitted.append(l1)
        static.append(st)
        ratio = (l1.mean() / st.mean().clamp_min(1e-12)).item()
        alive = (st > 1e-4).float()
        print(f"{split}: {len(clips)} loops, fitted L1 {l1.mean():.5f} vs static {st.mean():.5f} "
              f"(ratio {ratio:.3f}; median per-loop ratio {(l1 / st.clamp_min(1e-9))[alive.bool()].median():.3f})")
    motion = Motion(*(torch.cat([getattr(m, k) for m in motions]) for k in ("masks", "affine", "flow")))
    config = {k: getattr(args, k) for k in ("fit_resolution", "num_layers", "num_harmonics", "flow_size", "mask_size", "steps", "learning_rate", "lambda_smooth", "lambda_flow", "lambda_front_share")}
    config.update(resolution=args.fit_resolution, data_dir=str(args.data_dir), splits=splits, sources=sources,
                  seconds=round(time.time() - started, 1))
    out = Path(args.output).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_targets(out, seqs, motion, config, extra={"l1": torch.cat(fitted), "static_l1": torch.cat(static)})
    print(f"wrote {out} ({len(seqs)} loops) in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
