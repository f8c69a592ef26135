"""The unseen-style protocol's summary: every row's headline numbers with character-bootstrap intervals, split by
source and by kind of loop, and each model against the image-blind curves.

Input: ``evaluate.py``'s rows ``{name: {"kind", "items": [...], "blind": {"preset", "amplitude"}?}}``, every row
scored on the same sequences; items carry ``seq``, ``character``, ``source``, ``kind`` (``train/fit/loop_kinds.py``, if
known), ``phase_l1``, ``alive`` and, for model rows with several seeds, ``best_phase_l1`` and ``diversity``.

Statistics, each ``{"value", "lo", "hi"}`` (the value on all loops of the group, a 95 % percentile interval over
draws that resample the group's characters, ``train/evaluate/bootstrap.py``):

- ``phase_l1``: mean phase-aligned L1 (seed ``--seed``); ``alive``: share of loops alive;
- ``best_phase_l1``: mean best-of-seeds phase-aligned L1; ``diversity``: mean seed diversity (``metrics.diversity``);
- ``beats_static``: share of loops where the row's phase-aligned L1 is at least 15 % below the still image's;
- ``gap_closed``: ``(static - row) / (static - ceiling:coherent)`` of the mean phase-aligned L1s: the share of the gap
  between a still image and the coherent-fit ceiling that the row closes (1 = the ceiling, 0 = still, < 0 = worse).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from train.evaluate import bootstrap
from train.evaluate.blind_curve import curve_l1_at

BEAT_MARGIN = 0.15  # "beats static": phase-aligned L1 at most (1 - BEAT_MARGIN) x the still image's
STATIC, CEILING = "static", "ceiling:coherent"
STATS = ("phase_l1", "alive", "best_phase_l1", "diversity", "beats_static", "gap_closed")


def _values(items: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if it.get(key) is None else float(it[key]) for it in items], dtype=np.float64)


def _stat(value: Callable[[np.ndarray | None], float], weights: np.ndarray) -> dict:
    """``value(None)`` on all loops; ``value(w)`` under each draw's weights ``w (n,)``."""
    full = value(None)
    lo, hi = bootstrap.interval(np.array([value(w) for w in weights]))
    return {"value": None if not np.isfinite(full) else float(full), "lo": lo, "hi": hi}


def _mean(values: np.ndarray) -> Callable[[np.ndarray | None], float]:
    ok = np.isfinite(values)

    def get(w):
        w = np.ones_like(values) if w is None else w
        total = (w * ok).sum()
        return float((w * np.where(ok, values, 0)).sum() / total) if total > 0 else np.nan

    return get


def groups_of(items: list[dict]) -> dict[str, np.ndarray]:
    """``{"all": mask, "source:X": mask, "kind:K": mask}`` over the items (sources when several, kinds where known)."""
    out = {"all": np.ones(len(items), dtype=bool)}
    for key in ("source", "kind"):
        values = sorted({it.get(key) for it in items if it.get(key) is not None})
        if key == "source" and len(values) < 2:
            continue  # one source: its group is "all"
        for value in values:
            out[f"{key}:{value}"] = np.array([it.get(key) == value for it in items])
    return out


def summarize_protocol(rows: dict[str, dict], *, draws: int = 1000, seed: int = 0) -> dict:
    """``{"draws", "level", "groups": {g: {"n", "characters"}}, "rows": {row: {g: {stat: {...}}}},
    "blind": {model row: {preset: {g: {"curve", "curve_l1", "margin", "below"}}}}}``.

    Raises:
        ValueError: rows scored on different sequences.
    """
    if not rows:
        return {"draws": draws, "level": bootstrap.LEVEL, "groups": {}, "rows": {}, "blind": {}}
    first = next(iter(rows.values()))["items"]
    order = [it["seq"] for it in first]
    for name, row in rows.items():
        if [it["seq"] for it in row["items"]] != order:
            raise ValueError(f"row '{name}' was scored on other sequences than '{next(iter(rows))}'")
    groups = groups_of(first)
    characters = np.array([it.get("character") or it["seq"] for it in first], dtype=object)
    out = {"draws": draws, "level": bootstrap.LEVEL, "groups": {}, "rows": {n: {} for n in rows}, "blind": {}}
    blind_rows: dict[str, list[str]] = {}
    for name, row in rows.items():
        if row.get("blind"):
            blind_rows.setdefault(row["blind"]["preset"], []).append(name)
    for g, mask in groups.items():
        idx = np.flatnonzero(mask)
        out["groups"][g] = {"n": int(idx.size), "characters": int(len(set(characters[idx])))}
        weights = bootstrap.character_weights(list(characters[idx]), draws, seed)
        l1 = {n: _values(r["items"], "phase_l1")[idx] for n, r in rows.items()}
        alive = {n: _values(r["items"], "alive")[idx] for n, r in rows.items()}
        for name, row in rows.items():
            out["rows"][name][g] = _row_stats(name, row["items"], idx, l1, alive, weights)
        for name, row in rows.items():
            if row["kind"] != "model":
                continue
            for preset, names in blind_rows.items():
                out["blind"].setdefault(name, {}).setdefault(preset, {})[g] = _versus_curve(
                    l1[name], alive[name], [(alive[n], l1[n]) for n in names], weights
                )
    return out


