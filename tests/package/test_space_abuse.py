"""The Space under abuse, small and fast (benchmarks/space_abuse.py --quick: 16 clients, 5 of them hostile, ~20 s),
and the decoder limits it relies on: an animation's frames are counted, never all kept, and more than 1,000 refused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from still2motion import read_image
from still2motion.io.apng_decode import _parse
from still2motion.io.apng_write import encode_apng
from still2motion.io.gif_decode import parse_gif

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from space_abuse import many_frames_gif  # noqa: E402


def test_an_animation_over_the_frame_limit_is_refused_for_its_first_frame_too(tmp_path):
    path = tmp_path / "frames.gif"
    path.write_bytes(many_frames_gif(1001))
    with pytest.raises(ValueError, match=r"^cannot read '.*frames.gif': 1001 frames is more than the limit of 1000"):
        read_image(path)
    path.write_bytes(many_frames_gif(1000))
    assert read_image(path).n_frames == 1000


def test_an_animated_webp_over_the_frame_limit_is_refused(tmp_path):
    frames = [Image.new("RGBA", (2, 2), (i, 0, 0, 255)) for i in range(5)]
    frames[0].save(tmp_path / "a.webp", save_all=True, append_images=frames[1:], duration=50, lossless=True)
    with pytest.raises(ValueError, match="5 frames is more than the limit of 4"):
        read_image(tmp_path / "a.webp", max_frames=4)


def test_the_parsers_count_every_frame_but_keep_only_the_limit():
    """A million-frame upload must not become a million frame records before the limit refuses it."""
    gif = parse_gif(many_frames_gif(500), max_frames=3)
    assert gif.n_frames == 500 and len(gif.frames) == 3
    rgba = [np.full((2, 2, 4), (i, 0, 0, 255), np.uint8) for i in range(6)]
    _, apng = _parse(encode_apng(rgba, [50] * 6, optimize="none"), 100, 2)
    assert apng.n_frames == 6 and len(apng.frames) == 2 and all(f.data for f in apng.frames)


def test_the_space_under_abuse_quick(tmp_path):
    """Hostile uploads (a 30 MB upload, a 100k x 100k PNG bomb, a PDF named .png, 10,000 frames, a mask of another
    size) beside good requests, all at once: each hostile one refused in one clear line, every good one served, no
    traceback in the server log, the temporary folder back to its size once the server closes, RSS bounded."""
    out = tmp_path / "abuse.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "space_abuse.py"), "--quick", "--json", str(out)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["good"]["requests"] == 11 and result["good"]["served"] == 11, result["good"]
    for case, row in result["hostile"].items():
        assert row["requests"] == 1 and row["clear_errors"] == 1, (case, row)
    log = result["server_log"]
    assert log["tracebacks"] == 0 and not log["error_records"] and not log["unhandled_thread_exceptions"], log
    assert log["refused_lines"] == 4  # one line for each refusal that reached the app (the upload never did)
    temp = result["temp_bytes"]
    assert temp["after_close"] == temp["launched"], temp
    assert result["peak_rss_mb"] < 1536
