"""A linear probe: can a frozen trunk's features tell which vocabulary entry fits an input, before any fine-tuning?

Features: the pooled bottleneck of a generator's U-Net (``--model``, zero noise) on each loop's frame 0 and on its
mirror image (the oracle's class mirrored), for the training oracle files and the evaluated ones; ``--style_views N``
adds N style-augmented copies of each training frame (``train/data/augment.py``) and their mirror images;
``--features silhouette`` replaces the trunk's features by the input's silhouette alone
(``research/silhouette_features.py``), a style-free baseline for the trunk. A linear softmax
classifier (weight decay ``--weight_decay``, full-batch Adam) is fitted on the training loops with hard targets
(``vocab_loss.OracleTargets``: the best entry of loops that beat static) or soft ones (``--temperatures``), and scored
with ``vocab_accuracy.scores`` beside the class prior. Minutes, not hours: it bounds what ``research/train.py --vocabulary``
can learn from these targets and features.

``--save DIR --vocabulary TABLE`` also writes a loadable vocabulary model per target kind, ``DIR/hard``,
``DIR/soft_T0.05`` ...: the ``--model``'s U-Net unchanged, its vocabulary head's scores that probe (seed 0; the
standardisation folded into the weights) and its residual a linear L1 fit of the oracle's residual on the loops that
beat static (``vocab_loss.OracleTargets``).

    python research/vocab_probe.py --data_dir ROOT --train_oracles T0 T1 \\
        --eval val=oracle_val.safetensors --eval unseen-val=oracle_unseen-val.safetensors --temperatures 0.02,0.05
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from still2motion import load_model  # noqa: E402
from train.data.augment import style_config, style_transform  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402
from research.silhouette_features import silhouette_features  # noqa: E402
from research.vocab_accuracy import first_frames, prior_logits, scores  # noqa: E402
from research.vocab_loss import OracleTargets  # noqa: E402
from research.vocab_model import with_vocabulary  # noqa: E402


@torch.no_grad()
def pooled(model, x: torch.Tensor) -> torch.Tensor:
    """The pooled bottlenecks ``(N, C)`` of letterboxed inputs."""
    return torch.cat([model.encode(c)[0].mean(dim=(2, 3)) for c in x.split(64)])


def features(model, x: torch.Tensor, kind: str) -> torch.Tensor:
    """What the probe sees of inputs ``x``: the trunk's pooled bottleneck or the silhouette alone."""
    return pooled(model, x) if kind == "trunk" else silhouette_features(x)


def styled(x: torch.Tensor, config, seed: int) -> torch.Tensor:
    """``x`` with one draw of the style transforms (``train/data/augment.py``) per image."""
    rng = np.random.default_rng(seed)
    return torch.cat([style_transform(c[None], rng, config)[0] for c in x])


def fit(x: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, classes: int, weight_decay: float,
        steps: int = 400, seed: int = 0) -> torch.nn.Linear:
    """A linear classifier on standardised features; ``target`` is ``(N,)`` indices or ``(N, classes)`` probabilities."""
    torch.manual_seed(seed)
    head = torch.nn.Linear(x.shape[1], classes)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=weight_decay)
    for _ in range(steps):
        logp = torch.log_softmax(head(x), dim=1)
        if target.ndim == 2:
            loss = -(target * logp).sum(1).sum() / target.sum().clamp_min(1e-8)
        else:
            loss = -(logp.gather(1, target[:, None])[:, 0] * weight).sum() / weight.sum().clamp_min(1e-8)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head


