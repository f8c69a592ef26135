"""Worker pools never fork: a fork after a thread has run PyAV deadlocks the child (the suite once hung here)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from train.data.workers import worker_pool  # noqa: E402

# A Telegram encode on a pool thread that stays alive (as the app's encoder pool does), then the compact-pack writer
# with one worker: with a forked Pool this hangs forever in the child (sws_freeContext -> pthread_cond_destroy).
SCRIPT = textwrap.dedent("""
    import sys, tempfile
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    import numpy as np
    from PIL import Image
    sys.path[:0] = [{root!r}, {tests!r}]

    def main():
        from still2motion.io.telegram import encode_telegram
        from test_compact_pack import make_root
        from train.data.pack import write_compact_pack
        frames = [Image.fromarray(np.full((64, 64, 4), (i * 40, 100, 50, 255), np.uint8), "RGBA") for i in range(6)]
        encoder = ThreadPoolExecutor(2)  # never shut down, like app.ENCODER
        encoder.submit(encode_telegram, frames, [100] * 6).result()
        tmp = Path(tempfile.mkdtemp())
        write_compact_pack(make_root(tmp / "root"), tmp / "pack.bin", resolution=16, workers=1)
        print("packed", (tmp / "pack.bin").stat().st_size > 0)

    if __name__ == "__main__":
        main()
""")


def test_worker_pool_spawns():
    with worker_pool(1) as pool:
        assert pool._ctx.get_start_method() == "spawn"
        assert pool.apply(abs, (-3,)) == 3


@pytest.mark.slow
def test_pack_writer_after_a_pyav_thread_does_not_hang(tmp_path):
    pytest.importorskip("av")
    script = tmp_path / "after_thread.py"
    script.write_text(SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests" / "train")))
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the pack writer hung after a PyAV encode on another thread (a forked worker deadlocked)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "packed True"


def test_the_suite_runs_under_a_per_test_timeout(pytestconfig):
    # pytest-timeout is installed from requirements.txt and pyproject.toml sets its limit, so a hang fails loudly
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert 0 < float(pytestconfig.getini("timeout")) <= 600