def _row_stats(name, items, idx, l1, alive, weights) -> dict:
    stats = {"phase_l1": _stat(_mean(l1[name]), weights), "alive": _stat(_mean(alive[name]), weights)}
    for key in ("best_phase_l1", "diversity"):
        values = _values(items, key)[idx]
        if np.isfinite(values).any():
            stats[key] = _stat(_mean(values), weights)
    if STATIC in l1:
        beats = np.where(np.isfinite(l1[name]), l1[name] <= (1 - BEAT_MARGIN) * l1[STATIC], np.nan)
        stats["beats_static"] = _stat(_mean(beats), weights)
        if CEILING in l1:
            s, x, c = _mean(l1[STATIC]), _mean(l1[name]), _mean(l1[CEILING])

            def closed(w):
                gap = s(w) - c(w)
                return (s(w) - x(w)) / gap if gap > 0 else np.nan

            stats["gap_closed"] = _stat(closed, weights)
    return stats


def _versus_curve(l1, alive, curve, weights) -> dict:
    """The model's L1 minus the blind curve's L1 at the model's alive rate (negative: below the curve)."""
    model_l1, model_alive = _mean(l1), _mean(alive)
    points = [(_mean(a), _mean(e)) for a, e in curve]

    def at(w):
        return curve_l1_at([(a(w), e(w)) for a, e in points], model_alive(w))

    margin = _stat(lambda w: model_l1(w) - at(w), weights)
    return {
        "curve": [[a(None), e(None)] for a, e in points],
        "curve_l1": _stat(at, weights),
        "margin": margin,
        "below": margin["value"] is not None and margin["value"] < 0,
    }


def _cell(stat: dict | None, fmt: str, scale: float = 1.0) -> str:
    if not stat or stat["value"] is None:
        return "—"
    text = fmt.format(stat["value"] * scale)
    if stat["lo"] is not None:
        text += f" [{fmt.format(stat['lo'] * scale)}, {fmt.format(stat['hi'] * scale)}]"
    return text


COLUMNS = [  # (header, stat, format, scale)
    ("phase-aligned L1 ↓", "phase_l1", "{:.4f}", 1), ("alive %", "alive", "{:.0f}", 100),
    ("best-of-seeds L1 ↓", "best_phase_l1", "{:.4f}", 1), ("gap closed %", "gap_closed", "{:.0f}", 100),
    ("beats static ≥15 % (share %)", "beats_static", "{:.0f}", 100), ("seed diversity", "diversity", "{:.2f}", 1),
]


def protocol_markdown(summary: dict) -> str:
    """The summary as Markdown: one table per group (rows = models and baselines), then the blind-curve verdicts."""
    if not summary.get("groups"):
        return ""
    level = round(summary["level"] * 100)
    lines = ["## Protocol summary", "",
             f"Means with {level} % intervals from {summary['draws']} draws that resample characters. "
             "Gap closed: share of the static → coherent-ceiling gap in phase-aligned L1.", ""]
    for g, info in summary["groups"].items():
        lines += [f"### {g} ({info['n']} loops, {info['characters']} characters)", "",
                  "| row | " + " | ".join(h for h, *_ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
        for name, per_group in summary["rows"].items():
            stats = per_group.get(g, {})
            lines.append(f"| {name} | " + " | ".join(_cell(stats.get(k), f, s) for _, k, f, s in COLUMNS) + " |")
        lines.append("")
    if summary["blind"]:
        lines += ["### Against the image-blind curves", "",
                  "Model L1 minus the curve's L1 at the model's alive rate (negative = below the curve).", "",
                  "| model | preset | group | curve (alive %, L1) | curve L1 at model's alive | margin | below |",
                  "|---|---|---|---|---|---|---|"]
        for model, presets in summary["blind"].items():
            for preset, per_group in presets.items():
                for g, v in per_group.items():
                    curve = " ".join(f"({a * 100:.0f}, {e:.4f})" for a, e in v["curve"])
                    lines.append(f"| {model} | {preset} | {g} | {curve} | {_cell(v['curve_l1'], '{:.4f}')} | "
                                 f"{_cell(v['margin'], '{:+.4f}')} | {'yes' if v['below'] else 'no'} |")
        lines.append("")
    return "\n".join(lines)
