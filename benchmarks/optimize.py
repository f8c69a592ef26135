"""The lossless optimiser's trade-off: save time and file size per ``optimize`` level, next to the render time.

For each size (a CC0 example sprite at its own size, scaled to 256 px and to 2000x1500 by default), renders one loop
with the model, then saves it as APNG and WebP at ``optimize`` none / fast / max, timing each save (best of
``--repeats``) and reporting its size relative to "max". ``--skip-max-above`` skips "max" on large images (minutes).

    python benchmarks/optimize.py [--sizes native 256 2000x1500] [--frames 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from still2motion import io, load_model  # noqa: E402
from still2motion import request as rq  # noqa: E402


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--image", default=str(ROOT / "examples" / "robot_idle.png"))
    parser.add_argument("--sizes", nargs="+", default=["native", "256", "2000x1500"])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--formats", nargs="+", default=["apng", "webp"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-max-above", type=int, default=10**9, help="skip 'max' above this many pixels a frame")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    model = load_model(args.model)
    work = Path(tempfile.mkdtemp(prefix="optimize-"))
    source = Image.open(args.image).convert("RGBA")
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
          f"{Path(args.image).name}, {args.frames} frames")
    rows = []
    for size in args.sizes:
        if size == "native":
            image = source
        else:
            w, _, h = size.partition("x")
            image = source.resize((int(w), int(h or w)), Image.Resampling.LANCZOS)
        path = work / "in.png"
        image.save(path)
        request = rq.check(rq.Request(num_frames=args.frames, seed=0, resample="bilinear"))
        still = rq.load(str(path), request)
        rq.render(model, still, request)  # burn-in
        render_s = best_of(lambda: rq.render(model, still, request), 1)
        anim = rq.render(model, still, request)[0]
        for fmt in args.formats:
            sizes = {}
            for level in io.OPTIMIZE_LEVELS:
                if level == "max" and image.width * image.height > args.skip_max_above:
                    continue
                out = work / f"out{io.FORMATS[fmt].suffix}"
                save_s = best_of(lambda: anim.save(out, format=fmt, optimize=level), 1 if level == "max" else args.repeats)
                sizes[level] = out.stat().st_size
                rows.append({"size": f"{image.width}x{image.height}", "format": fmt, "optimize": level,
                             "render_s": render_s, "save_s": save_s, "bytes": sizes[level]})
                ref = sizes.get("max")
                print(f"{image.width}x{image.height} {fmt:5s} {level:5s} render {render_s:6.2f} s  save {save_s:7.2f} s "
                      f"({save_s / render_s:5.1f}x render)  {sizes[level]:>10d} B", flush=True)
            if "max" in sizes:
                growth = ", ".join(f"{k} {100 * (v / sizes['max'] - 1):+.1f} %" for k, v in sizes.items() if k != "max")
                print(f"  size vs max: {growth}")
    if args.json:
        Path(args.json).write_text(json.dumps({"config": vars(args), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
