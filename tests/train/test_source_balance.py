"""Source balancing of the training draws (train/data/source_balance.py) and its flag."""

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from _train_data import make_prepared_root  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from train.args import parse_args  # noqa: E402
from train.data.source_balance import balanced, balanced_indices, source_counts  # noqa: E402

SOURCES = ["big"] * 16 + ["small"] * 4  # item i's source


@pytest.mark.parametrize("power, expected", [(1.0, {"big": 16, "small": 4}), (0.5, {"big": 13, "small": 7}),
                                             (0.0, {"big": 10, "small": 10})])
def test_each_source_gets_its_share_of_one_epoch(power, expected):
    indices = balanced_indices(SOURCES, power, seed=3)
    assert len(indices) == len(SOURCES)
    assert dict(Counter(SOURCES[i] for i in indices)) == expected
    small = Counter(i for i in indices if SOURCES[i] == "small")
    assert set(small) == {16, 17, 18, 19}  # whole copies first: every small loop is drawn, none twice more than another
    assert max(small.values()) - min(small.values()) <= 1
    big = Counter(i for i in indices if SOURCES[i] == "big")
    assert max(big.values()) == 1  # a thinned source is drawn without repeats


def test_the_draws_are_fixed_by_the_seed():
    assert balanced_indices(SOURCES, 0.5, seed=1) == balanced_indices(SOURCES, 0.5, seed=1)
    assert balanced_indices(SOURCES, 0.0, seed=1) != balanced_indices(SOURCES, 0.0, seed=2)


def test_a_power_outside_0_1_is_refused(tmp_path):
    with pytest.raises(ValueError, match="in \\[0, 1\\], got 1.5"):
        balanced_indices(SOURCES, 1.5)
    with pytest.raises(ValueError, match="--source_balance must be in \\[0, 1\\], got -0.5"):
        parse_args(["--data_dir", str(tmp_path), "--source_balance", "-0.5"])


def test_a_prepared_root_is_balanced_through_its_items_sources(tmp_path):
    root = make_prepared_root(tmp_path / "root", per_split={"train": 7})  # beta: items 0, 2, 4, 6; alpha: 1, 3, 5
    data = open_dataset(root, "train", resolution=32, num_targets=2)
    assert source_counts(data) == {"alpha": 3, "beta": 4}
    assert balanced(data, 1.0) is data
    even = balanced(data, 0.0, seed=0)
    assert len(even) == 7 and sum(source_counts(even).values()) == 7
    assert abs(source_counts(even)["alpha"] - source_counts(even)["beta"]) <= 1
    item = even[0]
    assert item["input"].shape == (4, 32, 32)
