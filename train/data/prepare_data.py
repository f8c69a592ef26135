"""Build the training set from Debian game-data packages: fetch, cut, filter, split (see docs/data-sources.md).

    python train/data/prepare_data.py [--out ROOT] [--sources widelands,wesnoth,flare,supertux] [--max_sequences N]
                                 [--min_frames 4] [--scale 2] [--pack DIR --pack_resolution 64]
                                 [--compact_pack FILE.s2mpack]

Writes ``ROOT/{train,val,test}/<seq>/0000.png …`` and ``ROOT/manifest.jsonl`` (docs/data-sources.md). Idempotent: downloads,
extractions, analyses and finished sequence folders are reused; a re-run with other filters removes what no longer
belongs. ``--pack DIR`` also writes every split as a compressed uint8 archive at one resolution (``train/data/pack.py``);
``--compact_pack FILE`` writes every split, the unseen ones too, into one palette-compressed file (docs/data-sources.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `train` and `still2motion` from the repo root, not
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from tqdm import tqdm  # noqa: E402

from train.data.build_dataset import (  # noqa: E402
    Filters, Report, analyse, manifest_line, remove_stale, select, spec_key, summary_table,
    write_manifest, write_sequence)
from train.data.sources import SOURCES, SeqSpec  # noqa: E402
from train.data.sources.fetch import PACKAGES, FetchError, fetch  # noqa: E402
from train.data.workers import worker_pool  # noqa: E402

logger = logging.getLogger("prepare_data")
CACHE = Path.home() / ".cache" / "still2motion"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=CACHE / "data", help="prepared ROOT (default: %(default)s)")
    p.add_argument("--raw", type=Path, default=CACHE / "raw", help="downloads + extractions (default: %(default)s)")
    p.add_argument("--sources", default=",".join(SOURCES), help="comma-separated, from: " + ",".join(SOURCES))
    p.add_argument("--max_sequences", type=int, default=0, help="cap per source, for quick runs (0 = all)")
    p.add_argument("--min_frames", type=int, default=4, help="drop loops shorter than this")
    p.add_argument("--min_motion", type=float, default=0.5, help="drop near-static loops (max mean |Δ|, 0..255)")
    p.add_argument("--max_seam", type=float, default=3.0, help="drop seam ratio above this (0 = keep all)")
    p.add_argument("--keep_non_loops", action="store_true", help="keep one-shot animations (die, build, ...)")
    p.add_argument("--scale", default="2,1", help="Widelands sheet scales to try in order (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="processes (default: %(default)s)")
    p.add_argument("--pack", type=Path, default=None, help="also write a pack of every split to this folder")
    p.add_argument("--pack_resolution", type=int, default=64, help="pack frame size (default: %(default)s)")
    p.add_argument("--pack_resample", default="auto", choices=("auto", "nearest", "bilinear"),
                   help="letterbox resampling; auto = nearest when upscaling, bilinear when downscaling")
    p.add_argument("--compact_pack", type=Path, default=None,
                   help="also write every split into this one .s2mpack file (palette + zlib; ~3x smaller)")
    p.add_argument("--pack_only", action="store_true", help="skip preparation; pack an existing ROOT")
    return p.parse_args(argv)


def discover(args: argparse.Namespace, names: list[str]) -> tuple[list[SeqSpec], dict[str, str], dict[str, float]]:
    """Fetches each source and lists its sequences; returns specs, ``source -> "debian:pkg=ver"`` and timings."""
    specs, versions, timings = [], {}, {}
    for name in names:
        t0 = time.perf_counter()
        root, versions[name] = fetch(name, args.raw)
        t1 = time.perf_counter()
        if name == "widelands":
            found = SOURCES[name].find_sequences(root, versions[name], [int(s) for s in args.scale.split(",")])
        else:
            found = SOURCES[name].find_sequences(root, versions[name])
        if args.max_sequences:
            found = sorted(found, key=lambda s: s.seq)[: args.max_sequences]
        specs += found
        timings[f"fetch {name}"], timings[f"parse {name}"] = t1 - t0, time.perf_counter() - t1
        logger.info("%s: %s, %d sequences found (fetch %.1fs, parse %.1fs)", name, versions[name], len(found),
                    t1 - t0, time.perf_counter() - t1)
    return specs, versions, timings


def run_analysis(specs: list[SeqSpec], versions: dict[str, str], raw: Path, workers: int) -> dict[str, dict]:
    """Analyses every spec in parallel, reusing ``raw/analysis.json`` for unchanged ones."""
    cache_path = raw / "analysis.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    keys = {s.seq: spec_key(s, versions[s.source]) for s in specs}
    todo = [s for s in specs if keys[s.seq] not in cache]
    with worker_pool(workers) as pool:
        for spec, st in tqdm(zip(todo, pool.imap(analyse, todo, chunksize=8)), total=len(todo), desc="analyse",
                             unit="seq", disable=not todo):
            cache[keys[spec.seq]] = st
    cache_path.write_text(json.dumps(cache))
    return {s.seq: cache[keys[s.seq]] for s in specs}


def prepare(args: argparse.Namespace) -> None:
    names = [n.strip() for n in args.sources.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ValueError(f"unknown sources {unknown}; choose from {list(SOURCES)}")
    t_start = time.perf_counter()
    specs, versions, timings = discover(args, names)
    t0 = time.perf_counter()
    stats = run_analysis(specs, versions, args.raw, args.workers)
    timings["analyse"] = time.perf_counter() - t0
    report = Report(found={n: sum(s.source == n for s in specs) for n in names})
    filters = Filters(not args.keep_non_loops, args.min_frames, args.min_motion, args.max_seam)
    kept = select(specs, stats, filters, report)
    lines = [manifest_line(s, stats[s.seq], versions[s.source], PACKAGES[s.source].license) for s in kept]
    jobs = [(s, str(args.out / ln["split"] / s.seq), ln["n_frames"]) for s, ln in zip(kept, lines)]
    removed = remove_stale(args.out, {f"{ln['split']}/{ln['seq']}" for ln in lines})
    t0 = time.perf_counter()
    sizes, failed = {}, set()
    with worker_pool(args.workers) as pool:
        for seq, size, err in tqdm(pool.imap_unordered(write_sequence, jobs, chunksize=4), total=len(jobs),
                                   desc="write", unit="seq"):
            if err:
                logger.warning("skipped %s: %s", seq, err)
                failed.add(seq)
            sizes[seq] = size
    timings["write"] = time.perf_counter() - t0
    lines = [ln for ln in lines if ln["seq"] not in failed]
    write_manifest(args.out, lines)
    timings["total"] = time.perf_counter() - t_start
    print_summary(args, names, report, lines, sizes, timings, removed)


def print_summary(args, names, report, lines, sizes, timings, removed) -> None:
    print(f"\nprepared {args.out} ({len(lines)} sequences; {removed} stale folders removed)")
    print(f"{'source':<10} {'found':>6}  dropped")
    for n in names:
        drops = ", ".join(f"{k}: {v}" for k, v in sorted(report.dropped.get(n, {}).items()))
        print(f"{n:<10} {report.found.get(n, 0):>6}  {drops or '-'}")
    print()
    print(summary_table(lines, sizes))
    print("\ntimings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if not args.pack_only:
            prepare(args)
        if args.pack is not None:
            from train.data.pack import write_pack

            t0 = time.perf_counter()
            sizes = write_pack(args.out, args.pack, args.pack_resolution, args.pack_resample, args.workers)
            print(f"\npack {args.pack} at {args.pack_resolution}² in {time.perf_counter() - t0:.1f}s: "
                  + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
        if args.compact_pack is not None:
            from train.data.pack import write_compact_pack

            t0 = time.perf_counter()
            size = write_compact_pack(args.out, args.compact_pack, args.pack_resolution, args.pack_resample,
                                      args.workers)
            print(f"\ncompact pack {args.compact_pack} at {args.pack_resolution}² in {time.perf_counter() - t0:.1f}s: "
                  f"{size / 1e6:.1f} MB")
    except (FetchError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
