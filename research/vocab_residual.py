"""How much a per-loop residual adds to the vocabulary's oracle: fit only what the head would predict.

Starting from each loop's oracle choice (``research/vocab_oracle.py``: entry, anchor, mirror, scale), optimise by
gradient descent, on the loop itself, only the residual a vocabulary head predicts: a log scale, the split height
(added to layer 0's height logits, subtracted from the last layer's), the pivot (moves the affine's pivot by box
heights) and a 4² flow correction over the box. The loss is L1 against the real frames in the phase alignment the
oracle found. It prints, at the selection resolution (32²), the phase-aligned L1 of static, the oracle, the oracle with
this fitted residual and the loop's own coherent fit (the ceiling), so the share of the gap a learned residual could
close is measured before any training.

    python research/vocab_residual.py --oracle ORACLE.safetensors --coherent_fits FITS --data_dir ROOT --split val \\
        [--max_sequences 74] [--steps 60]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from still2motion.motion import layer_images, render  # noqa: E402
from train.fit import silhouette  # noqa: E402
from train.fit.coherent_fit import TX, TY, Coherent, to_motion  # noqa: E402
from train.fit.fit_motion import load_clips, scored_every  # noqa: E402
from train.evaluate.metrics import phase_alignment  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402
from research.vocab_oracle import phase_l1_batch, render_coherent  # noqa: E402

logger = logging.getLogger("vocab_residual")


def fit_residual(c: Coherent, frames: torch.Tensor, phases: torch.Tensor, steps: int, lr: float,
                 with_flow: bool = True) -> float:
    """Phase-aligned L1 of choice ``c (1, ...)`` on ``frames (T, 4, R, R)`` after fitting its residual (the 4² flow
    correction only ``with_flow``)."""
    R = frames.shape[-1]
    with torch.no_grad():
        start = render_coherent(c, frames[0], phases, 16)[0]
    _, shift, reverse = phase_alignment(start, frames)
    T = len(frames)
    t = torch.arange(T)
    order = (shift - t) % T if reverse else (shift + t) % T  # generated[order[t]] is compared with real[t]
    box = silhouette.alpha_box(frames[:1])
    log_scale = torch.zeros(1, requires_grad=True)
    split = torch.zeros(1, requires_grad=True)
    shift_xy = torch.zeros(2, requires_grad=True)  # pivot shift in box heights
    flow = torch.zeros_like(c.flow, requires_grad=True)
    opt = torch.optim.Adam([log_scale, split, shift_xy] + ([flow] if with_flow else []), lr=lr)
    K = c.masks.shape[1]
    tilt = torch.zeros(K)
    if K > 1:
        tilt[0], tilt[-1] = 1.0, -1.0
    source = frames[:1]

    def clip() -> torch.Tensor:
        affine = c.affine * log_scale.exp()
        # moving the pivot by p (box heights) adds -L p h to the translation, in silhouette units -L p
        linear = affine[:, :, [0, 1, 3, 4]].unflatten(2, (2, 2))  # (1, K, 2, 2, M, 2)
        extra = -torch.einsum("bkijmc,j->bkimc", linear, shift_xy)  # (1, K, 2, M, 2)
        affine = affine.clone()
        affine[:, :, [TX, TY]] = affine[:, :, [TX, TY]] + extra
        cc = Coherent(c.masks + split * tilt.view(1, K, 1), affine, (c.flow + flow) * log_scale.exp())
        motion = to_motion(cc, box)
        return render(layer_images(source, motion.masks, (0, 0, R, R), R, False), motion, phases,
                      box=(0, 0, R, R), canvas_size=R)[0]

    best = float(phase_l1_batch(start[None], frames)[0])
    for _ in range(steps):
        gen = clip()
        loss = (gen[order] - frames).abs().mean() + 0.01 * flow.abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        best = min(best, float(phase_l1_batch(clip()[None], frames)[0]))
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--oracle", type=Path, required=True)
    p.add_argument("--coherent_fits", type=Path, required=True, help="coherent_fit.py fits of the same loops")
    p.add_argument("--data_dir", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--max_sequences", type=int, default=None)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--no_flow", action="store_true", help="fit scale, split and pivot only (no flow correction)")
    p.add_argument("--from_still", action="store_true",
                   help="control: start from zero motion (the choice's masks only) instead of the oracle's entry")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.manual_seed(0)
    started = time.time()
    oracle, fits = MotionTargets(args.oracle), MotionTargets(args.coherent_fits)
    every = scored_every(args.data_dir, args.split, 32, args.max_sequences)
    clips = load_clips(args.data_dir, args.split, 32, args.max_sequences, 32, every)
    rows = []
    for seq, _, frames, phases in clips:
        o, f = oracle.tensors, fits.tensors
        i, j = oracle.index[seq], fits.index[seq]
        choice = Coherent(o["c_masks"][i:i + 1], o["c_affine"][i:i + 1], o["c_flow"][i:i + 1])
        if args.from_still:
            choice = Coherent(choice.masks, torch.zeros_like(choice.affine), torch.zeros_like(choice.flow))
        own = Coherent(f["c_masks"][j:j + 1], f["c_affine"][j:j + 1], f["c_flow"][j:j + 1])
        with torch.no_grad():
            ceiling = float(phase_l1_batch(render_coherent(own, frames[0], phases, 16), frames)[0])
        fitted = fit_residual(choice, frames, phases, args.steps, args.learning_rate, not args.no_flow)
        static = float((frames - frames[:1]).abs().mean())
        rows.append((static, float(o["oracle_l1"][i]), fitted, ceiling))
    s, o, r, c = (torch.tensor(x) for x in zip(*rows))
    gap = (s.mean() - c.mean()).item()
    logger.info("%s%s: %d loops at 32²: static %.5f, oracle %.5f (gap closed %.0f %%), oracle + fitted residual %.5f "
                "(%.0f %%), own coherent fit %.5f; %.0f s", args.split,
                " (no flow)" if args.no_flow else " (from still)" if args.from_still else "",
                len(rows), s.mean(), o.mean(),
                100 * (s.mean() - o.mean()).item() / gap, r.mean(), 100 * (s.mean() - r.mean()).item() / gap,
                c.mean(), time.time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
