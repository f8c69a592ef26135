"""Image-blind curves: is a model's (alive, phase-aligned L1) point below what one fixed motion reaches?

``evaluate.py --baseline blind:NAME`` renders the preset NAME for every input at each amplitude of ``AMPLITUDES``
(peak displacement over silhouette height), giving one point ``(alive rate, mean phase-aligned L1)`` per amplitude:
a curve. Moving more makes more loops "alive" and usually costs L1, so a model is judged at its own alive rate:
it is **below the curve** when its L1 is lower than the curve's L1 interpolated (linearly, in alive rate) at the
model's alive rate; beyond the curve's range, the nearest end point counts.
"""

from __future__ import annotations

import numpy as np

AMPLITUDES = (0.02, 0.04, 0.06, 0.08, 0.10)  # swept peak displacement, fraction of the silhouette height


def blind_row_name(name: str, amplitude: float) -> str:
    """``blind:bob@0.04``: the row of preset ``name`` at ``amplitude``."""
    return f"blind:{name}@{amplitude:g}"


def curve_l1_at(points: list[tuple[float, float]], alive: float) -> float:
    """The curve's L1 at ``alive``: points ``(alive, l1)`` sorted by alive (equal alive rates averaged), linearly
    interpolated; the nearest end point outside their range.

    Raises:
        ValueError: no points.
    """
    if not points:
        raise ValueError("a blind curve needs at least one (alive, l1) point, got none")
    xs = np.array([p[0] for p in points], dtype=np.float64)
    ys = np.array([p[1] for p in points], dtype=np.float64)
    ux = np.unique(xs)
    uy = np.array([ys[xs == x].mean() for x in ux])
    return float(np.interp(alive, ux, uy))  # np.interp holds the end values outside [ux[0], ux[-1]]


def below_curve(points: list[tuple[float, float]], alive: float, l1: float) -> bool:
    """Whether ``(alive, l1)`` has a lower L1 than the curve at that alive rate."""
    return l1 < curve_l1_at(points, alive)
