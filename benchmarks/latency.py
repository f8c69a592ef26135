"""Latency of ``animate`` side by side with the original pix2pix design's forward pass, in one run.

Rows: ``animate`` at 256x256 / 20 frames, the same at 1024x1024, one forward of the original experiment's
pix2pix generator (a 256x256 U-Net, ngf 64, 60 output channels = 20 RGB frames), each motion preset on the same
256x256 image with alpha (``animate(motion=NAME)``; target <= 0.9x the learned ``auto`` row), and, with ``--compare``, the same
256x256 / 20-frame ``animate`` call of trained baseline generators (``train/train.py --generator pix2pix|stn``;
any folder ``load_model`` reads). Burn-in first, then the median and
p90 of repeated runs; peak RSS of the process; parameter counts. Ratios are measured in this one run, so a noisy
machine affects every row alike.

    python benchmarks/latency.py [--model still2motion/default_model] [--repeats 20] [--json out.json] \
        [--compare pix2pix=RUN_DIR --compare stn=RUN_DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from still2motion import DEFAULT_MODEL, load_model
from still2motion.presets import PRESET_NAMES


class Pix2PixUNet(nn.Module):
    """The pix2pix ``UnetGenerator`` shape (8 levels for 256x256, ngf 64), written here as a timing reference."""

    def __init__(self, in_channels: int = 3, out_channels: int = 60, ngf: int = 64, depth: int = 8) -> None:
        super().__init__()
        widths = [ngf * min(2**i, 8) for i in range(depth)]  # 64, 128, 256, 512, 512, 512, 512, 512
        self.down = nn.ModuleList()
        cin = in_channels
        for i, w in enumerate(widths):
            layers = [nn.LeakyReLU(0.2)] if i else []
            layers.append(nn.Conv2d(cin, w, 4, 2, 1))
            if 0 < i < depth - 1:
                layers.append(nn.BatchNorm2d(w))
            self.down.append(nn.Sequential(*layers))
            cin = w
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            cin = widths[i] * (1 if i == depth - 1 else 2)
            cout = widths[i - 1] if i else out_channels
            layers = [nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1)]
            layers.append(nn.BatchNorm2d(cout) if i else nn.Tanh())
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        skips.pop()
        for i, up in enumerate(self.up):
            x = up(x)
            if skips:
                x = torch.cat((x, skips.pop()), dim=1)
        return x


def time_it(fn, repeats: int, burn_in: int = 2) -> dict:
    for _ in range(burn_in):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "p90_s": float(np.percentile(times, 90)), "runs": repeats}


def time_interleaved(calls: dict, repeats: int, burn_in: int = 1) -> dict:
    """``time_it`` for several calls at once, one run of each in turn per repeat."""
    for fn in calls.values():
        for _ in range(burn_in):
            fn()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {name: {"median_s": statistics.median(t), "p90_s": float(np.percentile(t, 90)), "runs": repeats}
            for name, t in times.items()}


def test_image(size: int) -> Image.Image:
    rng = np.random.default_rng(0)
    arr = np.zeros((size, size, 4), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    inside = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size * 0.4) ** 2
    arr[inside, :3] = rng.integers(0, 255, (inside.sum(), 3))
    arr[inside, 3] = 255
    return Image.fromarray(arr, "RGBA")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--json", default=None)
    parser.add_argument("--no_presets", action="store_true", help="skip the per-preset rows")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=MODEL",
                        help="another trained generator (e.g. a baseline run) timed on the same animate call; repeatable")
    args = parser.parse_args()
    compare = {}
    if args.compare:  # the pix2pix / STN designs load through train/, which the package does not know
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from train.evaluate.design_baselines import load_generator
    for value in args.compare:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            parser.error(f"--compare wants NAME=MODEL, got {value!r}")
        compare[name] = load_generator(path)

    torch.manual_seed(0)
    model = load_model(args.model)
    pix2pix = Pix2PixUNet().eval()
    small, large = test_image(256), test_image(1024)
    rows = {}
    with torch.no_grad():
        x = torch.randn(1, 3, 256, 256)
        rows["pix2pix forward 256 (60 ch)"] = time_it(lambda: pix2pix(x), args.repeats)
    presets = () if args.no_presets else PRESET_NAMES
    # auto and the presets are timed round-robin, so a machine whose load changes during the run affects them alike
    calls = {f"animate 256x256 x{args.frames}": lambda: model.animate(small, num_frames=args.frames, resample="bilinear")}
    for preset in presets:
        calls[f"{preset} 256x256 x{args.frames}"] = (
            lambda preset=preset: model.animate(small, num_frames=args.frames, resample="bilinear", motion=preset)
        )
    rows.update(time_interleaved(calls, args.repeats))
    for name, other in compare.items():
        rows[f"{name} animate 256x256 x{args.frames}"] = time_it(
            lambda other=other: other.animate(small, num_frames=args.frames, resample="bilinear"), args.repeats
        )
    rows[f"animate 1024x1024 x{args.frames}"] = time_it(
        lambda: model.animate(large, num_frames=args.frames, resample="bilinear"), max(3, args.repeats // 4), burn_in=1
    )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    a256, a1024, p2p = rows[f"animate 256x256 x{args.frames}"], rows[f"animate 1024x1024 x{args.frames}"], rows["pix2pix forward 256 (60 ch)"]
    report = {
        "torch": torch.__version__,
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})",
        "dtype": "float32",
        "model": args.model,
        "params": sum(p.numel() for p in model.parameters()),
        "pix2pix_params": sum(p.numel() for p in pix2pix.parameters()),
        "rows": rows,
        "ratio_animate256_over_pix2pix": a256["median_s"] / p2p["median_s"],
        "ratio_1024_over_256": a1024["median_s"] / a256["median_s"],
        "compare_params": {name: sum(p.numel() for p in m.parameters()) for name, m in compare.items()},
        "ratio_preset_over_animate256": {
            name: rows[f"{name} 256x256 x{args.frames}"]["median_s"] / a256["median_s"] for name in presets
        },
        "ratio_compare_over_animate256": {
            name: rows[f"{name} animate 256x256 x{args.frames}"]["median_s"] / a256["median_s"] for name in compare
        },
        "peak_rss_mb": peak_rss_mb,
    }
    print(f"torch {report['torch']} on {report['device']}, {report['dtype']}; model {args.model}")
    print(f"parameters: still2motion {report['params'] / 1e6:.2f} M, pix2pix {report['pix2pix_params'] / 1e6:.1f} M")
    for name, r in rows.items():
        print(f"  {name:32s} median {r['median_s'] * 1000:8.1f} ms   p90 {r['p90_s'] * 1000:8.1f} ms   ({r['runs']} runs)")
    print(f"animate 256 / pix2pix forward: {report['ratio_animate256_over_pix2pix']:.2f}x   (target <= 1.0x)")
    print(f"animate 1024 / animate 256:    {report['ratio_1024_over_256']:.1f}x   (target <= 16x; 16x the pixels)")
    for name, ratio in report["ratio_preset_over_animate256"].items():
        print(f"preset {name:8s} / auto animate 256:   {ratio:.2f}x   (target <= 0.9x)")
    for name, ratio in report["ratio_compare_over_animate256"].items():
        print(f"{name} animate 256 / still2motion animate 256: {ratio:.2f}x   ({report['compare_params'][name] / 1e6:.2f} M parameters)")
    print(f"peak RSS: {peak_rss_mb:.0f} MB   (target <= 1024 MB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
