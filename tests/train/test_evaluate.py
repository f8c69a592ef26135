"""``train/evaluate/evaluate.py`` end to end on a tiny synthetic prepared split, a hand-set model and both baselines."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from _train_data import circling_square, write_circling_root
from conftest import TX, hand_set_model
from still2motion import io
from still2motion.motion import Motion
from train.evaluate.evaluate import main
from train.fit.motion_targets import save_targets
from train.data.sequences import list_sequences

# (seq, split, character, frames); every sequence is a 4x4 square circling inside a transparent 20x16 sprite
SEQUENCES = [
    ("toy.alpha#walk", "val", "toy:alpha", 4),
    ("toy.beta#idle", "val", "toy:beta", 6),
    ("other.gamma#walk", "val", "other:gamma", 5),
    ("toy.delta#walk", "train", "toy:delta", 4),
    ("other.eps#run", "train", "other:eps", 6),
]
@pytest.fixture
def prepared_root(tmp_path):
    return write_circling_root(tmp_path / "data", [
        {"seq": seq, "split": split, "source": f"test:{character}", "character": character, "anim": seq.split("#")[1],
         "fps": 8, "n_frames": n, "size": [20, 16], "loop": True} for seq, split, character, n in SEQUENCES])


@pytest.fixture
def motions_file(tmp_path):
    """Fitted motions for the two training sequences: horizontal sways of different amplitude."""
    K, M = 2, 2
    affine = torch.zeros(2, K, 6, M, 2)
    affine[0, :, TX, 0, 1] = 0.15
    affine[1, :, TX, 0, 1] = -0.1
    motion = Motion(torch.full((2, K, 8, 8), 1 / K), affine, torch.zeros(2, K, 2, M, 2, 2, 2))
    path = tmp_path / "motions.safetensors"
    config = {"resolution": 32, "num_layers": K, "num_harmonics": M}
    save_targets(path, ["toy.delta#walk", "other.eps#run"], motion, config)
    return path


@pytest.fixture
def sway_dir(tmp_path):
    path = tmp_path / "sway"
    hand_set_model({(TX, 1, "b"): 0.15}).save_pretrained(path)
    return path


# Markdown header -> (metric, statistic, scale) of the row's "overall" block
HEADERS = {
    "L1 ↓": ("l1", "mean", 1), "PSNR ↑": ("psnr", "mean", 1), "phase-aligned L1 ↓": ("phase_l1", "mean", 1),
    "alive %": ("alive", "mean", 100), "median motion ratio": ("motion_ratio", "median", 1),
    "median seam ratio": ("seam_ratio", "median", 1), "first-frame exact %": ("first_frame_exact", "mean", 100),
    "median sharpness ratio": ("sharpness_ratio", "median", 1), "alpha IoU ↑": ("alpha_iou", "mean", 1),
    "s/seq": ("seconds", "mean", 1),
}


def parse_first_table(markdown: str) -> tuple[list[str], dict[str, list[str]]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "row":  # the next table begins
            break
        rows[cells[0]] = cells[1:]
    return header[1:], rows


def test_evaluate_end_to_end(prepared_root, motions_file, sway_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--model", str(sway_dir), "--data_dir", str(prepared_root), "--split", "val", "--output_dir", str(out),
            "--baseline", "static", "--baseline", "random-motion", "--motions", str(motions_file),
            "--contact_sheets", "2"]
    assert main(argv) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["split"] == "val" and report["n"] == 3 and report["model"] == [str(sway_dir)]
    assert list(report["rows"]) == ["sway", "static", "random-motion"]

    static = report["rows"]["static"]
    assert static["kind"] == "baseline" and static["n"] == 3
    assert static["overall"]["motion_energy"]["mean"] == 0.0
    assert static["overall"]["motion_ratio"]["median"] == 0.0
    assert static["overall"]["seam_ratio"]["median"] == 1.0
    assert static["overall"]["alive"]["mean"] == 0.0
    assert static["overall"]["first_frame_exact"]["mean"] == 1.0
    assert static["overall"]["sharpness_ratio"]["median"] == pytest.approx(1.0)
    assert set(static["per_source"]) == {"toy", "other"} and static["per_source_n"] == {"toy": 2, "other": 1}
    assert [it["seq"] for it in static["items"]] == ["other.gamma#walk", "toy.alpha#walk", "toy.beta#idle"]
    assert [it["num_frames"] for it in static["items"]] == [5, 4, 6]

    sway = report["rows"]["sway"]
    assert sway["kind"] == "model" and sway["model"] == str(sway_dir)
    assert sway["overall"]["motion_energy"]["mean"] > 0  # it moves
    assert sway["overall"]["first_frame_exact"]["mean"] == 1.0  # frame 0 is the input
    for item in sway["items"]:
        assert item["phase_l1"] <= item["l1"] + 1e-12

    borrowed = report["rows"]["random-motion"]
    assert borrowed["overall"]["motion_energy"]["mean"] > 0
    assert {it["motion_from"] for it in borrowed["items"]} <= {"toy.delta#walk", "other.eps#run"}

    real = report["real"]
    assert real["n"] == 3 and real["overall"]["motion_energy"]["median"] > 0
    assert [it["seq"] for it in real["items"]] == [it["seq"] for it in static["items"]]

    # the Markdown table shows the JSON's numbers
    markdown = (out / "metrics.md").read_text()
    header, rows = parse_first_table(markdown)
    assert list(rows) == ["sway", "static", "random-motion", "real loops"]
    for name in ("sway", "static", "random-motion"):
        cells = dict(zip(header, rows[name]))
        assert int(cells["n"]) == report["rows"][name]["n"]
        for title, (metric, stat, scale) in HEADERS.items():
            value = report["rows"][name]["overall"][metric][stat] * scale
            decimals = len(cells[title].split(".")[1])
            assert float(cells[title]) == pytest.approx(value, abs=0.51 * 10**-decimals), (name, title)
    real_cells = dict(zip(header, rows["real loops"]))
    assert float(real_cells["median seam ratio"]) == pytest.approx(real["overall"]["seam_ratio"]["median"], abs=5e-4)
    assert "## toy" in markdown and "## other" in markdown  # per-source tables

    # contact sheets: 2 sequences (the first and the last) per row; input + real above the generated loop
    sheets = sorted(p.name for p in (out / "contact").iterdir())
    assert sheets == sorted(f"{row}_{i}.png" for row in ("sway", "static", "random-motion") for i in (0, 2))
    with Image.open(out / "contact" / "static_0.png") as sheet:
        scale = math.ceil(96 / 20)  # longer side 20 px upscaled to about 96
        assert sheet.size == (6 * 20 * scale + 7 * 2, 2 * 16 * scale + 3 * 2)  # input + 5 frames wide, two lines
    assert "| sway |" in capsys.readouterr().out


def test_evaluate_baselines_only_on_a_plain_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i, n in enumerate((4, 5)):
        frames = [Image.fromarray(f, "RGBA") for f in circling_square(n, seed=i)]
        io.write_apng(frames, [125] * n, folder / f"cat{i}.png")
    assert [s.seq for s in list_sequences(folder, "val")] == ["cat0", "cat1"]
    out = tmp_path / "out"
    assert main(["--data_dir", str(folder), "--split", "val", "--output_dir", str(out), "--baseline", "static"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["n"] == 2 and report["model"] == [] and list(report["rows"]) == ["static"]
    assert report["rows"]["static"]["per_source_n"] == {"user": 2}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--split", "test", "--baseline", "static"], "no sequences in split 'test'"),
        (["--split", "val"], "nothing to evaluate"),
        (["--split", "val", "--baseline", "random-motion"], "needs --motions"),
    ],
)
def test_evaluate_errors_are_one_line(prepared_root, tmp_path, capsys, extra, message):
    assert main(["--data_dir", str(prepared_root), "--output_dir", str(tmp_path / "out"), *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_data_dir_is_one_line(tmp_path, capsys):
    argv = ["--data_dir", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "out"), "--baseline", "static"]
    assert main(argv) == 1
    assert "does not exist" in capsys.readouterr().err


def test_max_sequences_spreads_over_the_split(prepared_root, tmp_path):
    out = tmp_path / "out"
    argv = ["--data_dir", str(prepared_root), "--split", "val", "--output_dir", str(out), "--baseline", "static",
            "--max_sequences", "2", "--contact_sheets", "0"]
    assert main(argv) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert [it["seq"] for it in report["rows"]["static"]["items"]] == ["other.gamma#walk", "toy.beta#idle"]
    assert not any((out / "contact").iterdir())


@pytest.mark.parametrize("kind", ["pix2pix", "stn"])
def test_evaluate_loads_any_generator_type(prepared_root, tmp_path, kind):
    from train.evaluate.design_baselines import Pix2PixGenerator, STNGenerator

    cls = {"pix2pix": Pix2PixGenerator, "stn": STNGenerator}[kind]
    torch.manual_seed(0)
    cls(resolution=32, block_out_channels=(4, 8, 16), num_phases=4, noise_dim=4).save_pretrained(tmp_path / kind)
    out = tmp_path / "out"
    argv = ["--model", str(tmp_path / kind), "--data_dir", str(prepared_root), "--split", "val",
            "--output_dir", str(out), "--contact_sheets", "1"]
    assert main(argv) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert list(report["rows"]) == [kind] and report["rows"][kind]["n"] == 3
    assert (out / "contact" / f"{kind}_0.png").is_file()


def test_noise_scale_override_reaches_every_seed_and_is_recorded(prepared_root, tmp_path):
    from conftest import random_model

    random_model(seed=2, scale=0.2).save_pretrained(tmp_path / "rand")
    reports = {}
    for scale in ("0", "3"):
        out = tmp_path / f"out{scale}"
        argv = ["--model", str(tmp_path / "rand"), "--data_dir", str(prepared_root), "--split", "val",
                "--output_dir", str(out), "--seeds", "2", "--bootstrap", "0", "--contact_sheets", "0",
                "--noise_scale", scale]
        assert main(argv) == 0
        reports[scale] = json.loads((out / "metrics.json").read_text())
        assert reports[scale]["noise_scale"] == float(scale)
        assert f"seed noise spread {scale}" in (out / "metrics.md").read_text()
    diversity = {s: [it["diversity"] for it in r["rows"]["rand"]["items"]] for s, r in reports.items()}
    assert max(diversity["0"]) < 1e-6  # no noise: every seed is one motion
    assert min(diversity["3"]) > 1e-3


def test_noise_scale_override_is_checked(prepared_root, tmp_path, capsys):
    from train.evaluate.design_baselines import STNGenerator

    STNGenerator(resolution=32, block_out_channels=(8, 16)).save_pretrained(tmp_path / "stn")
    base = ["--data_dir", str(prepared_root), "--split", "val", "--output_dir", str(tmp_path / "out")]
    assert main([*base, "--model", str(tmp_path / "stn"), "--noise_scale", "2"]) == 1
    assert "--noise_scale applies to still2motion models" in capsys.readouterr().err
    assert main([*base, "--model", "default", "--noise_scale", "-1"]) == 1
    assert "--noise_scale: noise_scale must be a number in [0, 10], got -1.0" in capsys.readouterr().err
