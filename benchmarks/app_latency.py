"""Request latency of the web app through ``gradio_client``, next to the bare in-process work, in one run.

Launches ``app.py`` in-process on a free local port and times 256x256 RGBA / 20 frames / APNG requests:

- ``render``: ``request.render`` alone (decode + model + warping), in-process;
- ``render + save``: render then ``request.save`` of the download (what a request computes), in-process;
- ``time to preview``: ``client.submit(...)`` until its first output (the fast preview APNG) arrives;
- ``full request``: ``client.predict(...)`` (upload, queue, render, preview, download encoding, client download);

each with 1 client and with 8 concurrent clients (the app's queue runs 2 requests at a time, so with 8 clients a
request also waits for about 3 others). Burn-in first; p50 and p95 of the repeated runs.

    python benchmarks/app_latency.py [--model still2motion/default_model] [--repeats 20] [--clients 1 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def summary(times: list[float]) -> dict:
    return {"p50_ms": 1000 * float(np.percentile(times, 50)), "p95_ms": 1000 * float(np.percentile(times, 95)),
            "runs": len(times)}


def test_image(size: int) -> Image.Image:
    """An RGBA disc with a gradient inside a transparent square."""
    yy, xx = np.mgrid[:size, :size] / (size - 1)
    arr = np.zeros((size, size, 4), np.uint8)
    inside = (xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.16
    arr[..., 0], arr[..., 1], arr[..., 2] = xx * 255, yy * 255, 160
    arr[..., 3] = np.where(inside, 255, 0)
    return Image.fromarray(arr, "RGBA")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder or Hub id (default: as the app resolves it)")
    parser.add_argument("--repeats", type=int, default=20, help="requests per row (per client with several)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--format", default="apng")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    if args.model:
        os.environ["STILL2MOTION_MODEL"] = args.model
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, str(ROOT))

    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)  # loads the model once, as the Space does
    from gradio_client import Client, handle_file

    from still2motion import request as rq

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    work = Path(tempfile.mkdtemp(prefix="app_latency-"))
    still = work / "still.png"
    test_image(args.size).save(still)
    request = rq.check(rq.Request(num_frames=args.frames, fps=10.0, seed=0, format=args.format))

    def render():
        return rq.render(app.MODEL, rq.load(str(still), request), request)[0]

    def render_save():
        rq.save(render(), work / f"bare{app.io.FORMATS[args.format].suffix}", request)

    def preview(client):
        job = client.submit(handle_file(str(still)), frames=args.frames, format=args.format, api_name="/animate")
        start = time.perf_counter()
        while not job.outputs():  # the first yield: the preview (download still None)
            if job.done() and not job.outputs():
                raise RuntimeError(f"request failed: {job.exception()}")
            time.sleep(0.002)
        first = time.perf_counter() - start
        job.result()
        return first

    def full(client):
        return timed(lambda: client.predict(handle_file(str(still)), frames=args.frames, format=args.format,
                                            api_name="/animate"))

    results = {}
    try:
        for _ in range(2):  # burn-in
            render_save()
        results["render (in-process)"] = summary([timed(render) for _ in range(args.repeats)])
        results["render + save (in-process)"] = summary([timed(render_save) for _ in range(args.repeats)])
        for n in args.clients:
            clients = [Client(url, verbose=False) for _ in range(n)]
            for c in clients:
                full(c)  # burn-in per client
            for name, fn in (("time to preview", preview), ("full request", full)):
                with ThreadPoolExecutor(n) as pool:
                    per_client = list(pool.map(lambda c, fn=fn: [fn(c) for _ in range(args.repeats)], clients))
                results[f"{name}, {n} client{'s' if n > 1 else ''}"] = summary(sum(per_client, []))
    finally:
        app.demo.close()
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {cpu}, {torch.get_num_threads()} threads, cpu, float32; model {app.MODEL_NAME}; "
          f"{args.size}x{args.size} RGBA, {args.frames} frames, {args.format}")
    for name, r in results.items():
        print(f"{name:32s} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   ({r['runs']} runs)")
    one = {k: v["p50_ms"] for k, v in results.items()}
    if "time to preview, 1 client" in one:
        print(f"targets (1 client, p50): preview {one['time to preview, 1 client']:.0f} ms <= "
              f"2 x render + 150 = {2 * one['render (in-process)'] + 150:.0f} ms; full {one['full request, 1 client']:.0f}"
              f" ms <= 1.2 x render + save = {1.2 * one['render + save (in-process)']:.0f} ms; save "
              f"{one['render + save (in-process)'] - one['render (in-process)']:.0f} ms <= 4 x render = "
              f"{4 * one['render (in-process)']:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"config": vars(args), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
