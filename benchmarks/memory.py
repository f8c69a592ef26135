"""Peak memory of one request at sizes up to the limits (2048x2048 output, max frames), one fresh process per case.

Each case runs in its own subprocess, so its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own: the
baseline after imports and model load, the peak after ``animate()`` and the peak after saving (APNG, or GIF/WebP).
Nothing here is asserted by the tests; the numbers go in reports and in the README's "Limits and safety".

    python benchmarks/memory.py [--model still2motion/default_model] [--cases 256x256x20:apng,2048x2048x240:none]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CASES = "256x256x20:apng,1024x1024x20:apng,2048x2048x20:apng,2048x2048x20:gif,2048x2048x240:none"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(model_name: str, width: int, height: int, frames: int, fmt: str) -> dict:
    """One request in this process: a smooth many-colour RGBA image -> animate -> save; peak RSS at each stage."""
    import numpy as np
    import torch
    from PIL import Image

    from still2motion import config, load_model

    model = load_model(model_name)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgba = np.stack(np.broadcast_arrays(x + 0 * y, y + 0 * x, (x + y) / 2, np.full_like(x + y, 255)), -1)
    image = Image.fromarray(rgba.astype(np.uint8), "RGBA")
    row = {"size": f"{width}x{height}", "frames": frames, "format": fmt, "baseline_mb": _rss_mb()}
    started = time.perf_counter()
    anim = model.animate(image, num_frames=frames, fps=10, seed=0, resample="bilinear")
    row.update(animate_s=time.perf_counter() - started, animate_peak_mb=_rss_mb())
    if fmt != "none":
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            path = anim.save(Path(folder) / f"out.{ 'png' if fmt == 'apng' else fmt}",
                             max_bytes=int(config.limit("max_output_bytes")) * 100)  # measure, do not refuse
            row.update(save_s=time.perf_counter() - started, bytes=path.stat().st_size)
    row.update(peak_mb=_rss_mb(), torch=torch.__version__, threads=torch.get_num_threads())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: the bundled model)")
    parser.add_argument("--cases", default=DEFAULT_CASES, help="comma-separated WxHxFRAMES:FORMAT (apng|gif|webp|none)")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one case, in this fresh process
        size, fmt = args.child.split(":")
        w, h, n = (int(v) for v in size.split("x"))
        print(json.dumps(child(args.model, w, h, n, fmt)))
        return

    print(f"{platform.platform()}, Python {platform.python_version()}, CPU, float32, one subprocess per case")
    rows = []
    for case in args.cases.split(","):
        cmd = [sys.executable, __file__, "--child", case] + (["--model", args.model] if args.model else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            print(f"{case}: failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        saved = f", save {row['save_s']:.1f} s, {row['bytes'] / 1e6:.1f} MB" if "save_s" in row else ""
        print(f"{row['size']:>9} x {row['frames']:>3} frames {row['format']:>4}: baseline {row['baseline_mb']:.0f} MB, "
              f"after animate {row['animate_peak_mb']:.0f} MB, peak {row['peak_mb']:.0f} MB "
              f"(animate {row['animate_s']:.1f} s{saved}; torch {row['torch']}, {row['threads']} threads)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
