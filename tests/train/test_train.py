"""train/train.py driven in-process on tiny synthetic data: checkpoints, resume, faults, bf16, baselines, Hub push."""

import json
import re
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from accelerate.state import AcceleratorState, GradientState  # noqa: E402

from _train_data import make_loop_folder, make_prepared_root  # noqa: E402
from conftest import sprite  # noqa: E402
from still2motion import Still2Motion, load_model  # noqa: E402
from train.evaluate.design_baselines import Pix2PixGenerator, STNGenerator, load_generator  # noqa: E402
from train import checkpointing  # noqa: E402
from train import train as train_script  # noqa: E402
from train.args import parse_args  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402


pytestmark = pytest.mark.usefixtures("fresh_accelerate")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_prepared_root(tmp_path_factory.mktemp("data") / "root")


def run(data, out, *extra) -> dict:
    args = parse_args([
        "--data_dir", str(data), "--output_dir", str(out), "--resolution", "32", "--block_out_channels", "4,8,16",
        "--train_batch_size", "2", "--report_to", "none", *map(str, extra),
    ])
    return train_script.main(args)


def checkpoint_names(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if "checkpoint" in p.name}


def test_total_limit_keeps_two_newest_and_latest_resumes_at_saved_step(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    result = run(root, out, "--max_train_steps", 6, "--checkpointing_steps", 2, "--checkpoints_total_limit", 2, "--use_ema")
    assert result["global_step"] == 6
    assert checkpoint_names(out) == {"checkpoint-4", "checkpoint-6"}
    assert checkpointing.read_state(out / "checkpoint-6")["global_step"] == 6

    calls = []
    real_step = train_script.generator_step
    monkeypatch.setattr(train_script, "generator_step", lambda run, o, step, check: calls.append(step) or real_step(run, o, step, check))
    AcceleratorState._reset_state(True)
    result = run(root, out, "--max_train_steps", 8, "--checkpointing_steps", 2, "--checkpoints_total_limit", 2,
                 "--use_ema", "--resume_from_checkpoint", "latest")
    assert calls == [7, 8]  # continued at the saved step, not from 0
    assert result["global_step"] == 8
    assert checkpoint_names(out) == {"checkpoint-6", "checkpoint-8"}


def test_checkpoint_generator_folder_loads_with_from_pretrained(root, tmp_path):
    out = tmp_path / "out"
    result = run(root, out, "--max_train_steps", 2, "--checkpointing_steps", 2, "--use_ema")
    loaded = Still2Motion.from_pretrained(out / "checkpoint-2" / "generator")
    exported = result["generator"].state_dict()
    assert all(torch.equal(v, exported[k]) for k, v in loaded.state_dict().items())  # the EMA weights
    assert len(load_model(out).animate(sprite(24, 32), num_frames=4).frames) == 4


@pytest.mark.parametrize("point", ["mid_save_state", "before_rename"])
def test_interrupted_save_is_never_picked_and_resume_cleans_it(root, tmp_path, monkeypatch, point):
    out = tmp_path / "out"
    monkeypatch.setenv(checkpointing.FAULT_ENV, f"{point}@4")
    with pytest.raises(checkpointing.InjectedFault, match=point):
        run(root, out, "--max_train_steps", 6, "--checkpointing_steps", 2)
    assert checkpoint_names(out) == {"checkpoint-2", ".tmp-checkpoint-4"}
    assert checkpointing.latest_checkpoint(out).name == "checkpoint-2"

    monkeypatch.delenv(checkpointing.FAULT_ENV)
    AcceleratorState._reset_state(True)
    result = run(root, out, "--max_train_steps", 4, "--checkpointing_steps", 2, "--resume_from_checkpoint", "latest")
    assert result["global_step"] == 4
    assert checkpoint_names(out) == {"checkpoint-2", "checkpoint-4"}


def test_nan_loss_stops_naming_the_step_and_last_checkpoint_is_intact(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv(checkpointing.FAULT_ENV, "nan_loss@3")
    with pytest.raises(FloatingPointError, match=r"non-finite generator loss \(nan\) at step 3"):
        run(root, out, "--max_train_steps", 6, "--checkpointing_steps", 2)
    assert checkpoint_names(out) == {"checkpoint-2"}
    Still2Motion.from_pretrained(out / "checkpoint-2" / "generator")


def test_time_budget_stops_cleanly_with_checkpoint_and_model(root, tmp_path):
    out = tmp_path / "out"
    result = run(root, out, "--max_train_steps", 1000, "--checkpointing_steps", 500, "--max_train_time_minutes", 1e-6)
    assert result["global_step"] == 1
    assert checkpoint_names(out) == {"checkpoint-1"}
    assert {"config.json", "model.safetensors", "README.md", "metrics.json"} <= {p.name for p in out.iterdir()}


def test_bf16_autocast_reaches_the_generator(root, tmp_path, monkeypatch):
    dtypes = set()
    real_build = train_script.build_models

    def build_and_hook(args, hooks):
        generator, discriminators = real_build(args, hooks)
        generator.unet.stem.net[0].register_forward_hook(lambda m, i, o: dtypes.add(o.dtype))
        return generator, discriminators

    monkeypatch.setattr(train_script, "build_models", build_and_hook)
    run(root, tmp_path / "out", "--max_train_steps", 1, "--mixed_precision", "bf16")
    assert torch.bfloat16 in dtypes


@pytest.mark.parametrize("kind, cls", [("pix2pix", Pix2PixGenerator), ("stn", STNGenerator)])
def test_baselines_train_save_load_and_animate(root, tmp_path, kind, cls):
    out = tmp_path / kind
    run(root, out, "--generator", kind, "--max_train_steps", 1)
    config = json.loads((out / "config.json").read_text())
    assert config["generator_type"] == kind
    model = load_generator(out)
    assert isinstance(model, cls)
    animation = model.animate(sprite(24, 32), num_frames=5, seed=1)
    assert len(animation.frames) == 5 and animation.frames[3].size == (24, 32)


def test_user_folder_with_motion_targets_and_no_discriminator(tmp_path):
    folder = make_loop_folder(tmp_path / "mine", count=4)
    seqs = sorted(p.name for p in folder.iterdir())
    K, M, Hf = 2, 3, 8  # still2motion defaults at resolution 32: flow at 32 / 4
    gen = torch.Generator().manual_seed(0)
    from still2motion.motion import Motion

    motion = Motion(torch.softmax(torch.randn(4, K, 32, 32, generator=gen), 1), 0.05 * torch.randn(4, K, 6, M, 2, generator=gen),
                    0.01 * torch.randn(4, K, 2, M, 2, Hf, Hf, generator=gen))
    save_targets(tmp_path / "targets.safetensors", seqs, motion, {"resolution": 32})
    result = run(folder, tmp_path / "out", "--max_train_steps", 2, "--motion_targets", tmp_path / "targets.safetensors",
                 "--best_of_k", 3, "--reversal_invariant", "--lambda_gan", 0, "--lambda_temporal", 0)
    assert result["global_step"] == 2
    assert isinstance(load_model(tmp_path / "out"), Still2Motion)


def test_push_to_hub_uploads_model_and_card_numbers_come_from_metrics_json(root, tmp_path):
    out = tmp_path / "out"
    with mock.patch.object(train_script, "HfApi") as api_cls:
        api = api_cls.return_value
        api.create_repo.return_value.repo_id = "someone/tiny"
        uploaded = {}
        api.upload_folder.side_effect = lambda **kw: uploaded.update(kw, files={p.name for p in Path(kw["folder_path"]).iterdir()})
        run(root, out, "--max_train_steps", 2, "--use_ema", "--validation_steps", 1, "--push_to_hub",
            "--hub_model_id", "someone/tiny", "--hub_token", "hf_x", "--report_to", "tensorboard")
    api.create_repo.assert_called_once()
    assert api.create_repo.call_args.args[0] == "someone/tiny"
    assert uploaded["repo_id"] == "someone/tiny"
    assert {"config.json", "model.safetensors", "README.md"} <= uploaded["files"] & set(uploaded["allow_patterns"])
    assert not any("checkpoint" in p for p in uploaded["allow_patterns"])

    metrics = json.loads((out / "metrics.json").read_text())["rows"]["model"]["overall"]
    card = (out / "README.md").read_text()
    rows = re.findall(r"^\| model \| (\w+) \| ([^|]+) \| ([^|]+) \|$", card, flags=re.M)
    assert len(rows) >= 10
    for metric, mean, median in rows:
        assert float(mean) == pytest.approx(metrics[metric]["mean"], rel=1e-5, abs=1e-12)
        assert float(median) == pytest.approx(metrics[metric]["median"], rel=1e-5, abs=1e-12)
    assert "CC0-1.0" in card and "GPL-2.0-or-later" in card and "steps: 2" in card
    assert list((out / "samples" / "step-1").glob("*.apng"))
    assert list((out / "logs").rglob("events.out.tfevents*"))
    assert not any(b"hf_x" in p.read_bytes() for p in out.rglob("*") if p.is_file())  # the token is in no file


def test_flags_are_checked():
    with pytest.raises(ValueError, match="--num_layers only applies"):
        parse_args(["--data_dir", "x", "--generator", "pix2pix", "--num_layers", "3"])
    with pytest.raises(ValueError, match="--push_to_hub needs --hub_model_id"):
        parse_args(["--data_dir", "x", "--push_to_hub"])


def test_source_balance_trains_on_the_balanced_draws(tmp_path, caplog):
    import logging

    uneven = make_prepared_root(tmp_path / "root", per_split={"train": 7, "val": 1})  # 3 alpha, 4 beta loops
    with caplog.at_level(logging.INFO):
        result = run(uneven, tmp_path / "out", "--max_train_steps", 1, "--source_balance", 0,
                     "--lambda_gan", 0, "--lambda_temporal", 0)
    assert result["global_step"] == 1
    assert "draws per epoch {'alpha': 4, 'beta': 3}" in caplog.text  # equal shares of 7: 3.5 each, the tie to alpha


def test_loader_workers_are_spawned_and_train(root, tmp_path):
    # a forked loader worker can deadlock in a process that has run threads; the spawned one must still get the data
    result = run(root, tmp_path / "out", "--max_train_steps", 2, "--dataloader_num_workers", 1)
    assert result["global_step"] == 2
    assert (tmp_path / "out" / "model.safetensors").is_file()
