"""Ctrl-C during the final lossless compression (issue 32, item 4): oxipng holds the GIL for a minute on a large image,
so it runs in a child process; the CLI answers Ctrl-C at once, kills the child, leaves nothing behind, and its
progress timer keeps moving meanwhile."""

import _thread
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from still2motion.io import apng_write

SLOW_CHILD = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"


@pytest.fixture
def ctrl_c_answered():
    """Ctrl-C raises KeyboardInterrupt in this process, as in a terminal: a suite started as a background job inherits
    SIGINT ignored (POSIX), and Python then neither installs its handler nor delivers ``interrupt_main``; a child
    started meanwhile gets SIGINT back at its default when it execs (a handled signal is reset, an ignored one is
    not), so the CLI in it installs its own handler."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_ctrl_c_during_max_compression_stops_the_child_and_writes_nothing(model_dir, still, tmp_path, capsys,
                                                                          monkeypatch, ctrl_c_answered):
    children, started = [], []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            children.append(self)

    def slow_command(options):  # a compression that would take a minute; Ctrl-C half a second into it
        started.append(time.monotonic())
        threading.Timer(0.5, _thread.interrupt_main).start()
        return [sys.executable, "-c", SLOW_CHILD]

    monkeypatch.setattr(apng_write, "_oxipng_command", slow_command)
    monkeypatch.setattr(apng_write.subprocess, "Popen", Recorded)
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 4, "--optimize", "max",
                            "--model", model_dir], capsys)
    assert code == 130 and "interrupted" in err, err
    assert time.monotonic() - started[0] < 20  # not the child's 60 s
    assert len(children) == 1 and children[0].poll() is not None  # the child was stopped, not left running
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no output, no temporary file


def test_sigint_reaches_the_cli_while_oxipng_runs(tmp_path, ctrl_c_answered):
    """The real thing, in a subprocess: a large picture of random 8-px blocks, which zlib packs in a second and oxipng
    works on for many (measured at 1000x1000 x 4 frames: 0.15 s and 1.6 s; 24 frames of 1600x1600 leave
    several seconds to interrupt even on an idle machine)."""
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(200, 200, 4), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    arr[..., 3] = 255
    Image.fromarray(arr, "RGBA").save(tmp_path / "noise.png", compress_level=1)
    argv = [sys.executable, "-m", "still2motion", "animate", str(tmp_path / "noise.png"), "-o", str(tmp_path / "o.png"),
            "--frames", 24, "--optimize", "max", "--motion", "shake", "--resample", "nearest"]
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen([str(a) for a in argv], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    err = bytearray()
    reader = threading.Thread(target=lambda: [err.extend(chunk) for chunk in iter(lambda: proc.stderr.read1(4096), b"")],
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while b"encoding" not in err and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"encoding" in err, f"the encoding timer never showed (exit {proc.poll()}): {bytes(err)!r}"
        def shown() -> set[bytes]:
            return set(re.findall(rb"encoding noise\.png: (\d\d:\d\d)", bytes(err)))

        until = time.monotonic() + 20
        while len(shown()) < 2 and proc.poll() is None and time.monotonic() < until:
            time.sleep(0.05)  # the timer keeps counting while oxipng runs; interrupt as soon as it has moved
        assert len(shown()) >= 2 and proc.poll() is None, (proc.poll(), shown())
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        waited = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait()
    reader.join(5)
    assert code == 130 and b"interrupted" in err, (code, bytes(err)[-300:])
    assert waited < 5, waited  # within about a second; 5 s leaves room for a loaded machine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.png"]
