"""Summarise the vocabulary's oracle runs as Markdown rows for the lab log.

    python research/vocab_report.py --oracles ORACLE.safetensors [...] [--metrics eval_val/metrics.json ...]

Per oracle file (``research/vocab_oracle.py``, selection resolution): mean phase-aligned L1 of the oracle and of a
still frame, the median per-loop ratio, the share of loops it beats static by 15 %, entries used, and the share whose
choice resembles a preset (by preset). Per ``evaluate.py`` report: each row's mean phase-aligned L1 and alive share at
the loops' own size, ``oracle:vocab`` against every blind curve at its alive rate (``train/evaluate/blind_curve.py``), and the
oracle with a still option (``min(oracle, static)`` per loop: what a table with a "still" entry would reach).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from train.evaluate.blind_curve import curve_l1_at  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402
from research.vocab_oracle import RESEMBLES  # noqa: E402


def oracle_row(path: Path) -> str:
    t = MotionTargets(path)
    o, s = t.tensors["oracle_l1"].numpy(), t.tensors["static_l1"].numpy()
    ratio = np.median(o / np.maximum(s, 1e-9))
    beats = np.mean(o <= 0.85 * s)
    used = len(set(t.tensors["entry"].long().tolist()))
    scale = Counter(t.tensors["scale"].tolist())
    row = (f"| {path.name} | {t.config['split']} | {len(t)} | {o.mean():.5f} | {s.mean():.5f} | {ratio:.3f} | "
           f"{beats:.0%} | {used} | {dict(sorted(scale.items()))}")
    if "preset_diversity" in t.tensors:
        d = t.tensors["preset_diversity"].numpy()
        near = Counter(p.split("@")[0] for p, x in zip(t.config["preset"], d) if x < RESEMBLES)
        row += f" | {np.mean(d < RESEMBLES):.0%} {dict(near.most_common())} (median diversity {np.median(d):.2f})"
    return row + " |"


def eval_rows(path: Path) -> list[str]:
    report = json.loads(path.read_text())
    rows = report["rows"]
    mean = {n: (r["overall"]["phase_l1"]["mean"], r["overall"]["alive"]["mean"]) for n, r in rows.items()}
    lines = [f"{report['split']} ({report['n']} loops, own size): "
             + "; ".join(f"{n} {l1:.4f} / {alive:.0%}" for n, (l1, alive) in mean.items())]
    if "oracle:vocab" in rows and "static" in rows:
        o = np.array([it["phase_l1"] for it in rows["oracle:vocab"]["items"]], dtype=float)
        s = np.array([it["phase_l1"] for it in rows["static"]["items"]], dtype=float)
        lines.append(f"oracle + still option: {np.minimum(o, s).mean():.4f}; oracle beats static by 15 % on "
                     f"{np.mean(o <= 0.85 * s):.0%} of loops")
        if "ceiling:coherent" in rows:
            c = np.array([it["phase_l1"] for it in rows["ceiling:coherent"]["items"]], dtype=float)
            closed = (s.mean() - o.mean()) / (s.mean() - c.mean())
            lines.append(f"gap closed (static -> coherent ceiling): {closed:.2f}")
        curves: dict[str, list] = {}
        for n, r in rows.items():
            if r.get("blind"):
                curves.setdefault(r["blind"]["preset"], []).append((mean[n][1], mean[n][0]))
        l1, alive = mean["oracle:vocab"]
        for preset, points in curves.items():
            lines.append(f"vs blind:{preset} at alive {alive:.0%}: curve {curve_l1_at(points, alive):.4f}, "
                         f"margin {l1 - curve_l1_at(points, alive):+.4f}")
        for kind in ("warp", "swap"):
            idx = [i for i, it in enumerate(rows["static"]["items"]) if it.get("kind") == kind]
            if idx:
                lines.append(f"{kind} ({len(idx)}): " + "; ".join(
                    f"{n} {np.mean([rows[n]['items'][i]['phase_l1'] for i in idx]):.4f}"
                    for n in ("static", "ceiling:coherent", "retrieval", "oracle:vocab") if n in rows))
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--oracles", type=Path, nargs="*", default=[])
    p.add_argument("--metrics", type=Path, nargs="*", default=[])
    args = p.parse_args(argv)
    if args.oracles:
        print("| table | split | loops | oracle phase-L1 | static | median ratio | beats static | entries used | "
              "scales | resembles a preset |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for path in args.oracles:
            print(oracle_row(path))
    for path in args.metrics:
        print("\n".join(eval_rows(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
