"""What a run on a user's folder writes about itself: metrics.json and a model card that agree with evaluate.py and
hold no machine paths (paths under ~/.cache/still2motion are written as such) and no Hub token."""

import json
import re
import sys
from pathlib import Path
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared helpers

from _train_data import make_loop_folder  # noqa: E402
from train.evaluate import evaluate  # noqa: E402
from train.ship import model_card  # noqa: E402
from train import train as train_script  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-step run on a user folder inside a stand-in ``~/.cache/still2motion``, started as the script would be."""
    from accelerate.state import AcceleratorState, GradientState

    cache = tmp_path_factory.mktemp("home") / ".cache" / "still2motion"
    data = make_loop_folder(cache / "mine", count=12)
    out = cache / "runs" / "tiny"
    argv = [str(Path(train_script.__file__).resolve()), "--data_dir", str(data), "--output_dir", str(out),
            "--resolution", "32", "--block_out_channels", "4,8,16", "--train_batch_size", "2", "--max_train_steps", "2",
            "--lambda_temporal", "0", "--report_to", "none", "--hub_token", "hf_secret"]
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    with mock.patch.object(model_card, "CACHE", cache), mock.patch.object(sys, "argv", argv):
        assert train_script.cli(argv[1:]) == 0
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    return {"cache": cache, "data": data, "out": out}


def card_value(card: str, metric: str) -> tuple[float, float]:
    mean, median = re.search(rf"^\| model \| {metric} \| ([^|]+) \| ([^|]+) \|$", card, flags=re.M).groups()
    return float(mean), float(median)


def test_metrics_json_of_a_user_folder_run_names_its_data(run):
    metrics = json.loads((run["out"] / "metrics.json").read_text())
    assert metrics["data_dir"] == "~/.cache/still2motion/mine"  # was ""
    assert metrics["model"] == ["~/.cache/still2motion/runs/tiny"]


def test_card_first_frame_exact_agrees_with_evaluate(run, tmp_path):
    card = (run["out"] / "README.md").read_text()
    assert card_value(card, "first_frame_exact") == (1.0, 1.0)  # was 0: float frame 0 compared with the 8-bit input
    assert card_value(card, "first_frame_l1") == (0.0, 0.0)
    assert evaluate.main(["--model", str(run["out"]), "--data_dir", str(run["data"]), "--output_dir", str(tmp_path),
                          "--contact_sheets", "0", "--max_sequences", "2"]) == 0
    evaluated = json.loads((tmp_path / "metrics.json").read_text())["rows"]["tiny"]["overall"]
    assert evaluated["first_frame_exact"]["mean"] == 1.0


def test_card_has_no_machine_paths_and_no_hub_token(run):
    card = (run["out"] / "README.md").read_text()
    assert str(run["cache"]) not in card and "hf_secret" not in card
    assert "- data: `~/.cache/still2motion/mine`" in card
    command = re.search(r"^- command: `(.*)`$", card, flags=re.M).group(1)
    assert command.startswith("train/train.py --data_dir ~/.cache/still2motion/mine "
                              "--output_dir ~/.cache/still2motion/runs/tiny ")
    assert command.endswith("--hub_token ***")


def test_paths_outside_the_cache_are_written_as_given(tmp_path):
    assert model_card.portable_path("/srv/data") == "/srv/data"
    assert model_card.portable_path(model_card.CACHE / "pack64") == "~/.cache/still2motion/pack64"
    assert model_card.portable_command(["x/train.py", "--hub_token=hf_1", "--data_dir", "/srv/my data"]) == \
        "train/train.py --hub_token=*** --data_dir '/srv/my data'"
