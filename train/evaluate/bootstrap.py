"""Bootstrap intervals that resample **characters**, never single loops.

Loops of one character (its walk, idle and run, often drawn by one hand) are not independent samples: resampling
loops would make intervals too narrow and let one prolific character dominate a draw. Each draw picks characters
with replacement, and a picked character brings all of its loops, once per time it was picked. A draw is stored as
per-loop weights (the number of times the loop's character was picked), so any mean over loops is a weighted mean.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.95  # two-sided coverage of the reported intervals


def character_weights(characters: list[str], draws: int = 1000, seed: int = 0) -> np.ndarray:
    """``(draws, n)`` weights: entry ``[d, i]`` = how often draw ``d`` picked the character of loop ``i``.

    All loops of one character get the same weight in every draw (the character is never split), and every draw picks
    as many characters as there are.

    Raises:
        ValueError: ``draws < 1``.
    """
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    names, index = np.unique(np.asarray(characters, dtype=object).astype(str), return_inverse=True)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(names), size=(draws, len(names)))  # characters drawn, with replacement
    counts = np.stack([np.bincount(row, minlength=len(names)) for row in picks]) if len(names) else np.zeros((draws, 0))
    return counts[:, index].astype(np.float64)  # (draws, n): each loop takes its character's count


def weighted_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of ``values (n,)`` under each draw's weights ``(draws, n)``, NaN values left out: ``(draws,)``.

    A draw with no weight on a finite value gives NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(values)
    w = weights * ok
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ np.where(ok, values, 0.0)) / total


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float | None, float | None]:
    """Percentile interval of bootstrap samples (NaN draws dropped); ``(None, None)`` when none is finite."""
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None, None
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)
