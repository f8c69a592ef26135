"""``train/train.py`` with the research hooks (``research/hooks.py``): the same flags plus those of the vocabulary,
per-loop weights, colour dropout and the squash augmentation, through the core's one seam (``train/hooks.py``).

    python research/train.py --data_dir PACK --output_dir OUT --vocabulary TABLE --vocab_targets ORACLE [train.py flags]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repo root first, so `train` is the package, not train/train.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from research.hooks import ResearchHooks  # noqa: E402
from train import train as core  # noqa: E402
from train.args import parse_args as core_parse_args  # noqa: E402


def parse_args(argv: list[str] | None = None):
    """``train/args.py``'s flags and the research ones, checked."""
    return core_parse_args(argv, ResearchHooks())


def main(args) -> dict:
    """``train.main`` with fresh research hooks (see ``train.train.main`` for what it returns)."""
    return core.main(args, ResearchHooks())


if __name__ == "__main__":
    import logging

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    sys.exit(core.cli(sys.argv[1:], ResearchHooks()))
