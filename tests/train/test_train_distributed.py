"""Two training processes on CPU through `accelerate launch` (one subprocess: ~10 s of imports per rank)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from _train_data import make_prepared_root  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import hashlib, json, sys
    from pathlib import Path
    from train.args import parse_args
    from train.train import main

    args = parse_args(sys.argv[1:])
    result = main(args)
    rank, world = result["process_index"], result["num_processes"]

    def digest(module):
        h = hashlib.sha256()
        for name, tensor in sorted(module.state_dict().items()):
            h.update(name.encode()); h.update(tensor.detach().float().contiguous().numpy().tobytes())
        return h.hexdigest()

    record = {"rank": rank, "world": world, "step": result["global_step"], "generator": digest(result["generator"])}
    Path(args.output_dir, f"rank{rank}.json").write_text(json.dumps(record))
    """
)


@pytest.mark.slow
def test_two_cpu_processes_both_train_and_keep_identical_weights(tmp_path):
    root = make_prepared_root(tmp_path / "root", {"train": 8, "val": 1})
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "out"
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", str(driver),
        "--data_dir", str(root), "--output_dir", str(out), "--resolution", "32", "--block_out_channels", "4,8,16",
        "--train_batch_size", "2", "--max_train_steps", "2", "--checkpointing_steps", "2", "--report_to", "none",
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in records] == [2, 2]  # `--cpu --num_processes 2` would silently run one
    assert [r["step"] for r in records] == [2, 2]
    assert records[0]["generator"] == records[1]["generator"]  # DDP kept the ranks in step
    assert {p.name for p in (out / "checkpoint-2").iterdir()} >= {"generator", "training_state.json", "random_states_1.pkl"}
