"""Data loading throughput: items/s through a DataLoader with 0 and 2 workers (target >= 40 items/s).

    python benchmarks/data_loading.py [--data ~/.cache/still2motion/data] [--pack ~/.cache/still2motion/pack64]
                                      [--resolution 64] [--num_targets 4] [--batch_size 16] [--items 640]

A burn-in batch runs first (worker start-up is timed separately), then ``--items`` items are drawn.
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

from still2motion.data import collate, open_dataset  # noqa: E402

CACHE = Path.home() / ".cache" / "still2motion"


def measure(path: Path, workers: int, args: argparse.Namespace) -> dict:
    ds = open_dataset(path, "train", resolution=args.resolution, num_targets=args.num_targets, augment=True, seed=0)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=workers, collate_fn=collate,
                        generator=torch.Generator().manual_seed(0), drop_last=True)
    t0 = time.perf_counter()
    it = iter(loader)
    next(it)  # burn-in (and worker start-up)
    startup = time.perf_counter() - t0
    n, t0 = 0, time.perf_counter()
    while n < args.items:
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        n += batch["input"].shape[0]
    dt = time.perf_counter() - t0
    return {"data": str(path), "kind": type(ds).__name__, "workers": workers, "items": n,
            "items_per_s": round(n / dt, 1), "startup_s": round(startup, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=CACHE / "data")
    p.add_argument("--pack", type=Path, default=CACHE / "pack64")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--num_targets", type=int, default=4)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--items", type=int, default=640)
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, numpy {np.__version__}, pillow {PIL.__version__}, python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs; R={args.resolution}, S={args.num_targets}, "
          f"batch {args.batch_size}, augment on")
    results = []
    for path in (args.data, args.pack):
        if not path.is_dir():
            print(f"skip {path}: not found")
            continue
        for workers in (0, 2):
            r = measure(path, workers, args)
            results.append(r)
            print(f"{r['kind']:<16} workers={workers}  {r['items_per_s']:>7.1f} items/s  "
                  f"(first batch {r['startup_s']:.2f}s)  {path}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
