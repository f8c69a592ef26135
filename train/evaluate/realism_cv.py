"""Classifier two-sample tests: k-fold cross-validation by group, repeated over fold seeds, and a ridge logistic
regression to run in it. Pure numpy; what is classified (codes, clips) is the caller's business.

Items are real (label 1) or generated (label 0), each with a group (the character it shows). Every fold holds out
whole groups, so no character is seen in training and scored in the same fold: a classifier cannot win by
recognising a character it has memorised. Held-out accuracy 0.5 means the two sets are indistinguishable, 1.0 that
they are trivially told apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# (train indices, test indices) -> probability that each test item is real, (len(test),)
FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def group_folds(groups: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Fold number ``(N,)`` of each item: groups shuffled by ``seed``, then each put in the fold with fewest items.

    Raises:
        ValueError: ``folds < 2`` or fewer distinct groups than folds.
    """
    names = sorted(set(groups))
    if folds < 2 or len(names) < folds:
        raise ValueError(f"need folds >= 2 and at least that many groups, got {folds} folds and {len(names)} groups")
    sizes = {g: 0 for g in names}
    for g in groups:
        sizes[g] += 1
    order = np.random.default_rng(seed).permutation(len(names))
    # largest groups first (a stable sort keeps the shuffle among equals), so the folds come out balanced
    order = sorted(order, key=lambda i: -sizes[names[i]])
    load, fold_of = np.zeros(folds, dtype=np.int64), {}
    for i in order:
        f = int(np.argmin(load))
        fold_of[names[i]] = f
        load[f] += sizes[names[i]]
    return np.array([fold_of[g] for g in groups], dtype=np.int64)


def cross_validate(labels: np.ndarray, groups: Sequence[str], fit_predict: FitPredict, *, folds: int = 5,
                   repeats: int = 3, seed: int = 0) -> dict:
    """Held-out accuracy of ``fit_predict`` over ``repeats`` group k-folds.

    Args:
        labels: ``(N,)`` 1 for real, 0 for generated.
        groups: ``(N,)`` group (character) of each item.
        fit_predict: trains on the train indices and returns ``P(real)`` for the test indices.
        folds, repeats, seed: fold seeds are ``seed, seed + 1, ...``.

    Returns:
        ``{"acc": mean over repeats of the pooled held-out accuracy, "std": its spread (std over repeats),
        "fold_std": std of the per-fold accuracies, "repeats": [acc per repeat], "folds", "n"}``.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(groups),):
        raise ValueError(f"labels must be ({len(groups)},) like groups, got {labels.shape}")
    per_repeat, per_fold = [], []
    for r in range(repeats):
        fold = group_folds(groups, folds, seed + r)
        correct = np.zeros(len(labels), dtype=bool)
        for f in range(folds):
            test, train = np.flatnonzero(fold == f), np.flatnonzero(fold != f)
            hit = (np.asarray(fit_predict(train, test)) >= 0.5) == (labels[test] == 1)
            correct[test] = hit
            per_fold.append(float(hit.mean()))
        per_repeat.append(float(correct.mean()))
    return {"acc": float(np.mean(per_repeat)), "std": float(np.std(per_repeat)), "fold_std": float(np.std(per_fold)),
            "repeats": per_repeat, "folds": folds, "n": int(len(labels))}


def logistic_fit_predict(x: np.ndarray, labels: np.ndarray, *, ridge: float = 1.0, iterations: int = 25) -> FitPredict:
    """A ``FitPredict`` of ridge logistic regression on features ``x (N, D)``, standardised on each train fold."""
    x = np.asarray(x, dtype=np.float64)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        mean, std = x[train].mean(0), x[train].std(0) + 1e-6
        w = fit_logistic((x[train] - mean) / std, labels[train], ridge=ridge, iterations=iterations)
        return _sigmoid(_with_bias((x[test] - mean) / std) @ w)

    return fit_predict


def fit_logistic(x: np.ndarray, y: np.ndarray, *, ridge: float, iterations: int) -> np.ndarray:
    """Newton steps (IRLS) on the L2-penalised log-likelihood; the bias is not penalised. Returns ``(D + 1,)``."""
    xb = _with_bias(x)  # (N, D + 1)
    penalty = np.full(xb.shape[1], ridge)
    penalty[-1] = 0.0
    w = np.zeros(xb.shape[1])
    for _ in range(iterations):
        p = _sigmoid(xb @ w)
        grad = xb.T @ (y - p) - penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(xb.shape[1])
        step = np.linalg.solve(hess, grad)
        w = w + step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))
