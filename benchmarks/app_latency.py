"""Request latency of the web app through ``gradio_client``, next to the bare in-process work, in one run.

Launches ``app.py`` in-process on a free local port and times 256x256 RGBA / 20 frames / APNG requests:

- ``render``: ``request.render`` alone (decode + model + warping), in-process;
- ``render + save``: render then ``request.save`` of the download (what a request computes), in-process;
- ``time to preview``: ``client.submit(...)`` until its first output (the fast preview APNG) arrives;
- ``full request``: ``client.predict(...)`` (upload, queue, render, preview, download encoding, client download);
- ``bare gradio``: the same round trip to a bare gradio app with the same inputs, outputs and files (a generator that
  yields a copy of a preview APNG, then a copy of the download, and computes nothing): the floor gradio itself sets;

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


def bare_app(preview_src: Path, download_src: Path, out_dir: Path):
    """A gradio app with app.py's inputs and outputs whose function computes nothing: it yields fresh copies of a
    rendered preview and download, as app.py yields its own (preview first). Its round trip is gradio's own cost."""
    import shutil

    import gradio as gr

    counter = iter(range(10**9))

    def animate(image, frames=20, fps=10.0, strength=1.0, seed=0, resample="auto", format="apng", motion="auto",
                mask=None):  # app.animate's signature: the API takes its defaults from it
        n = next(counter)
        preview = shutil.copyfile(preview_src, out_dir / f"{n}_preview.png")
        yield str(preview), None
        yield str(preview), str(shutil.copyfile(download_src, out_dir / f"{n}_{download_src.name}"))

    with gr.Blocks() as demo:
        image = gr.Image(type="filepath", image_mode=None, sources=["upload", "clipboard"])
        image.preprocess = lambda payload: None if payload is None else payload.path  # as app.py: the path as is
        options = [gr.Slider(1, 60, value=20, step=1), gr.Slider(1, 50, value=10), gr.Slider(0, 3, value=1.0),
                   gr.Number(value=0, precision=0), gr.Radio(["auto", "nearest", "bilinear"], value="auto"),
                   gr.Dropdown(["apng", "gif"], value="apng"), gr.Dropdown(["auto"], value="auto")]
        brush = gr.ImageEditor(type="pil", layers=False, sources=(), transforms=())
        preview = gr.Image(type="filepath", format="png", interactive=False)
        download = gr.File(interactive=False)
        gr.Button().click(animate, inputs=[image, *options, brush], outputs=[preview, download], api_name="animate")
    demo.queue(max_size=64, default_concurrency_limit=2)
    return demo


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
    # The bare app serves the files this request makes: the same preview and download bytes.
    anim = rq.render(app.MODEL, rq.load(str(still), request), request)[0]
    preview_src = anim.save(work / "preview_src.png", format="apng", optimize="none")
    download_src = rq.save(anim, work / f"download_src{app.io.FORMATS[args.format].suffix}", request)
    (work / "bare").mkdir()
    bare = bare_app(Path(preview_src), Path(download_src), work / "bare")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        bare_port = s.getsockname()[1]
    bare.launch(server_name="127.0.0.1", server_port=bare_port, prevent_thread_lock=True, quiet=True)
    bare_url = f"http://127.0.0.1:{bare_port}/"

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
    load_before = os.getloadavg()[0]
    try:
        for _ in range(2):  # burn-in
            render_save()
        # One client: one of each per round (interleaved), so a busy machine slows every row alike.
        client = Client(url, verbose=False)
        bare_client = Client(bare_url, verbose=False)
        full(client)
        full(bare_client)
        rows = {"render (in-process)": lambda: timed(render), "render + save (in-process)": lambda: timed(render_save),
                "time to preview, 1 client": lambda: preview(client), "full request, 1 client": lambda: full(client),
                "bare gradio: first output, 1 client": lambda: preview(bare_client),
                "bare gradio: full request, 1 client": lambda: full(bare_client)}
        times = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, fn in rows.items():
                times[name].append(fn())
        results.update({name: summary(t) for name, t in times.items()})
        for n in (c for c in args.clients if c > 1):
            clients = [Client(url, verbose=False) for _ in range(n)]
            for c in clients:
                full(c)  # burn-in per client

            def loop(c):  # each client alternates preview-timed and full requests
                out = {"preview": [], "full": []}
                for _ in range(args.repeats):
                    out["preview"].append(preview(c))
                    out["full"].append(full(c))
                return out

            with ThreadPoolExecutor(n) as pool:
                per_client = list(pool.map(loop, clients))
            results[f"time to preview, {n} clients"] = summary(sum((r["preview"] for r in per_client), []))
            results[f"full request, {n} clients"] = summary(sum((r["full"] for r in per_client), []))
    finally:
        app.demo.close()
        bare.close()
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {cpu}, {torch.get_num_threads()} threads, cpu, float32; model {app.MODEL_NAME}; "
          f"{args.size}x{args.size} RGBA, {args.frames} frames, {args.format}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    for name, r in results.items():
        print(f"{name:36s} p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms   ({r['runs']} runs)")
    one = {k: v["p50_ms"] for k, v in results.items()}
    if "time to preview, 1 client" in one:
        floor = one["bare gradio: full request, 1 client"]
        print(f"targets (1 client, p50): preview {one['time to preview, 1 client']:.0f} ms <= "
              f"2 x render + 150 = {2 * one['render (in-process)'] + 150:.0f} ms; full {one['full request, 1 client']:.0f}"
              f" ms <= 1.2 x render + save + bare gradio = {1.2 * one['render + save (in-process)']:.0f} + {floor:.0f} = "
              f"{1.2 * one['render + save (in-process)'] + floor:.0f} ms; save "
              f"{one['render + save (in-process)'] - one['render (in-process)']:.0f} ms <= 4 x render = "
              f"{4 * one['render (in-process)']:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"config": vars(args), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
