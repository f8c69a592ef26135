"""train/ship/ship.py: the shipped card's numbers are the metrics file's, and the shipped folder loads."""

import json

from conftest import random_model
from train.evaluate.design_baselines import STNGenerator
from still2motion import load_model
from train.ship import ship


def test_ship_copies_weights_and_card_numbers_come_from_metrics(tmp_path):
    run = tmp_path / "run"
    random_model(seed=4).save_pretrained(run)
    metrics = {"split": "test", "n": 3, "rows": {"run": {"overall": {"phase_l1": {"mean": 0.0123456, "median": 0.011}}}}}
    (tmp_path / "m.json").write_text(json.dumps(metrics))
    val = {"split": "val", "n": 2, "rows": {"run": {"overall": {"alive": {"mean": 0.75, "median": 1.0}}}}}
    (tmp_path / "v.json").write_text(json.dumps(val))
    (tmp_path / "data").mkdir()
    line = {"seq": "a#b", "split": "train", "source": "debian:x=1", "license": "GPL-2.0-or-later"}
    (tmp_path / "data" / "manifest.jsonl").write_text(json.dumps(line) + "\n")
    dest = tmp_path / "shipped"
    code = ship.main(["--run_dir", str(run), "--data_dir", str(tmp_path / "data"), "--metrics", str(tmp_path / "m.json"),
                      "--extra", f"Validation={tmp_path / 'v.json'}", "--dest", str(dest)])
    assert code == 0
    card = (dest / "README.md").read_text()
    assert "| run | phase_l1 | 0.0123456 | 0.011 |" in card and "| run | alive | 0.75 | 1 |" in card
    assert "license: gpl-3.0" in card and "GPL-2.0-or-later" in card
    assert load_model(dest).state_dict().keys() == load_model(run).state_dict().keys()


def test_steps_come_from_the_newest_checkpoint_else_from_the_runs_card(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "README.md").write_text("- steps: 288\n- wall time: 19.8 min\n- hardware: CPU\n")
    assert ship.run_info(run)["steps"] == 288 and ship.run_info(run)["wall_time_minutes"] == 19.8
    (run / "README.md").write_text("- wall time: 1 min\n")
    assert ship.run_info(run)["steps"] is None  # nothing says: the card prints None rather than a guess


def test_motion_scale_is_shipped_and_must_match_the_measured_strength(tmp_path, capsys):
    run = tmp_path / "run"
    random_model(seed=5).save_pretrained(run)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.jsonl").write_text(json.dumps({"seq": "a#b", "split": "train", "source": "x"}) + "\n")
    at_one = {"split": "test", "n": 1, "strength": 1.0, "rows": {}}
    at_scale = {**at_one, "strength": 1.25}
    (tmp_path / "one.json").write_text(json.dumps(at_one))
    (tmp_path / "scaled.json").write_text(json.dumps(at_scale))
    common = ["--run_dir", str(run), "--data_dir", str(tmp_path / "data"), "--dest", str(tmp_path / "shipped"),
              "--motion_scale", "1.25"]
    assert ship.main([*common, "--metrics", str(tmp_path / "one.json")]) == 1
    assert "measured at motion scale 1" in capsys.readouterr().err and not (tmp_path / "shipped").exists()
    stn = tmp_path / "stn"
    STNGenerator(resolution=32, block_out_channels=(8, 16)).save_pretrained(stn)
    assert ship.main([*common[:1], str(stn), *common[2:], "--metrics", str(tmp_path / "scaled.json")]) == 1
    assert "unknown generator_type 'stn'" in capsys.readouterr().err and not (tmp_path / "shipped").exists()
    zero = [*common[:-1], "0", "--metrics", str(tmp_path / "scaled.json")]
    assert ship.main(zero) == 1
    assert "motion_scale must be a number in (0, 10]" in capsys.readouterr().err and not (tmp_path / "shipped").exists()
    assert ship.main([*common, "--metrics", str(tmp_path / "scaled.json")]) == 0
    shipped = load_model(tmp_path / "shipped")
    assert shipped.motion_scale == 1.25 and json.loads((tmp_path / "shipped" / "config.json").read_text())["motion_scale"] == 1.25
    # the calibration scales what animate renders: the shipped model at strength 1 == the run at strength 1.25
    image = "examples/robot_idle.png"
    a = shipped.animate(image, num_frames=4, size=(48, 48), seed=0)
    b = load_model(run).animate(image, num_frames=4, size=(48, 48), seed=0, strength=1.25)
    c = load_model(run).animate(image, num_frames=4, size=(48, 48), seed=0)
    import numpy as np

    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.frames, b.frames))
    assert not all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.frames, c.frames))


