"""train/train.py: a configuration that cannot work is one line, found before any output folder or data is touched."""

import re
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared helpers

from _train_data import make_loop_folder  # noqa: E402
from conftest import random_model  # noqa: E402
from still2motion import DEFAULT_MODEL  # noqa: E402
from train import train as train_script  # noqa: E402
from train.preflight import resolve_init_generator  # noqa: E402

pytestmark = pytest.mark.usefixtures("fresh_accelerate")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A user folder of loops; any attempt to read training data fails the test."""
    data = make_loop_folder(tmp_path / "mine", count=3)
    monkeypatch.setattr(train_script, "open_dataset", lambda *a, **k: pytest.fail("data was read"))
    return data


def cli_error(capsys, *argv) -> str:
    code = train_script.cli([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train.py: error: "), err
    return lines[0]


@pytest.mark.parametrize("flags, message", [
    (["--block_out_channels", "16,32"], r"block_out_channels.*flow_downsample must be a power of two <= 2, got 4"),
    (["--model_config", '{"num_layers": 0}'], r"--model_config.*num_layers"),
    (["--model_config", '{"colour": 1}'], r"--model_config.*colour"),
    (["--model_config", "[1, 2]"], r"--model_config must be a JSON object"),
    (["--resolution", "36"], r"from --resolution\) is invalid: resolution must be divisible by .* = 8"),
    (["--lambda_gan", "-1"], r"--lambda_gan must be >= 0, got -1"),
    (["--learning_rate", "0"], r"--learning_rate must be > 0"),
    (["--generator", "stn", "--num_layers", "3"], r"--num_layers only applies to --generator still2motion"),
    (["--motion_targets", "nothere.safetensors"], r"--motion_targets nothere.safetensors: no such file"),
    (["--resume_from_checkpoint", "checkpoint-9"], r"--resume_from_checkpoint checkpoint-9: not a complete checkpoint"),
])
def test_bad_flags_are_one_line_and_nothing_is_written_or_read(folder, tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    line = cli_error(capsys, "--data_dir", folder, "--output_dir", out, "--report_to", "none", *flags)
    assert re.search(message, line), line
    assert not out.exists()


def test_missing_data_dir_is_one_line_and_leaves_no_output_folder(tmp_path, capsys):
    out = tmp_path / "out"
    line = cli_error(capsys, "--data_dir", tmp_path / "nothere", "--output_dir", out)
    assert line == f"train.py: error: --data_dir {tmp_path / 'nothere'}: no such folder"
    assert not out.exists()


def test_a_compact_pack_file_is_a_data_dir_but_another_file_is_not(tmp_path, capsys):
    from train.preflight import check_paths

    pack = tmp_path / "all.s2mpack"
    pack.write_bytes(b"")
    check_paths(train_script.parse_args(["--data_dir", str(pack), "--output_dir", str(tmp_path / "out")]))  # passes
    other = tmp_path / "clip.gif"
    other.write_bytes(b"GIF89a")
    line = cli_error(capsys, "--data_dir", other, "--output_dir", tmp_path / "out")
    assert line == f"train.py: error: --data_dir {other}: not a folder or a compact pack (.s2mpack)"
    assert not (tmp_path / "out").exists()


def test_a_folder_without_usable_animations_is_one_line_and_leaves_no_output_folder(tmp_path, capsys):
    (tmp_path / "stills").mkdir()
    (tmp_path / "stills" / "broken.gif").write_bytes(b"GIF89a garbage")
    out = tmp_path / "out"
    line = cli_error(capsys, "--data_dir", tmp_path / "stills", "--output_dir", out, "--report_to", "none")
    assert "no usable animations" in line
    assert not out.exists()


def test_bundled_model_path_resolves_from_any_working_directory(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert resolve_init_generator("still2motion/default_model") == DEFAULT_MODEL
    assert resolve_init_generator("default") == DEFAULT_MODEL
    out = tmp_path / "out"
    line = cli_error(capsys, "--data_dir", folder, "--output_dir", out, "--init_generator", "still2motion/default_model",
                     "--resolution", "32")  # reads only the bundled config.json: it is at 64
    assert line == "train.py: error: --init_generator is at resolution 64, --resolution is 32"
    assert not out.exists()


@pytest.mark.parametrize("value, message", [
    ("./nowhere", "--init_generator ./nowhere: no such folder"),
    ("runs/a/generator", "--init_generator runs/a/generator: no such folder"),
    ("mine/loop00.png", "--init_generator mine/loop00.png is a file, not a model folder"),
    (".", "--init_generator . is not a saved model: it has no config.json or model.safetensors"),
])
def test_missing_or_wrong_init_generator_is_one_line_and_never_a_hub_id(folder, tmp_path, monkeypatch, capsys, value, message):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    line = cli_error(capsys, "--data_dir", folder, "--output_dir", out, "--init_generator", value)
    assert line == f"train.py: error: {message}"
    assert not out.exists()


def test_init_generator_refuses_architecture_flags_and_another_generator_type(folder, tmp_path, capsys):
    saved = tmp_path / "saved"
    random_model(seed=1).save_pretrained(saved)
    common = ["--data_dir", folder, "--output_dir", tmp_path / "out", "--init_generator", saved, "--resolution", "32"]
    assert "--num_layers cannot be combined with --init_generator" in cli_error(capsys, *common, "--num_layers", "3")
    assert "holds a still2motion generator, not --generator stn" in cli_error(capsys, *common, "--generator", "stn")


@pytest.mark.skipif(torch.accelerator.is_available(), reason="fp16 is refused only without an accelerator")
def test_fp16_without_a_gpu_is_one_line(folder, tmp_path, capsys):
    line = cli_error(capsys, "--data_dir", folder, "--output_dir", tmp_path / "out", "--mixed_precision", "fp16")
    assert line == "train.py: error: --mixed_precision fp16 needs a GPU; on CPU use bf16 or no"


def test_init_generator_from_a_relative_folder_elsewhere_trains(tmp_path, monkeypatch):
    """The path that exists is the folder (never a Hub id), wherever training is started."""
    make_loop_folder(tmp_path / "mine", count=3)
    random_model(seed=2).save_pretrained(tmp_path / "models" / "tiny")  # at resolution 32
    monkeypatch.chdir(tmp_path)
    code = train_script.cli(["--data_dir", "mine", "--output_dir", "out", "--init_generator", "models/tiny",
                             "--resolution", "32", "--max_train_steps", "1", "--train_batch_size", "2",
                             "--lambda_temporal", "0", "--report_to", "none"])
    assert code == 0 and (tmp_path / "out" / "model.safetensors").is_file()
