"""Cost of depth-ordered layers (issue 17): ``animate`` with the "over" renderer vs the old summed one, one run.

Rows: ``animate`` 256x256 / 20 frames with the new renderer and with the old summed layers
(``train/evaluate/summed_render.py``, same weights), on a sprite and on an opaque picture, timed interleaved so a noisy
machine affects both alike; the same at 1024x1024. Targets: new / old at 256 <= 1.2x; 1024 / 256 <= 16x (16x the
pixels). Also the training renderer alone (``layer_images`` + ``render`` forward and backward, 16 clips x 4 phases at
64x64, as ``forward_frames`` runs it), new vs summed, interleaved.

    python benchmarks/occlusion.py [--model still2motion/default_model] [--repeats 12] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: `train` and `still2motion`
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from latency import test_image  # noqa: E402
from still2motion import DEFAULT_MODEL, load_model  # noqa: E402
from still2motion.motion import Motion, layer_images, layer_weights, render  # noqa: E402
from train.evaluate.summed_render import summed_render, summed_renderer  # noqa: E402


def training_render(summed: bool, batch: int = 16, phases: int = 4, R: int = 64):
    """One differentiable render of a batch as in training, forward + backward into the motion."""
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(batch, 4, R, R, generator=gen)
    image[:, :3] *= image[:, 3:]
    logits = torch.randn(batch, 2, R, R, generator=gen).requires_grad_(True)
    affine = (0.05 * torch.randn(batch, 2, 6, 3, 2, generator=gen)).requires_grad_(True)
    flow = (0.02 * torch.randn(batch, 2, 2, 3, 2, R // 4, R // 4, generator=gen)).requires_grad_(True)
    ph = torch.rand(batch, phases, generator=gen) * 6.283
    box = (0, 0, R, R)

    def run():
        motion = Motion(torch.softmax(logits, dim=1), affine, flow)
        if summed:
            layers = image.unsqueeze(1) * layer_weights(image, motion.masks, box, R, False).unsqueeze(2)
            out = summed_render(layers, motion, ph, box=box, canvas_size=R, out_size=(R, R), mode="bilinear", align_corners=False)
        else:
            out = render(layer_images(image, motion.masks, box, R, False), motion, ph, box=box, canvas_size=R)
        out.mean().backward()

    return run


def _once(fn) -> float:
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = load_model(args.model)
    small, large = test_image(256), test_image(1024)
    photo = Image.fromarray(np.asarray(test_image(256))[..., :3].copy(), "RGB")  # opaque: the edge-padded back layer

    def new(image):
        return lambda: model.animate(image, num_frames=args.frames, resample="bilinear")

    def old(image):
        def run():
            with summed_renderer():
                model.animate(image, num_frames=args.frames, resample="bilinear")
        return run

    for fn in (new(small), old(small), new(small), old(small)):  # burn-in
        fn()
    times = {"animate new 256": [], "animate old 256": []}
    times["animate new 256 opaque"], times["animate old 256 opaque"] = [], []
    for _ in range(args.repeats):  # interleaved, so load on the machine hits both alike
        times["animate new 256"].append(_once(new(small)))
        times["animate old 256"].append(_once(old(small)))
        times["animate new 256 opaque"].append(_once(new(photo)))
        times["animate old 256 opaque"].append(_once(old(photo)))
    train_new, train_old = training_render(False), training_render(True)
    train_new(), train_old()
    times["train render new"], times["train render old"] = [], []
    for _ in range(args.repeats):
        times["train render new"].append(_once(train_new))
        times["train render old"].append(_once(train_old))
    new(large)(), old(large)()
    times["animate new 1024"], times["animate old 1024"] = [], []
    for _ in range(max(3, args.repeats // 3)):
        times["animate new 1024"].append(_once(new(large)))
        times["animate old 1024"].append(_once(old(large)))
    rows = {k: {"median_s": statistics.median(v), "min_s": min(v), "runs": len(v)} for k, v in times.items()}
    report = {
        "torch": torch.__version__,
        "device": "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})",
        "dtype": "float32",
        "model": args.model,
        "frames": args.frames,
        "rows": rows,
        "ratio_new_over_old_256": rows["animate new 256"]["median_s"] / rows["animate old 256"]["median_s"],
        "ratio_new_over_old_256_opaque": rows["animate new 256 opaque"]["median_s"] / rows["animate old 256 opaque"]["median_s"],
        "ratio_1024_over_256": rows["animate new 1024"]["median_s"] / rows["animate new 256"]["median_s"],
        "ratio_old_1024_over_256": rows["animate old 1024"]["median_s"] / rows["animate old 256"]["median_s"],
        "ratio_train_render_new_over_old": rows["train render new"]["median_s"] / rows["train render old"]["median_s"],
    }
    print(f"torch {report['torch']} on {report['device']}, {report['dtype']}; model {args.model}; {args.frames} frames")
    for name, r in rows.items():
        print(f"  {name:22s} median {r['median_s'] * 1000:8.1f} ms   min {r['min_s'] * 1000:8.1f} ms   ({r['runs']} runs)")
    print(f"new / old renderer at 256:  {report['ratio_new_over_old_256']:.2f}x   (target <= 1.2x)")
    print(f"  the same, opaque input:   {report['ratio_new_over_old_256_opaque']:.2f}x")
    print(f"new 1024 / new 256:         {report['ratio_1024_over_256']:.1f}x   (target <= 16x; 16x the pixels)")
    print(f"old 1024 / old 256:         {report['ratio_old_1024_over_256']:.1f}x   (the same ratio before issue 17)")
    print(f"training render new / old:  {report['ratio_train_render_new_over_old']:.2f}x   (16 clips x 4 phases at 64x64, fwd + bwd)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