def test_examples_sheet_shows_every_frame_of_every_image(tmp_path):
    from PIL import Image

    from train.ship import examples_sheet

    model = tmp_path / "m"
    random_model(seed=6, scale=0.2).save_pretrained(model)
    out = tmp_path / "sheet.png"
    images = ["examples/robot_idle.png", "examples/zombie_idle.png"]
    assert examples_sheet.main(["--model", str(model), "--output", str(out), "--frames", "3", "--images", *images]) == 0
    sheet = Image.open(out)
    assert sheet.size == (68 * 2 * 3, 102 * 2 * 2)  # widest x frames, tallest x images, at scale 2
    first = sheet.crop((0, 0, 136, 204))
    second = sheet.crop((136, 0, 272, 204))
    assert first.tobytes() != second.tobytes()  # the random model moves the robot
    assert examples_sheet.main(["--model", str(model), "--output", str(out), "--frames", "0"]) == 1


def test_shipped_card_has_no_machine_paths(tmp_path, monkeypatch):
    from train.ship import model_card

    cache = tmp_path / "home" / ".cache" / "still2motion"
    monkeypatch.setattr(model_card, "CACHE", cache)
    run = cache / "runs" / "main"
    random_model(seed=7).save_pretrained(run)
    (run / "README.md").write_text(f"- wall time: 3.0 min\n- command: `train/train.py --output_dir {run} "
                                   f"--data_dir {cache / 'pack64'} --hub_token hf_x`\n")
    (cache / "data").mkdir()
    (cache / "data" / "manifest.jsonl").write_text(json.dumps({"seq": "a#b", "split": "train", "source": "x"}) + "\n")
    (tmp_path / "m.json").write_text(json.dumps({"split": "test", "n": 1, "rows": {}}))
    dest = tmp_path / "shipped"
    assert ship.main(["--run_dir", str(run), "--data_dir", str(cache / "data"), "--metrics", str(tmp_path / "m.json"),
                      "--dest", str(dest)]) == 0
    card = (dest / "README.md").read_text()
    assert str(tmp_path) not in card and "hf_x" not in card
    assert "- data: `~/.cache/still2motion/data`" in card
    assert "--output_dir ~/.cache/still2motion/runs/main --data_dir ~/.cache/still2motion/pack64" in card


def test_bundled_card_and_package_metadata_name_no_machine_paths_or_missing_repository():
    import re
    from pathlib import Path

    import pytest

    from still2motion import DEFAULT_MODEL, Still2Motion
    from train.evaluate.design_baselines import Pix2PixGenerator

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    card = (Path(DEFAULT_MODEL) / "README.md").read_text()
    assert not re.search(r"/(root|home|Users|tmp|work)/", card)
    assert all(cls._hub_mixin_info.repo_url is None for cls in (Still2Motion, Pix2PixGenerator, STNGenerator))
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"  # an SPDX expression (PEP 639), not a table
    assert "setuptools>=77" in project["build-system"]["requires"]  # the first setuptools that accepts it


def test_noise_scale_is_shipped_and_must_match_the_measured_one(tmp_path, capsys):
    run = tmp_path / "run"
    random_model(seed=5).save_pretrained(run)
    (tmp_path / "data").mkdir()
    line = {"seq": "a#b", "split": "train", "source": "x"}
    (tmp_path / "data" / "manifest.jsonl").write_text(json.dumps(line) + "\n")
    own = {"split": "test", "n": 1, "strength": 1.0, "rows": {}}  # measured at the run's own noise (1)
    (tmp_path / "own.json").write_text(json.dumps(own))
    (tmp_path / "wide.json").write_text(json.dumps({**own, "noise_scale": 1.5}))
    common = ["--run_dir", str(run), "--data_dir", str(tmp_path / "data"), "--dest", str(tmp_path / "shipped")]
    assert ship.main([*common, "--noise_scale", "1.5", "--metrics", str(tmp_path / "own.json")]) == 1
    err = capsys.readouterr().err
    assert "measured at noise scale 1," in err and "--noise_scale 1.5" in err and not (tmp_path / "shipped").exists()
    assert ship.main([*common, "--metrics", str(tmp_path / "wide.json")]) == 1  # shipping 1, measured at 1.5
    assert "measured at noise scale 1.5" in capsys.readouterr().err and not (tmp_path / "shipped").exists()
    assert ship.main([*common, "--noise_scale", "-2", "--metrics", str(tmp_path / "own.json")]) == 1
    assert "noise_scale must be a number in [0, 10]" in capsys.readouterr().err and not (tmp_path / "shipped").exists()
    assert ship.main([*common, "--noise_scale", "1.5", "--metrics", str(tmp_path / "wide.json")]) == 0
    assert load_model(tmp_path / "shipped").noise_scale == 1.5
    assert '"noise_scale": 1.5' in (tmp_path / "shipped" / "README.md").read_text()  # the card's config line


def test_the_sheet_scripts_find_the_cc0_examples():  # their default images, wherever the scripts sit in train/
    from train.ship import examples_sheet, occlusion_sheet

    for script in (examples_sheet, occlusion_sheet):
        assert len(sorted(script.EXAMPLES.glob("*.png"))) == 4, script.EXAMPLES
