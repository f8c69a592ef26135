"""How well a vocabulary model's scores pick the oracle's motion, against the training classes' frequencies.

For each loop of an oracle file (``research/vocab_oracle.py`` on val or unseen-val) the model scores the table from the
loop's frame 0. Reported per model, over the loops whose oracle entry beats static by 15 % (the ones
``vocab_loss.OracleTargets`` trains on):

- top-1 / top-5 accuracy of the class (entry and mirror) and of the entry alone, and the mean negative log-likelihood
  of the oracle's class;
- the coarse phase-L1 of the model's most likely **entry** on every loop (the oracle file's ``entry_l1``: that entry
  rendered at the coarse scale, best of 4 anchors x mirror) over the loop's static L1, beside the same for the entry
  the training prior ranks first and for the oracle's own best entry: does the model pick entries that fit?

The ``prior`` row scores every loop with the class frequencies of the training oracle files (add-one smoothed).

    python research/vocab_accuracy.py --model runs/vocab_s0 --oracle oracle_val.safetensors --data_dir ROOT --split val \\
        --train_oracles oracle_train3_s0.safetensors oracle_train3_s1.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from still2motion import io, load_model  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402
from research.vocab_loss import MIN_GAIN, OracleTargets  # noqa: E402


def scores(logits: torch.Tensor, oracle: MotionTargets, size: int) -> dict:
    """Accuracy rows of ``logits (N, 2V)`` (one per oracle loop, in its order)."""
    t = oracle.tensors
    classes = (t["entry"] + size * t["mirror"]).long()
    fit = t["oracle_l1"] <= (1 - MIN_GAIN) * t["static_l1"]
    logp = torch.log_softmax(logits.float(), dim=1)
    top5 = logp.topk(min(5, 2 * size), dim=1).indices
    entry_logp = torch.logsumexp(logp.view(-1, 2, size), dim=1)  # (N, V): mirror summed out
    entry_top5 = entry_logp.topk(min(5, size), dim=1).indices
    entry = classes % size
    picked = entry_logp.argmax(dim=1)
    ratio = t["entry_l1"].gather(1, picked[:, None])[:, 0] / t["static_l1"].clamp_min(1e-9)
    best = t["entry_l1"].min(dim=1).values / t["static_l1"].clamp_min(1e-9)
    return {
        "loops_fit": int(fit.sum()),
        "top1": float((top5[:, 0] == classes)[fit].float().mean()),
        "top5": float((top5 == classes[:, None]).any(1)[fit].float().mean()),
        "entry_top1": float((picked == entry)[fit].float().mean()),
        "entry_top5": float((entry_top5 == entry[:, None]).any(1)[fit].float().mean()),
        "nll": float(-logp.gather(1, classes[:, None])[fit].mean()),
        "picked_entry_l1_ratio": float(ratio.median()),
        "oracle_entry_l1_ratio": float(best.median()),
    }


def prior_logits(paths: list[str], size: int, n: int) -> torch.Tensor:
    train = OracleTargets(paths, size)
    classes = (train.entry + size * train.mirror)[train.weight > 0]
    counts = torch.bincount(classes, minlength=2 * size).float() + 1
    return counts.log().expand(n, -1)


def first_frames(data_dir: str, split: str, resolution: int, seqs: list[str]) -> torch.Tensor:
    """Frame 0 of each named loop, letterboxed at ``resolution``: ``(N, 4, R, R)``.

    Raises:
        ValueError: a loop is not in the split.
    """
    ds = open_dataset(data_dir, split, resolution=resolution, augment=False)
    where = {ds.meta(i)[0]: i for i in range(len(ds))}
    missing = [s for s in seqs if s not in where]
    if missing:
        raise ValueError(f"{len(missing)} oracle loops are not in {data_dir} {split}, e.g. {missing[0]!r}")
    return torch.stack([io.to_tensor(ds.frames(where[s], [0])[0]) for s in seqs])


@torch.no_grad()
def model_logits(model_path: str, oracle: MotionTargets, data_dir: str, split: str) -> tuple[torch.Tensor, int]:
    model = load_model(model_path).eval()
    if not getattr(model, "vocabulary_size", 0):
        raise ValueError(f"{model_path} has no vocabulary head")
    canvas = first_frames(data_dir, split, model.resolution, oracle.seqs)
    return torch.cat([model.forward_vocab(c)[0] for c in canvas.split(32)]), model.vocabulary_size


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", default=[], help="vocabulary model folder; repeatable")
    p.add_argument("--oracle", required=True, help="vocab_oracle.py file of the evaluated split")
    p.add_argument("--data_dir", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--train_oracles", nargs="+", required=True, help="the training targets (for the prior row)")
    args = p.parse_args(argv)
    try:
        oracle = MotionTargets(args.oracle)
        if oracle.config.get("kind") != "vocab-oracle":
            raise ValueError(f"'{args.oracle}' is not a vocab_oracle.py file")
        rows = {}
        size = None
        for path in args.model:
            logits, size = model_logits(path, oracle, args.data_dir, args.split)
            rows[path] = scores(logits, oracle, size)
        size = size or int(oracle.tensors["entry_l1"].shape[1])
        rows["prior"] = scores(prior_logits(args.train_oracles, size, len(oracle.seqs)), oracle, size)
    except (FileNotFoundError, ValueError) as exc:
        print(f"vocab_accuracy.py: error: {exc}", file=sys.stderr)
        return 1
    keys = list(next(iter(rows.values())))
    print("| row | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys)
              + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
