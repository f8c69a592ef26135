"""Data loading throughput: items/s through a DataLoader with 0 and 2 workers (target >= 40 items/s).

    python benchmarks/data_loading.py [--data ~/.cache/still2motion/data] [--pack ~/.cache/still2motion/pack64]
                                      [--compact ~/.cache/still2motion/pack64_v2.s2mpack] [--styles none,default]
                                      [--resolution 64] [--num_targets 4] [--batch_size 16] [--items 640]

A burn-in batch runs first (worker start-up is timed separately), then ``--items`` items are drawn; each measurement
is repeated ``--repeats`` times, interleaved across presets, and the best is kept (the machine is shared). Every source is
measured with each ``--styles`` preset (``--style_augment`` of train.py), and the ratios the issue-14 targets are set
on are printed at the end: the compact pack over the ``.npz`` pack (>= 0.9) and ``default`` over ``none`` (>= 0.7),
each within this one run, from items per CPU-second with 0 workers (all the work in this process, so other jobs on a
shared machine do not skew it) and from wall-clock items/s with workers. ``--data ''`` (or any missing path) skips that source.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from train.data.datasets import collate  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from train.data.workers import loader_context  # noqa: E402

CACHE = Path.home() / ".cache" / "still2motion"


def measure(path: Path, workers: int, style: str, args: argparse.Namespace) -> dict:
    ds = open_dataset(path, "train", resolution=args.resolution, num_targets=args.num_targets, augment=True, seed=0,
                      style_augment=style)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=workers, collate_fn=collate,
                        multiprocessing_context=loader_context(workers),
                        generator=torch.Generator().manual_seed(0), drop_last=True)
    t0 = time.perf_counter()
    it = iter(loader)
    next(it)  # burn-in (and worker start-up)
    startup = time.perf_counter() - t0
    n, t0, cpu0 = 0, time.perf_counter(), time.process_time()
    while n < args.items:
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        n += batch["input"].shape[0]
    dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return {"data": str(path), "kind": type(ds).__name__, "style_augment": style, "workers": workers,
            "sequences": len(ds), "items": n, "items_per_s": round(n / dt, 1),
            # with 0 workers all the work is in this process: items per CPU-second, robust to a busy machine
            "items_per_cpu_s": round(n / cpu, 1) if workers == 0 and cpu > 0 else None, "startup_s": round(startup, 2),
            "bytes": size}


def ratios(results: list[dict]) -> list[str]:
    def rate(kind: str, style: str, workers: int) -> float | None:
        hits = [r["items_per_cpu_s"] or r["items_per_s"] for r in results
                if r["kind"] == kind and r["style_augment"] == style and r["workers"] == workers]
        return hits[0] if hits else None

    lines = []
    for w in sorted({r["workers"] for r in results}):
        for style in sorted({r["style_augment"] for r in results}):
            old, new = rate("PackDataset", style, w), rate("CompactPackDataset", style, w)
            if old and new:
                lines.append(f"compact / npz pack, style {style}, workers={w}: {new / old:.2f} (target >= 0.9)")
        for kind in ("PackDataset", "CompactPackDataset", "PreparedDataset"):
            none, default = rate(kind, "none", w), rate(kind, "default", w)
            if none and default:
                lines.append(f"default / none, {kind}, workers={w}: {default / none:.2f} (target >= 0.7)")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=CACHE / "data")
    p.add_argument("--pack", type=Path, default=CACHE / "pack64")
    p.add_argument("--compact", type=Path, default=CACHE / "pack64_v2.s2mpack")
    p.add_argument("--styles", default="none,default", help="comma-separated --style_augment presets")
    p.add_argument("--workers", default="0,2", help="comma-separated DataLoader worker counts")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--num_targets", type=int, default=4)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--items", type=int, default=640)
    p.add_argument("--repeats", type=int, default=2, help="runs per preset, interleaved; the best one is reported")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args()
    torch.set_num_threads(1)
    styles = [s for s in args.styles.split(",") if s]
    print(f"torch {torch.__version__}, numpy {np.__version__}, pillow {PIL.__version__}, python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs; R={args.resolution}, S={args.num_targets}, "
          f"batch {args.batch_size}, augment on, styles {styles}")
    results = []
    for workers in (int(w) for w in args.workers.split(",")):
        for path in (args.data, args.pack, args.compact):
            if not str(path) or not path.exists() or str(path) == ".":
                print(f"skip {path}: not found")
                continue
            runs: dict[str, list[dict]] = {style: [] for style in styles}
            for _ in range(args.repeats):  # interleaved, so a busy spell on a shared machine hits every preset
                for style in styles:
                    runs[style].append(measure(path, workers, style, args))
            for style in styles:
                r = max(runs[style], key=lambda x: x["items_per_cpu_s"] or x["items_per_s"])
                r["all_items_per_s"] = [x["items_per_s"] for x in runs[style]]
                results.append(r)
                cpu = f" ({r['items_per_cpu_s']:.1f} per CPU-s)" if r["items_per_cpu_s"] else ""
                print(f"{r['kind']:<18} style={style:<8} workers={workers}  {r['items_per_s']:>7.1f} items/s{cpu}  "
                      f"(first batch {r['startup_s']:.2f}s, {r['sequences']} seqs, {r['bytes'] / 1e6:.1f} MB)  {path}")
    for line in ratios(results):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
