"""Source balancing: how often each training loop is drawn, so that a large source does not set every lesson.

The ten-source pack is half Widelands (1,739 of 3,365 loops). With ``--source_balance P`` each source ``s`` of ``n_s``
loops gets ``N * n_s**P / sum_t n_t**P`` draws per epoch (``N`` = all loops): ``P = 1`` is the data as it is,
``P = 0.5`` the square root of the source sizes, ``P = 0`` every source alike. A source's draws are whole copies of
its loops plus a seeded random remainder, fixed for the run, so an epoch is still a fixed list of indices that the
data loader shuffles, and ``accelerate``'s resume (skip the first batches of an epoch) stays exact.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from torch.utils.data import Dataset, Subset


def balanced_indices(sources: list[str], power: float, seed: int = 0) -> list[int]:
    """Item indices, repeated or thinned per source so that source ``s`` has ``~N * n_s**power / sum n_t**power``."""
    if not 0 <= power <= 1:
        raise ValueError(f"source balance power must be in [0, 1], got {power}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sources):
        groups[s].append(i)
    names = sorted(groups)
    weight = np.array([len(groups[s]) ** power for s in names], dtype=np.float64)
    raw = len(sources) * weight / weight.sum()
    quota = np.floor(raw).astype(int)  # then the largest remainders, so an epoch keeps exactly N draws
    quota[np.argsort(-(raw - quota), kind="stable")[: len(sources) - quota.sum()]] += 1
    rng = np.random.default_rng(seed)
    out: list[int] = []
    for name, q in zip(names, quota):
        items = groups[name]
        copies, rest = divmod(int(q), len(items))
        out += items * copies + [items[j] for j in rng.choice(len(items), size=rest, replace=False)]
    return out


def balanced(dataset: Dataset, power: float, seed: int = 0) -> Dataset:
    """``dataset`` seen through ``balanced_indices`` of its items' sources (``dataset.meta(i) = (seq, source)``)."""
    if power == 1:
        return dataset
    sources = [dataset.meta(i)[1] for i in range(len(dataset))]
    return Subset(dataset, balanced_indices(sources, power, seed))


def drawn_meta(dataset: Dataset) -> list[tuple[str, str]]:
    """``(seq, source)`` of every draw in one epoch of ``dataset`` (a ``balanced`` view or a plain dataset)."""
    base, index = (dataset.dataset, dataset.indices) if isinstance(dataset, Subset) else (dataset, range(len(dataset)))
    return [base.meta(i) for i in index]


def source_counts(dataset: Dataset) -> dict[str, int]:
    """Draws per source in one epoch of ``dataset`` (a ``balanced`` view or a plain dataset)."""
    counts: dict[str, int] = defaultdict(int)
    for _, source in drawn_meta(dataset):
        counts[source] += 1
    return dict(sorted(counts.items()))
