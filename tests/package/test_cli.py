"""The CLI, driven in-process (``cli.main(argv)``) with a hand-set test model, plus one subprocess smoke test."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, sprite
from still2motion import read_animation

ROOT = Path(__file__).resolve().parents[2]


def test_animate_one_file(model_dir, still, tmp_path, capsys):
    out = tmp_path / "out.png"
    code, stdout, err = run_cli(["animate", still, "-o", out, "--frames", 6, "--fps", 12.5, "--model", model_dir],
                                capsys)
    assert code == 0, err
    anim = read_animation(out)
    assert len(anim.frames) == 6 and sum(anim.durations_ms) == 480
    assert np.array_equal(anim.frames[0], np.asarray(Image.open(still).convert("RGBA")))
    assert not np.array_equal(anim.frames[1], anim.frames[0])
    assert "wrote" in stdout


def test_existing_output_is_overwritten(model_dir, still, tmp_path, capsys):
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    assert run_cli(["animate", still, "-o", out, "--frames", 3, "--model", model_dir], capsys)[0] == 0
    assert len(read_animation(out).frames) == 3


def test_model_from_environment(model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MODEL", str(model_dir))
    out = tmp_path / "env.gif"
    assert run_cli(["animate", still, "-o", out, "--frames", 4], capsys)[0] == 0
    assert len(read_animation(out).frames) >= 2


def test_several_inputs_to_folder(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        sprite(16, 20, seed=i).save(folder / f"s{i}.png")
    code, stdout, _ = run_cli(["animate", folder, "-o", tmp_path / "out", "--frames", 4, "--model", model_dir], capsys)
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s0.png", "s1.png", "s2.png"]
    assert "3 of 3" in stdout


def test_folder_with_a_bad_file_reports_it_and_fails(model_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    sprite(16, 20).save(folder / "good.png")
    (folder / "bad.png").write_bytes(b"not an image at all")
    code, stdout, err = run_cli(["animate", folder, "-o", tmp_path / "out", "--frames", 4, "--model", model_dir],
                                capsys)
    assert code == 1
    assert (tmp_path / "out" / "good.png").exists() and not (tmp_path / "out" / "bad.png").exists()
    assert "bad.png" in err and "Traceback" not in err


# Bad and odd inputs and unwritable outputs through the CLI: the corpus in test_hostile_inputs.py.


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--frames", "0"], "--frames must be between 1"),
        (["--fps", "-1"], "fps"),
        (["--strength", "nan"], "strength"),
        (["--format", "tiff"], "format"),
        (["--frames", "many"], "frames"),
        (["-o", "{tmp}/out.tiff"], "tiff"),
    ],
)
def test_bad_option_values(extra, needle, model_dir, still, tmp_path, capsys):
    extra = [e.replace("{tmp}", str(tmp_path)) for e in extra]
    argv = ["animate", still, "--model", model_dir] + (extra if "-o" in extra else ["-o", tmp_path / "o.png", *extra])
    code, _, err = run_cli(argv, capsys)
    assert code != 0 and needle in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("o.png*")) and not list(tmp_path.glob("out.tiff*"))


def test_bad_model_is_one_line(still, tmp_path, capsys):
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--model", tmp_path / "no-model"], capsys)
    assert code == 1 and "no-model" in err and len(err.strip().splitlines()) == 1


def test_help_lists_every_option_with_defaults(capsys):
    code, out, _ = run_cli(["animate", "--help"], capsys)
    assert code == 0
    for flag in ("--frames", "--fps", "--strength", "--seed", "--model", "--format", "--resample", "default: 20", "examples:"):
        assert flag in out


def test_python_dash_m_smoke(model_dir, still, tmp_path):
    out = tmp_path / "smoke.png"
    proc = subprocess.run(
        [sys.executable, "-m", "still2motion", "animate", str(still), "-o", str(out), "--frames", "5", "--model", str(model_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert len(read_animation(out).frames) == 5
