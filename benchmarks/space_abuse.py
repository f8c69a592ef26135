"""The Space under abuse: hostile uploads and many clients against ``app.py``, in-process, on loopback, bounded.

Launches the app on a free 127.0.0.1 port with its temporary files in a fresh folder, then runs, all at once,
``--clients`` clients of which ``--hostile`` (a fraction) send hostile requests and the rest good ones (RGBA stills of
64² to 512², 8-20 frames, apng or gif). The hostile requests, each expected to come back as a clear one-line error:

- ``upload_NNNmb``: an upload of ``--big-mb`` MB (over the Space's 25 MB upload limit);
- ``bomb_100k``: a 60-byte PNG that declares 100,000 x 100,000 pixels (a decompression bomb);
- ``not_an_image``: a PDF named ``photo.png``;
- ``frames_10k``: a GIF of 10,000 frames (the frame limit is 1,000);
- ``mask_other_size``: a good still with a brush mask of another size.

Measured: peak RSS of the process (server and clients: an upper bound for the server), the temporary folder's size
before, at its largest, after the run and after the server closed; tracebacks and ERROR records in the server log
(stderr and logging); every good request served (frame count and size checked), every hostile one refused with its
expected message. Stops by itself: every request has a deadline, the whole run ``--deadline`` seconds.

    python benchmarks/space_abuse.py [--model still2motion/default_model] [--clients 64] [--hostile 0.25]
        [--rounds 2] [--big-mb 100] [--json out.json]
    python benchmarks/space_abuse.py --quick   # a tiny random model, 16 clients (5 hostile), 30 MB: the test's (~20 s)
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import logging
import multiprocessing
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # app.py and this checkout's still2motion
MB = 1 << 20


class _Tee(io.TextIOBase):
    """stderr, also kept in memory: the server log the run is judged on."""

    def __init__(self, stream):
        self.stream, self.parts, self.lock = stream, [], threading.Lock()

    def write(self, text):
        with self.lock:
            self.parts.append(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()

    def text(self) -> str:
        with self.lock:
            return "".join(self.parts)


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(f"{record.name}: {record.getMessage()}")


def folder_bytes(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass  # removed while we walked
    return total


def vm_hwm_mb() -> float:
    """This process's peak resident memory so far (VmHWM), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A valid PNG header declaring 100,000 x 100,000 RGBA pixels, and one compressed row."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def many_frames_gif(n: int) -> bytes:
    """A 1x1 GIF of ``n`` frames (each a graphic control extension, a descriptor and 1 pixel of LZW)."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"\x21\xf9\x04\x00\x02\x00\x00\x00" + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame * n + b"\x3b"


def good_still(size: int, seed: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / max(1, size - 1)
    arr = np.zeros((size, size, 4), np.uint8)
    arr[..., 0], arr[..., 1] = xx * 255, yy * 255
    arr[..., 2] = rng.integers(0, 256)
    arr[..., 3] = np.where((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.16, 255, 0)
    return Image.fromarray(arr, "RGBA")


def tiny_model(folder: Path) -> Path:
    """A small model with random motion heads (``--quick``): it moves, and loads in a second."""
    import torch

    from still2motion import Still2Motion

    torch.manual_seed(0)
    model = Still2Motion(resolution=32, block_out_channels=(4, 8, 16), num_layers=2, num_harmonics=2,
                         flow_downsample=4, noise_dim=4).eval()
    with torch.no_grad():
        for head in (model.affine_head[-1], model.flow_head, model.mask_head):
            for p in head.parameters():
                p.normal_(0, 0.05)
    model.save_pretrained(folder)
    return folder


def run(*, model: str | None, clients: int, hostile: float, rounds: int, big_mb: int, deadline_s: float,
        quick: bool) -> dict:
    """Runs the abuse in this process and returns the measurements (see the module docstring)."""
    scratch = Path(tempfile.mkdtemp(prefix="space_abuse-"))
    temp_root = scratch / "tmp"  # the server's temporary folder: the app's work folder and gradio's uploads/cache
    inputs, downloads = scratch / "inputs", scratch / "client-downloads"  # the clients' side, not measured
    for folder in (temp_root, inputs, downloads):
        folder.mkdir()
    os.environ["GRADIO_TEMP_DIR"] = str(temp_root / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    tempfile.tempdir = str(temp_root)  # before gradio and app.py are imported: both take their folders from here
    if quick:
        model = str(tiny_model(scratch / "model"))
    if model:
        os.environ["STILL2MOTION_MODEL"] = model

    tee = _Tee(sys.stderr)
    sys.stderr = tee
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    server_log = logging.StreamHandler(tee)  # the app's own lines ("request refused: ..."), as app.py logs them
    server_log.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("app").addHandler(server_log)
    logging.getLogger("app").setLevel(logging.INFO)
    unhandled: list[str] = []
    threading.excepthook = lambda args: unhandled.append(f"{args.exc_type.__name__}: {args.exc_value}")

    temp_start = folder_bytes(temp_root)
    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    **app.LAUNCH_OPTIONS)
    url = f"http://127.0.0.1:{port}/"
    temp_launched = folder_bytes(temp_root)

    # Hostile inputs, each with the fragment its error must contain.
    big = inputs / "big.png"
    with open(big, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(big_mb * MB)
    (inputs / "bomb.png").write_bytes(bomb_png())
    (inputs / "photo.png").write_bytes(b"%PDF-1.4\n" + os.urandom(4000))
    (inputs / "frames.gif").write_bytes(many_frames_gif(10_000))
    good_still(64, 0).save(inputs / "masked.png")
    good_still(48, 1).resize((48, 32)).save(inputs / "mask_layer.png")
    hostile_cases = {
        f"upload_{big_mb}mb": (big, {"raw_upload": True}, "File size exceeded maximum allowed size of 26214400 bytes"),
        "bomb_100k": (inputs / "bomb.png", {}, "100000x100000 = 10000000000 pixels, more than the limit"),
        "not_an_image": (inputs / "photo.png", {}, "not an image"),
        "frames_10k": (inputs / "frames.gif", {}, "10000 frames is more than the limit of 1000"),
        "mask_other_size": (inputs / "masked.png", {"mask": "layer"}, "mask is 48x32 but"),
    }
    sizes = [64, 128, 256, 512]
    n_hostile = round(clients * hostile)
    plan = []  # (client index, kind, case)
    for i in range(clients):
        if i < n_hostile:
            plan.append((i, "hostile", list(hostile_cases)[i % len(hostile_cases)]))
        else:
            size = sizes[i % len(sizes)] if not quick else sizes[i % 2]
            good_still(size, i).save(inputs / f"good_{i}.png")
            plan.append((i, "good", size))

    peak = {"rss_mb": rss_mb(), "temp_bytes": temp_launched}
    stop = threading.Event()

    def sample():
        while not stop.wait(0.05):
            peak["rss_mb"] = max(peak["rss_mb"], rss_mb())
            peak["temp_bytes"] = max(peak["temp_bytes"], folder_bytes(temp_root))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    # The clients run in a process of their own (spawned, not forked: this one has threads), so that the peak RSS
    # measured here is the server's alone.
    results_path = scratch / "results.json"
    child = multiprocessing.get_context("spawn").Process(
        target=run_clients, args=(url, plan, hostile_cases, inputs, downloads, rounds, deadline_s, results_path))
    try:
        child.start()
        child.join(deadline_s + 300)
        if child.is_alive():
            child.kill()
            raise RuntimeError(f"the clients did not finish within {deadline_s + 300:.0f} s")
        client_side = json.loads(results_path.read_text())
        results = client_side["results"]
    finally:
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        temp_after_run = folder_bytes(temp_root)
        app.demo.close()
        shutil.rmtree(app.WORK_DIR, ignore_errors=True)  # what app.py's atexit handler does when the server exits
        temp_after_close = folder_bytes(temp_root)
        sys.stderr = tee.stream
        logging.getLogger().removeHandler(errors)
        logging.getLogger("app").removeHandler(server_log)
    log = tee.text()
    good = [r for r in results if r["kind"] == "good"]
    bad = [r for r in results if r["kind"] == "hostile"]
    out = {
        "config": {"model": app.MODEL_NAME, "clients": clients, "hostile_clients": n_hostile, "rounds": rounds,
                   "big_upload_mb": big_mb, "cpu_threads": os.cpu_count()},
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak["rss_mb"], 1),
        "server_peak_rss_mb": round(vm_hwm_mb(), 1),
        "clients_peak_rss_mb": client_side["peak_rss_mb"],
        "temp_bytes": {"start": temp_start, "launched": temp_launched, "peak": peak["temp_bytes"],
                       "after_run": temp_after_run, "after_close": temp_after_close},
        "good": {"requests": len(good), "served": sum(r["ok"] for r in good),
                 "p50_s": _pct([r["s"] for r in good if "s" in r], 50), "max_s": _pct([r["s"] for r in good if "s" in r], 100),
                 "failures": [r for r in good if not r["ok"]][:5]},
        "hostile": {case: {"requests": sum(r["case"] == case for r in bad),
                           "clear_errors": sum(r["ok"] for r in bad if r["case"] == case),
                           "example": next((r["error"] for r in bad if r["case"] == case), None)}
                    for case in hostile_cases},
        "server_log": {"tracebacks": log.count("Traceback (most recent call last)"), "error_records": errors.records[:10],
                       "unhandled_thread_exceptions": unhandled,
                       "refused_lines": sum("request refused:" in line for line in log.splitlines())},
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return out


def run_clients(url: str, plan: list, hostile_cases: dict, inputs: Path, downloads: Path, rounds: int,
                deadline_s: float, results_path: Path) -> None:
    """The clients' side (a process of its own): every planned client at once; writes the results to
    ``results_path``."""
    from gradio_client import Client, handle_file

    from still2motion import read_animation

    clients = len(plan)
    # The clients connect first, one after another (each fetches the app's config and API): the abuse is in the
    # requests, which then all start at once.
    clients_by_index = {}
    for i, _, _ in plan:
        for attempt in range(3):
            try:
                clients_by_index[i] = Client(url, verbose=False, download_files=str(downloads / f"c{i}"))
                break
            except Exception:  # noqa: BLE001 -- a slow machine: try again, then let the run fail loudly
                if attempt == 2:
                    raise
    started = time.monotonic()

    def one_client(entry):
        i, kind, case = entry
        client = clients_by_index[i]
        results = []
        for r in range(rounds):
            if time.monotonic() - started > deadline_s:
                results.append({"client": i, "kind": kind, "case": case, "ok": False, "error": "run deadline"})
                continue
            t0 = time.monotonic()
            if kind == "good":
                frames, fmt = (8, 12, 20)[(i + r) % 3], ("apng", "gif")[(i + r) % 2]
                try:
                    preview, download = client.predict(handle_file(str(inputs / f"good_{i}.png")), frames=frames,
                                                       format=fmt, seed=i, api_name="/animate")
                    anim = read_animation(download)
                    ok = len(anim.frames) == frames and anim.frames[0].shape[:2] == (case, case)
                    results.append({"client": i, "kind": kind, "case": f"{case}px", "ok": ok,
                                    "s": time.monotonic() - t0, "error": None if ok else "wrong output"})
                except Exception as exc:  # noqa: BLE001 -- any failure of a good request is what we count
                    results.append({"client": i, "kind": kind, "case": f"{case}px", "ok": False,
                                    "s": time.monotonic() - t0, "error": f"{type(exc).__name__}: {exc}"[:300]})
            else:
                path, extra, expected = hostile_cases[case]
                kwargs = {}
                if extra.get("mask"):
                    kwargs["mask"] = {"background": handle_file(str(path)), "composite": None,
                                      "layers": [handle_file(str(inputs / "mask_layer.png"))]}
                try:
                    if extra.get("raw_upload"):  # straight to the upload route: gradio_client would refuse it itself
                        message, ok = _raw_upload(url, path, expected)
                        results.append({"client": i, "kind": kind, "case": case, "ok": ok,
                                        "s": time.monotonic() - t0, "error": message[:300]})
                        continue
                    client.predict(handle_file(str(path)), frames=8, api_name="/animate", **kwargs)
                    message, ok = "served (expected an error)", False
                except Exception as exc:  # noqa: BLE001 -- the error is the expected answer; judged below
                    message = str(exc)
                    ok = expected in message and "\n" not in message.strip() and "Traceback" not in message
                results.append({"client": i, "kind": kind, "case": case, "ok": ok, "s": time.monotonic() - t0,
                                "error": message[:300]})
        shutil.rmtree(downloads / f"c{i}", ignore_errors=True)
        return results

    with ThreadPoolExecutor(clients) as pool:
        results = [r for rs in pool.map(one_client, plan) for r in rs]
    results_path.write_text(json.dumps({"results": results, "peak_rss_mb": round(vm_hwm_mb(), 1)}))


def _raw_upload(url: str, path: Path, expected: str) -> tuple[str, bool]:
    """POSTs ``path`` to gradio's upload route, streamed, as a browser would; returns (answer, refused clearly)."""
    import httpx

    with open(path, "rb") as f:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": (path.name, f, "image/png")}, timeout=120)
    text = response.text.strip()
    return f"HTTP {response.status_code}: {text}", response.status_code == 413 and expected in text and "\n" not in text


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: as the app resolves it)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--hostile", type=float, default=0.25, help="fraction of the clients that are hostile")
    parser.add_argument("--rounds", type=int, default=2, help="requests per client")
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--deadline", type=float, default=900, help="seconds; later requests are not sent")
    parser.add_argument("--quick", action="store_true", help="tiny random model, 16 clients, 1 round, 30 MB upload")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.hostile, args.rounds, args.big_mb = 16, 5 / 16, 1, 30
    result = run(model=args.model, clients=args.clients, hostile=args.hostile, rounds=args.rounds,
                 big_mb=args.big_mb, deadline_s=args.deadline, quick=args.quick)
    text = json.dumps(result, indent=2)
    print(text)
    t, g = result["temp_bytes"], result["good"]
    print(f"\npeak RSS {result['peak_rss_mb']:.0f} MB (<= 1536); temp folder {t['start']} B at start, "
          f"{t['peak'] / MB:.1f} MB at most, {t['after_run'] / MB:.1f} MB after the run, {t['after_close']} B after "
          f"close; good served {g['served']}/{g['requests']}; tracebacks {result['server_log']['tracebacks']}; "
          f"wall {result['wall_s']} s", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
