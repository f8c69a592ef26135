"""Statistics of a prepared ROOT (or a pack): counts per source/split and histograms, printed and as a PNG.

    python train/data/data_stats.py [ROOT] [--png stats.png]

Reads only ``manifest.jsonl`` (``n_frames``, ``size``, ``motion``: the largest mean |Δ| between consecutive frames,
premultiplied 0..255, as computed by prepare_data.py). Bar charts are drawn with PIL (no matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `train` and `still2motion` from the repo root, not
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from PIL import Image, ImageDraw  # noqa: E402

from train.data.build_dataset import SPLITS, read_manifest  # noqa: E402

FRAME_BINS = [4, 5, 6, 8, 10, 12, 16, 20, 30, 50, 100, 151]
SIZE_BINS = [16, 24, 32, 48, 64, 96, 128, 192, 256, 100000]
MOTION_BINS = [0.5, 1, 2, 4, 8, 16, 32, 64, 1000]


def histogram(values: list[float], edges: list[float]) -> list[tuple[str, int]]:
    """Counts per bin ``[edges[i], edges[i+1])``; the first bin also takes everything below ``edges[0]``."""
    counts = [0] * (len(edges) - 1)
    for v in values:
        i = next((k for k in range(len(edges) - 1) if v < edges[k + 1]), len(edges) - 2)
        counts[i] += 1
    labels = [f"<{edges[1]:g}" if i == 0 else f"{edges[i]:g}+" if i == len(edges) - 2 else f"{edges[i]:g}"
              for i in range(len(edges) - 1)]
    return list(zip(labels, counts))


def counts_table(lines: list[dict]) -> str:
    """Sequences and frames per source (rows) and split (columns)."""
    sources = sorted({ln["character"].split(":")[0] for ln in lines})
    out = [f"{'source':<10}" + "".join(f"{s + ' seqs/frames':>22}" for s in SPLITS)]
    for src in sources + ["all"]:
        row = f"{src:<10}"
        for split in SPLITS:
            sel = [ln for ln in lines if ln["split"] == split and (src == "all" or ln["character"].startswith(src + ":"))]
            row += f"{len(sel):>12} / {sum(ln['n_frames'] for ln in sel):>7}"
        out.append(row)
    return "\n".join(out)


def text_histogram(title: str, bins: list[tuple[str, int]], width: int = 40) -> str:
    top = max(c for _, c in bins) or 1
    rows = [title] + [f"  {label:>7} {count:>6} {'#' * round(width * count / top)}" for label, count in bins]
    return "\n".join(rows)


def draw_bars(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str,
              bins: list[tuple[str, int]]) -> None:
    """One bar chart inside ``box`` (left, top, right, bottom)."""
    left, top, right, bottom = box
    draw.text((left, top), title, fill="black")
    top += 16
    bottom -= 26
    top_count = max(c for _, c in bins) or 1
    bar_w = (right - left) / len(bins)
    for i, (label, count) in enumerate(bins):
        x0 = left + i * bar_w + 2
        h = (bottom - top - 12) * count / top_count
        draw.rectangle([x0, bottom - h, x0 + bar_w - 4, bottom], fill=(70, 110, 180))
        draw.text((x0, bottom - h - 11), str(count), fill="black")
        draw.text((x0, bottom + 2), label, fill="black")


def plot(lines: list[dict], path: Path) -> None:
    """Writes a 2 x 2 panel PNG: sequences per source/split, frame counts, sizes, motion energy."""
    img = Image.new("RGB", (1000, 640), "white")
    draw = ImageDraw.Draw(img)
    per = Counter((ln["character"].split(":")[0], SPLITS.index(ln["split"])) for ln in lines)
    draw_bars(draw, (10, 10, 490, 310), "sequences per source / split",
              [(f"{src[:5]}\n{SPLITS[i]}", per[src, i]) for src, i in sorted(per)])
    draw_bars(draw, (510, 10, 990, 310), "frames per sequence", histogram([ln["n_frames"] for ln in lines], FRAME_BINS))
    draw_bars(draw, (10, 330, 490, 630), "longer side (px)", histogram([max(ln["size"]) for ln in lines], SIZE_BINS))
    draw_bars(draw, (510, 330, 990, 630), "motion energy (max mean |d|, 0..255)",
              histogram([ln.get("motion", 0.0) for ln in lines], MOTION_BINS))
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, nargs="?", default=Path.home() / ".cache" / "still2motion" / "data")
    p.add_argument("--png", type=Path, default=None, help="plot path (default: ROOT/stats.png)")
    args = p.parse_args(argv)
    try:
        lines = read_manifest(args.root)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(counts_table(lines))
    print()
    print(text_histogram("frames per sequence", histogram([ln["n_frames"] for ln in lines], FRAME_BINS)))
    print(text_histogram("longer side (px)", histogram([max(ln["size"]) for ln in lines], SIZE_BINS)))
    print(text_histogram("motion energy", histogram([ln.get("motion", 0.0) for ln in lines], MOTION_BINS)))
    png = args.png or args.root / "stats.png"
    plot(lines, png)
    print(f"\nplot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