def fit_residual(x: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, weight_decay: float,
                 steps: int = 400) -> torch.nn.Linear:
    """A linear L1 regression of the residual ``(N, 6)`` on the rows with weight > 0."""
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], target.shape[1])
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=weight_decay)
    keep = weight > 0
    for _ in range(steps):
        loss = (head(x[keep]) - target[keep]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head


@torch.no_grad()
def fold(layer: torch.nn.Linear, into: torch.nn.Linear, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Copies ``layer`` (on standardised features) into ``into`` (on raw features): ``W / std``, ``b - W mean / std``."""
    into.weight.copy_(layer.weight / std)
    into.bias.copy_(layer.bias - (layer.weight / std) @ mean)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="a generator folder (default: the bundled model)")
    p.add_argument("--data_dir", required=True)
    p.add_argument("--train_oracles", nargs="+", required=True)
    p.add_argument("--eval", action="append", default=[], metavar="SPLIT=ORACLE", help="repeatable")
    p.add_argument("--temperatures", default="0.02,0.05")
    p.add_argument("--weight_decay", type=float, default=1e-3)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--features", choices=("trunk", "silhouette"), default="trunk",
                   help="the --model trunk's pooled bottleneck, or the input's silhouette alone "
                        "(research/silhouette_features.py; style-free by construction)")
    p.add_argument("--style_views", type=int, default=0,
                   help="also train on N style-augmented copies of each frame 0 (and their mirror images)")
    p.add_argument("--style", choices=("default", "strong"), default="strong", help="style preset of those copies")
    p.add_argument("--save", default=None, help="write a vocabulary model per target kind under here (needs --vocabulary)")
    p.add_argument("--vocabulary", default=None, help="the table the oracle files chose from")
    p.add_argument("--seed_zero", choices=("vocabulary", "coefficients"), default="vocabulary",
                   help="what seed 0 of the saved models animates with (Still2Motion's seed_zero)")
    args = p.parse_args(argv)
    if args.save and not args.vocabulary:
        p.error("--save needs --vocabulary")
    if args.save and args.features != "trunk":
        p.error(f"--save folds the probe into the trunk's vocabulary head: it needs --features trunk, "
                f"got {args.features!r}")
    try:
        return run(args)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"vocab_probe.py: error: {exc}", file=sys.stderr)
        return 1


def run(args) -> int:
    """Fits the probes, optionally saves them as models, prints a table per evaluated split."""
    model = load_model(args.model).eval()
    size = int(MotionTargets(args.train_oracles[0]).tensors["entry_l1"].shape[1])
    hard = OracleTargets(args.train_oracles, size)
    train = first_frames(args.data_dir, "train", model.resolution, hard.seqs)
    views = [train] + [styled(train, style_config(args.style), seed) for seed in range(args.style_views)]
    feats = [features(model, v, args.features) for v in views] + [features(model, v.flip(-1), args.features)
                                                                   for v in views]  # plain, then mirrored
    x = feats[0]
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    xs = (torch.cat(feats) - mean) / std
    n_views = len(views)
    variants = {"hard": hard, **{f"soft T={t}": OracleTargets(args.train_oracles, size, temperature=float(t))
                                 for t in args.temperatures.split(",") if t}}
    heads = {}
    for name, targets in variants.items():
        classes, _, weight, soft = targets.batch(targets.seqs)
        _, _, _, soft_flip = targets.batch(targets.seqs, flip=[1.0] * len(targets))
        mirrored = (classes + size) % (2 * size)
        target = torch.cat((classes, mirrored)) if soft is None else torch.cat((soft, soft_flip))
        target = torch.cat([t.repeat(n_views, *([1] * (t.ndim - 1))) for t in target.chunk(2)])
        for seed in range(args.seeds):
            heads[f"{name} seed {seed}"] = fit(xs, target, weight.repeat(2 * n_views), 2 * size, args.weight_decay,
                                               seed=seed)
    if args.save:
        _, residual, weight, _ = hard.batch(hard.seqs)
        res_head = fit_residual(xs, residual.repeat(2 * n_views, 1), weight.repeat(2 * n_views), args.weight_decay)
        for name in variants:
            out = with_vocabulary(args.vocabulary, model, seed_zero=args.seed_zero)
            fold(heads[f"{name} seed 0"], out.vocab_head.score, mean, std)
            fold(res_head, out.vocab_head.residual, mean, std)
            folder = Path(args.save) / name.replace(" ", "_").replace("=", "")
            out.save_pretrained(folder)
            print(f"saved the {name} probe model to {folder}")
    for spec in args.eval:
        split, path = spec.split("=", 1)
        oracle = MotionTargets(path)
        xe = (features(model, first_frames(args.data_dir, split, model.resolution, oracle.seqs), args.features)
              - mean) / std
        rows = {name: scores(head(xe).detach(), oracle, size) for name, head in heads.items()}
        rows["prior"] = scores(prior_logits(args.train_oracles, size, len(oracle.seqs)), oracle, size)
        keys = list(next(iter(rows.values())))
        print(f"\n{split} ({len(oracle.seqs)} loops)\n| row | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for name, row in rows.items():
            print(f"| {name} | " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
