"""Loading speed of a grown compact pack against the old one, side by side (issue 34: new / old >= 0.9).

    python benchmarks/pack_growth.py OLD.s2mpack NEW.s2mpack [--styles none,default] [--items 640] [--repeats 3]

Both packs go through ``benchmarks/data_loading.py``'s ``measure`` (train split, augment on, 0 workers: items per
CPU-second, all the work in this process, so other jobs on a shared machine skew it little), interleaved
old/new for every repeat and style; the best of the repeats is kept and the ratio new / old printed per style.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from data_loading import measure  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--styles", default="none,default")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--num_targets", type=int, default=4)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--items", type=int, default=640)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)
    best: dict[tuple[str, str], dict] = {}
    for _ in range(args.repeats):
        for style in [s for s in args.styles.split(",") if s]:
            for label, path in (("old", args.old), ("new", args.new)):
                r = measure(path, 0, style, args)
                key = (label, style)
                if key not in best or r["items_per_cpu_s"] > best[key]["items_per_cpu_s"]:
                    best[key] = r
    for (label, style), r in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0] != "old")):
        print(f"{label} style={style:<8} {r['items_per_cpu_s']:>7.1f} items/CPU-s  {r['items_per_s']:>7.1f} items/s  "
              f"{r['sequences']} train seqs  {r['bytes'] / 1e6:.1f} MB  {r['data']}")
    for style in sorted({s for _, s in best}):
        old, new = best[("old", style)]["items_per_cpu_s"], best[("new", style)]["items_per_cpu_s"]
        print(f"new / old, style {style}: {new / old:.2f} items per CPU-second (target >= 0.9)")


if __name__ == "__main__":
    main()
