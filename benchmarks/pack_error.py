"""The compact pack's colour error per source, against the prepared ROOT letterboxed the same way.

    python benchmarks/pack_error.py ROOT PACK.s2mpack [--sources fluentemoji,pachi] [--per_source 300] [--frames 8]

For up to ``--per_source`` sequences of each source (every k-th by name, all splits), the first ``--frames`` frames
are letterboxed from the ROOT exactly as ``train/data/pack.py`` does and compared with the pack's, premultiplied, on
the pixels visible in either (0..255 scale): mean |error| over all those pixels, the median over sequences of each
sequence's mean, the PSNR of the pooled squared error, the largest single-channel error, and how many sequences are
stored exactly (<= 255 colours). Bytes per source are the blob lengths.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from train.data.compact_pack import CompactPackDataset, read_header  # noqa: E402
from train.data.pack import _letterboxed  # noqa: E402


def premultiplied(frames: np.ndarray) -> np.ndarray:
    x = frames.astype(np.float64)
    x[..., :3] *= x[..., 3:] / 255.0
    return x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path)
    p.add_argument("pack", type=Path)
    p.add_argument("--sources", default="", help="comma-separated (default: every source in the pack)")
    p.add_argument("--per_source", type=int, default=300)
    p.add_argument("--frames", type=int, default=8)
    args = p.parse_args()
    info, _ = read_header(args.pack)
    by_source: dict[str, list[tuple[str, int]]] = defaultdict(list)
    blob_bytes: dict[str, int] = defaultdict(int)
    datasets: dict[str, CompactPackDataset] = {}
    for split, rows in info["splits"].items():
        for row in rows:
            blob_bytes[row["source"]] += row["length"]
        if any(row["n_frames"] >= 2 for row in rows):
            datasets[split] = CompactPackDataset(args.pack, split, augment=False)
            for i, row in enumerate(datasets[split].items):
                by_source[row["source"]].append((split, i))
    wanted = [s for s in args.sources.split(",") if s] or sorted(by_source)
    print(f"{'source':<12} {'seqs':>5} {'exact':>6} {'mean':>6} {'median':>7} {'PSNR dB':>8} {'max':>4} {'MB':>6}")
    for source in wanted:
        refs = sorted(by_source.get(source, []), key=lambda r: datasets[r[0]].items[r[1]]["seq"])
        refs = refs[:: max(1, math.ceil(len(refs) / args.per_source))] if refs else []
        abs_sum, sq_sum, count, worst, per_seq, exact = 0.0, 0.0, 0, 0.0, [], 0
        for split, index in refs:
            ds = datasets[split]
            row = ds.items[index]
            n = min(args.frames, row["n_frames"])
            ref, _ = _letterboxed((str(args.root / split / row["seq"]), n, info["resolution"], info["resample"]))
            got = np.stack(ds.frames(index, list(range(n))))
            a, b = premultiplied(ref), premultiplied(got)
            vis = (ref[..., 3] > 0) | (got[..., 3] > 0)
            err = np.abs(a - b)[vis]
            if err.size:
                abs_sum += float(err.sum())
                sq_sum += float((err**2).sum())
                count += err.size
                worst = max(worst, float(err.max()))
                per_seq.append(float(err.mean()))
            exact += row["colors"] < 255
        if not count:
            print(f"{source:<12} no sequences")
            continue
        mse = sq_sum / count
        psnr = 10 * math.log10(255**2 / mse) if mse > 0 else float("inf")
        print(f"{source:<12} {len(refs):>5} {exact:>6} {abs_sum / count:>6.2f} {float(np.median(per_seq)):>7.2f} "
              f"{psnr:>8.1f} {worst:>4.0f} {blob_bytes[source] / 1e6:>6.2f}")


if __name__ == "__main__":
    main()
