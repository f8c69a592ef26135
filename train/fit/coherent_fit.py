"""The coherent fit: each loop's motion as few, silhouette-relative parameters a model could predict.

``train/fit/fit_motion.py`` fits a 16² flow per layer at 32²: flexible enough to imitate changes that are not motion. The
coherent fit keeps only what moves a character as a whole or in large parts:

- ``K`` layers whose masks depend on **height** in the alpha silhouette only (``height_bins`` logits per layer, from
  the top of the box to its base; softmax over layers), so a layer is "the legs" or "the head", never a blob;
- per layer an affine trajectory in **silhouette coordinates**: ``u = (x - pivot) / h``, the pivot at the base centre
  of the alpha bounding box and ``h`` its height, so a rotation turns about the feet and a translation of 0.05 is
  5 % of the character's height, whatever its size or place in the canvas;
- per layer a flow of ``flow_size``² (4² by default) spanning the box, in box heights.

These parameters are converted exactly (affine) or by resampling (masks, flow, onto a ``canvas_grid``² map) into the
canvas ``Motion`` of ``still2motion/motion.py`` and fitted through the same renderer as ``fit_motion.py``. The file it
writes is a motion-targets file (``masks``, ``affine``, ``flow``: the canvas motion) plus the silhouette parameters
(``c_masks``, ``c_affine``, ``c_flow``), the box and the silhouette features of frame 0, which ``train/evaluate/retrieval.py``
moves onto another silhouette.

    python train/fit/coherent_fit.py --data_dir ~/.cache/still2motion/data --split unseen-val --output coherent.safetensors
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from still2motion.motion import Motion, layer_images, render  # noqa: E402
from still2motion.silhouette_motion import coherent_motion  # noqa: E402
from train.fit import silhouette  # noqa: E402
from train.fit.fit_motion import fit_all, load_clips, parse_shard, scored_every  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402

A, B_, TX, C, D, TY = range(6)  # row-major 2x3 affine parameters


@dataclass
class Coherent:
    """Silhouette-relative motion of ``B`` loops: ``masks (B, K, Nh)`` logits over height (top to base),
    ``affine (B, K, 6, M, 2)`` in silhouette units, ``flow (B, K, 2, M, 2, F, F)`` over the box, in box heights."""

    masks: torch.Tensor
    affine: torch.Tensor
    flow: torch.Tensor


def to_motion(c: Coherent, boxes: torch.Tensor, canvas_grid: int = 16) -> Motion:
    """The canvas ``Motion`` of coherent parameters placed on silhouettes ``boxes (B, 4)`` (``silhouette.alpha_box``).

    Affine: ``S(x) = x + L (x - pivot) + h t`` in canvas units for ``u -> u + L u + t`` in silhouette units, coefficient
    by coefficient. Masks and flow: their box maps resampled at the centres of a ``canvas_grid``² canvas map (border
    values outside the box). The conversion itself is the package's (``still2motion.silhouette_motion.coherent_motion``), so
    the fits and the vocabulary head place a motion on a silhouette the same way.
    """
    return coherent_motion(c.masks, c.affine, c.flow, boxes, canvas_grid)


def initial(B: int, args) -> Coherent:
    """Zero motion; two layers start as an upper / lower split of the silhouette (as ``fit_motion.py`` does)."""
    K, M, Nh = args.num_layers, args.num_harmonics, args.height_bins
    v = torch.linspace(-1, 1, Nh)
    split = torch.stack([-3 * v, 3 * v]) if K == 2 else torch.zeros(K, Nh)
    return Coherent(split.repeat(B, 1, 1).clone(), torch.zeros(B, K, 6, M, 2),
                    torch.zeros(B, K, 2, M, 2, args.flow_size, args.flow_size))


def fit_coherent_batch(frames: torch.Tensor, phases: torch.Tensor, valid: torch.Tensor, args):
    """Fits ``B`` clips ``(B, T, 4, R, R)`` (``fit_motion.fit_batch``'s contract) with coherent parameters.

    Returns the canvas motion, the per-clip L1 over frames 1..T-1, and ``{"c_masks", "c_affine", "c_flow", "box",
    "features"}`` per clip.
    """
    B, T, _, R, _ = frames.shape
    source = frames[:, 0]
    boxes = silhouette.alpha_box(source)
    c = initial(B, args)
    params = [c.masks.requires_grad_(True), c.affine.requires_grad_(True), c.flow.requires_grad_(True)]
    opt = torch.optim.Adam(params, lr=args.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    box = (0, 0, R, R)
    weight = valid[:, :, None, None, None].float()

    def reconstruct() -> tuple[Motion, torch.Tensor]:
        motion = to_motion(c, boxes, args.canvas_grid)
        pred = render(layer_images(source, motion.masks, box, R, False), motion, phases, box=box, canvas_size=R)
        return motion, (pred - frames).abs() * weight  # (B, T, 4, R, R)

    norm = weight.sum(dim=(1, 2, 3, 4)).clamp_min(1) * 4 * R * R  # (B,)
    # Adam on these few coupled parameters can overshoot: keep each clip's best parameters seen (step 0 is the still
    # image, so a coherent fit is never worse than static)
    best = torch.full((B,), float("inf"))
    kept = [t.detach().clone() for t in params]
    for step in range(args.steps + 1):
        _, err = reconstruct()
        per_clip = err.sum(dim=(1, 2, 3, 4)) / norm
        better = per_clip.detach() < best
        best = torch.where(better, per_clip.detach(), best)
        for keep, t in zip(kept, params):
            keep[better] = t.detach()[better]
        if step == args.steps:
            break
        loss = per_clip.mean() + args.lambda_flow * c.flow.abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    c = Coherent(*kept)
    with torch.no_grad():
        motion, err = reconstruct()
        per_clip = err.sum(dim=(1, 2, 3, 4)) / norm
    extras = {"c_masks": c.masks, "c_affine": c.affine, "c_flow": c.flow, "box": boxes,
              "features": silhouette.features(source)}
    return motion.detach(), per_clip, extras


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, help="prepared ROOT, a pack, or a folder of animations")
    p.add_argument("--split", default="unseen-val", help="comma-separated splits to fit")
    p.add_argument("--output", required=True, help="coherent motion-targets .safetensors file to write")
    p.add_argument("--every", type=int, default=1, help="fit every k-th sequence of each split")
    p.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="K/N",
                   help="fit the K-th of every N selected loops (run N processes; research/train.py --loop_kinds and "
                        "--motion_targets read the N files together)")
    p.add_argument("--max_sequences", type=int, default=None,
                   help="at most N sequences per split, every k-th (the ones evaluate.py --max_sequences N scores)")
    p.add_argument("--fit_resolution", type=int, default=32)
    p.add_argument("--num_layers", type=int, default=2)
    p.add_argument("--num_harmonics", type=int, default=3)
    p.add_argument("--flow_size", type=int, default=4, help="flow grid over the silhouette box (4 or coarser)")
    p.add_argument("--height_bins", type=int, default=8, help="mask logits per layer, top to base of the box")
    p.add_argument("--canvas_grid", type=int, default=16, help="size of the canvas maps the motion is written as")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--lambda_flow", type=float, default=0.01, help="flow magnitude weight (prefer affine motion)")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--max_frames", type=int, default=32, help="longer loops are fitted on evenly spaced frames")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.flow_size > 4:
        raise SystemExit(f"coherent_fit.py: error: --flow_size must be 4 or coarser, got {args.flow_size}")
    torch.manual_seed(0)
    started = time.time()
    seqs, sources, splits, motions, fitted, static = [], [], [], [], [], []
    extras: dict[str, list[torch.Tensor]] = {}
    for split in args.split.split(","):
        every = scored_every(args.data_dir, split, args.fit_resolution, args.max_sequences, args.every)
        clips = load_clips(args.data_dir, split, args.fit_resolution, args.max_sequences, args.max_frames, every,
                           args.shard)
        if not clips:
            print(f"coherent_fit.py: error: split {split!r} of {args.data_dir} has no sequences", file=sys.stderr)
            return 1
        more: dict[str, torch.Tensor] = {}
        motion, l1, st = fit_all(clips, args, fit=fit_coherent_batch, extras=more)
        seqs += [c[0] for c in clips]
        sources += [c[1] for c in clips]
        splits += [split] * len(clips)
        motions.append(motion)
        fitted.append(l1)
        static.append(st)
        for k, v in more.items():
            extras.setdefault(k, []).append(v)
        ratio = (l1 / st.clamp_min(1e-9)).median().item()
        print(f"{split}: {len(clips)} loops, coherent fit L1 {l1.mean():.5f} vs static {st.mean():.5f} "
              f"(median per-loop ratio {ratio:.3f}) after {time.time() - started:.0f} s")
    motion = Motion(*(torch.cat([getattr(m, k) for m in motions]) for k in ("masks", "affine", "flow")))
    config = {k: getattr(args, k) for k in ("fit_resolution", "num_layers", "num_harmonics", "flow_size",
                                            "height_bins", "canvas_grid", "steps", "learning_rate", "lambda_flow")}
    config.update(kind="coherent", resolution=args.fit_resolution, data_dir=str(args.data_dir), splits=splits,
                  sources=sources, every=args.every, shard=list(args.shard), seconds=round(time.time() - started, 1))
    out = Path(args.output).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {"l1": torch.cat(fitted), "static_l1": torch.cat(static)}
    tensors.update({k: torch.cat(v) for k, v in extras.items()})
    save_targets(out, seqs, motion, config, extra=tensors)
    print(f"wrote {out} ({len(seqs)} loops) in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
