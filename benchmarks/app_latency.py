"""Request latency of the web app through ``gradio_client`` next to the bare ``animate`` call, in one run.

Launches ``app.py`` in-process on a free local port, then times 256x256 RGBA / 20 frames / APNG requests: the bare
``model.animate`` + ``Animation.save`` (what a request computes) and the full round trip through ``/animate``
(upload, queue, render, preview + download encoding, file serving, client download). Burn-in first, then the median
and p90 of repeated runs, the three interleaved (one of each per round).

    python benchmarks/app_latency.py [--model still2motion/default_model] [--repeats 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def time_interleaved(fns: dict, repeats: int, burn_in: int = 2) -> dict:
    """Median and p90 per function; one call of each per round, so a busy machine slows every row alike."""
    for _ in range(burn_in):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: {"median_s": statistics.median(t), "p90_s": float(np.percentile(t, 90)), "runs": repeats}
            for name, t in times.items()}


def test_image(size: int) -> Image.Image:
    """An RGBA disc with a gradient inside a transparent square."""
    yy, xx = np.mgrid[:size, :size] / (size - 1)
    arr = np.zeros((size, size, 4), np.uint8)
    inside = (xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.16
    arr[..., 0], arr[..., 1], arr[..., 2] = xx * 255, yy * 255, 160
    arr[..., 3] = np.where(inside, 255, 0)
    return Image.fromarray(arr, "RGBA")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: as the app resolves it)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    if args.model:
        os.environ["STILL2MOTION_MODEL"] = args.model
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)  # loads the model once, as the Space does
    from gradio_client import Client, handle_file

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    work = Path(tempfile.mkdtemp(prefix="app_latency-"))
    still = work / "still.png"
    test_image(args.size).save(still)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)

    def bare():
        anim = app.MODEL.animate(str(still), num_frames=args.frames, fps=10.0, seed=0)
        anim.save(work / "bare.png")

    def bare_render():
        app.MODEL.animate(str(still), num_frames=args.frames, fps=10.0, seed=0)

    def request():
        client.predict(handle_file(str(still)), frames=args.frames, format="apng", api_name="/animate")

    try:
        results = time_interleaved(
            {"animate (render only)": bare_render, "animate + save APNG": bare, "gradio_client /animate": request},
            args.repeats,
        )
    finally:
        app.demo.close()
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {cpu}, {torch.get_num_threads()} threads, "
          f"cpu, float32; model {app.MODEL_NAME}; {args.size}x{args.size} RGBA, {args.frames} frames, APNG")
    for name, r in results.items():
        median, p90 = r["median_s"] * 1000, r["p90_s"] * 1000
        print(f"{name:26s} median {median:7.1f} ms   p90 {p90:7.1f} ms   ({r['runs']} runs)")
    overhead = results["gradio_client /animate"]["median_s"] - results["animate + save APNG"]["median_s"]
    print(f"app overhead over animate + save: {overhead * 1000:.1f} ms per request")
    if args.json:
        Path(args.json).write_text(json.dumps({"config": vars(args), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
