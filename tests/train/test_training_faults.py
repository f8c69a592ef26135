"""Crashes during training: injected faults (``STILL2MOTION_FAULT``) and SIGKILLs at seeded times, then
``--resume_from_checkpoint latest``.

After every crash: each ``checkpoint-<step>`` folder is complete (its ``generator/`` loads, its state holds its step),
``latest`` is the newest complete one, the resumed run continues at the step after it, and
``--checkpoints_total_limit`` holds. Covered in tests/train/test_train.py and not repeated here: ``before_rename`` (the temp
folder is never picked and is removed on resume) and ``nan_loss`` (the run stops naming the step).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from _train_data import make_loop_folder, make_prepared_root
from still2motion import Still2Motion
from train.data.any_dataset import open_dataset
from train import checkpointing
from train import train as train_script
from train.args import parse_args
from accelerate.state import AcceleratorState, GradientState

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--resolution", "32", "--block_out_channels", "4,8,16", "--train_batch_size", "2", "--report_to", "none"]
LIMIT = 2


pytestmark = pytest.mark.usefixtures("fresh_accelerate")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_prepared_root(tmp_path_factory.mktemp("data") / "root")


def run(data, out, *extra) -> dict:
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    return train_script.main(parse_args(["--data_dir", str(data), "--output_dir", str(out), *TINY, *map(str, extra)]))


def resume_and_record_steps(root, out, max_steps, monkeypatch) -> tuple[dict, list[int]]:
    """Resumes with ``latest`` up to ``max_steps``; returns the result and the steps the generator was trained at."""
    calls: list[int] = []
    real = train_script.generator_step
    monkeypatch.setattr(train_script, "generator_step", lambda r, o, step, check: calls.append(step) or real(r, o, step, check))
    result = run(root, out, "--max_train_steps", max_steps, "--checkpointing_steps", 1,
                 "--checkpoints_total_limit", LIMIT, "--resume_from_checkpoint", "latest")
    return result, calls


def checkpoint_folders(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if p.name.startswith("checkpoint-")}


def assert_every_checkpoint_complete(out: Path) -> None:
    """Every ``checkpoint-*`` folder is listed as complete, holds its own step and loads as a model."""
    listed = checkpointing.list_checkpoints(out)
    assert {p.name for _, p in listed} == checkpoint_folders(out)
    for step, path in listed:
        assert checkpointing.read_state(path)["global_step"] == step
        Still2Motion.from_pretrained(path / "generator")


@pytest.mark.parametrize("fault, at, complete", [("mid_save_state", 3, 2), ("mid_step", 3, 2)])
def test_injected_fault_then_resume(fault, at, complete, root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv(checkpointing.FAULT_ENV, f"{fault}@{at}")
    with pytest.raises(checkpointing.InjectedFault, match=fault):
        run(root, out, "--max_train_steps", 5, "--checkpointing_steps", 1, "--checkpoints_total_limit", LIMIT)
    assert_every_checkpoint_complete(out)
    assert checkpointing.latest_checkpoint(out).name == f"checkpoint-{complete}"
    monkeypatch.delenv(checkpointing.FAULT_ENV)
    result, calls = resume_and_record_steps(root, out, complete + 2, monkeypatch)
    assert calls == [complete + 1, complete + 2] and result["global_step"] == complete + 2
    assert checkpoint_folders(out) == {f"checkpoint-{complete + 1}", f"checkpoint-{complete + 2}"}  # limit holds
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]  # the interrupted save was cleaned up
    assert_every_checkpoint_complete(out)


@pytest.mark.slow
def test_sigkill_at_seeded_times_then_resume(root, tmp_path, monkeypatch):
    """Three runs killed with SIGKILL at seeded delays after their second checkpoint (saving every step, so a kill
    often lands inside a save or a prune); each is resumed to two steps past its latest checkpoint."""
    rng = np.random.default_rng(10)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop(checkpointing.FAULT_ENV, None)
    for trial, delay in enumerate(rng.uniform(0.0, 1.5, size=3)):
        out = tmp_path / f"killed{trial}"
        argv = [sys.executable, "train/train.py", "--data_dir", str(root), "--output_dir", str(out), *TINY,
                "--max_train_steps", "1000", "--checkpointing_steps", "1", "--checkpoints_total_limit", str(LIMIT)]
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 90
            while not (out / "checkpoint-2").is_dir():
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "no checkpoint-2 within 90 s"
                time.sleep(0.05)
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        assert_every_checkpoint_complete(out)
        assert len(checkpoint_folders(out)) <= LIMIT + 1  # a kill between the rename and the prune
        latest = checkpointing.list_checkpoints(out)[-1][0]
        result, calls = resume_and_record_steps(root, out, latest + 2, monkeypatch)
        assert calls == [latest + 1, latest + 2] and result["global_step"] == latest + 2, (trial, delay)
        assert checkpoint_folders(out) == {f"checkpoint-{latest + 1}", f"checkpoint-{latest + 2}"}
        assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]
        monkeypatch.undo()


def test_prune_removes_a_checkpoint_from_the_listing_before_deleting_it(tmp_path, monkeypatch):
    """A crash inside the delete of an old checkpoint leaves a temp folder, not a half-deleted ``checkpoint-<step>``."""
    for step in (1, 2, 3):
        (tmp_path / f"checkpoint-{step}" / "generator").mkdir(parents=True)
        (tmp_path / f"checkpoint-{step}" / checkpointing.STATE_NAME).write_text(f'{{"global_step": {step}}}')

    def crash(path, *args, **kwargs):
        raise KeyboardInterrupt  # the process dies mid-delete

    monkeypatch.setattr(checkpointing.shutil, "rmtree", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpointing.prune_checkpoints(tmp_path, 2)
    assert checkpoint_folders(tmp_path) == {"checkpoint-2", "checkpoint-3"}
    monkeypatch.undo()
    checkpointing.remove_temp_folders(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"checkpoint-2", "checkpoint-3"}


def test_corrupt_files_in_a_folder_are_skipped_counted_and_training_runs(tmp_path):
    folder = make_loop_folder(tmp_path / "mine", count=3)
    (folder / "empty.gif").write_bytes(b"")
    (folder / "noise.webp").write_bytes(np.random.default_rng(0).bytes(500))
    (folder / "cut.png").write_bytes((folder / "loop00.png").read_bytes()[:300])
    frames = folder / "frames"
    frames.mkdir()
    for i in range(3):
        (frames / f"{i}.png").write_bytes((folder / "loop01.png").read_bytes())
    (frames / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    dataset = open_dataset(folder, "all", resolution=32)
    assert len(dataset) == 3
    assert sorted(Path(p).name for p, _ in dataset.skipped) == ["cut.png", "empty.gif", "frames", "noise.webp"]
    assert run(folder, tmp_path / "out", "--max_train_steps", 2, "--lambda_temporal", 0)["global_step"] == 2


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_loss_names_the_step_and_the_checkpoint(value, tmp_path):
    """The check behind ``nan_loss`` (see test_train.py for the whole run): inf is as fatal as NaN."""
    (tmp_path / "checkpoint-4" / "generator").mkdir(parents=True)
    (tmp_path / "checkpoint-4" / checkpointing.STATE_NAME).write_text('{"global_step": 4}')
    accelerator = SimpleNamespace(reduce=lambda tensor, op: tensor)
    check = train_script.finite_checker(SimpleNamespace(accelerator=accelerator, args=SimpleNamespace(output_dir=tmp_path)),
                                        lambda: 7)
    check("generator", torch.tensor(1.0))
    with pytest.raises(FloatingPointError, match=rf"non-finite generator loss \({value}\) at step 7.*checkpoint-4"):
        check("generator", torch.tensor(value))



def test_a_broken_frame_in_a_prepared_root_is_skipped_and_counted(tmp_path):
    from _train_data import make_prepared_root

    root = make_prepared_root(tmp_path / "root")
    dataset = open_dataset(root, "train", resolution=32, augment=False)
    seq = dataset.meta(0)[0]
    for frame in (root / "train" / seq).glob("*.png"):
        frame.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    items = [dataset[i] for i in range(len(dataset))]
    assert [name for name, _ in dataset.skipped] == [seq]
    assert all(item["seq"] != seq for item in items) and len(items) == len(dataset)
