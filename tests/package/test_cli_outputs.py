"""What the CLI writes, and refuses to write (issue 32: items 2, 3, 5, 7, 10): a file the request reads is never the
output, a companion's name is not an output name, a folder of inputs never writes a file-named folder, and the
messages name the file and the flag."""

import os
import re
import time

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, sprite
from still2motion import cli, io


def _never(*args, **kwargs):
    raise AssertionError("the model was loaded: the request should have been refused first")


def _mask(path, size=(24, 32)):
    arr = np.zeros(size[::-1], np.uint8)
    arr[: size[1] // 2] = 255
    Image.fromarray(arr, "L").save(path)
    return path


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# item 2: any file the request reads is protected


@pytest.mark.parametrize("how", ["same path", "another spelling", "symlink", "hard link"])
def test_output_that_is_the_mask_is_refused(how, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "load_model", _never)
    mask = _mask(tmp_path / "mask.png")
    before = mask.read_bytes()
    output = {"same path": mask, "another spelling": tmp_path / "in" / ".." / "mask.png",
              "symlink": tmp_path / "link.png", "hard link": tmp_path / "hard.png"}[how]
    if how == "symlink":
        output.symlink_to(mask)
    elif how == "hard link":
        os.link(mask, output)
    code, _, err = run_cli(["animate", still, "-o", output, "--mask", mask], capsys)
    assert code == 1 and "would overwrite the --mask" in err and str(mask) in err, err
    assert err.count("\n") == 1 and mask.read_bytes() == before


def test_a_folder_batch_cannot_write_over_the_mask(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "load_model", _never)
    (tmp_path / "in").mkdir()
    sprite(24, 32).save(tmp_path / "in" / "a.png")
    (tmp_path / "out").mkdir()
    mask = _mask(tmp_path / "out" / "a.png")  # the batch's output for in/a.png
    code, _, err = run_cli(["animate", tmp_path / "in", "-o", tmp_path / "out", "--mask", mask], capsys)
    assert code == 1 and "would overwrite the --mask" in err, err


# items 3 and 5: a companion's name as the output; the user's path in the message


@pytest.mark.parametrize("fmt, name, main", [("spritesheet", "a.json", "a.png"), ("godot", "a.tres", "a.png")])
def test_an_output_named_like_the_companion_is_refused_naming_the_png(fmt, name, main, still, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(cli, "load_model", _never)
    (tmp_path / "out").mkdir()
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "out" / name, "--format", fmt], capsys)
    assert code == 1 and f"output '{tmp_path / 'out' / name}'" in err and f"'{tmp_path / 'out' / main}'" in err, err
    assert ".tmp" not in err and err.count("\n") == 1
    assert _files(tmp_path / "out") == []


def test_saving_godot_under_the_tres_name_names_the_users_path(tmp_path):
    anim = io.Animation(frames=[sprite(8, 8)] * 2, durations_ms=[100, 100], fps=10)
    with pytest.raises(ValueError) as info:
        anim.save(tmp_path / "a.tres", format="godot", max_bytes=10**6)  # the staged write: a temporary folder
    assert f"'{tmp_path / 'a.tres'}'" in str(info.value) and ".tmp" not in str(info.value)
    assert _files(tmp_path) == []


# item 7: a folder of inputs writes a folder


@pytest.mark.parametrize("name", ["x.png", "x.gif", "x.webm", "x.json"])
def test_a_folder_of_inputs_with_a_file_name_as_output_is_refused(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "load_model", _never)
    (tmp_path / "in").mkdir()
    sprite(24, 32).save(tmp_path / "in" / "a.png")
    code, _, err = run_cli(["animate", tmp_path / "in", "-o", tmp_path / name], capsys)
    assert code == 1 and f"-o '{tmp_path / name}' names a file" in err and "-o '" + str(tmp_path / "x") + "/'" in err
    assert not (tmp_path / name).exists()


# item 10: wording


def test_one_frame_is_one_frame(model_dir, still, tmp_path, capsys):
    code, out, err = run_cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 1, "--model", model_dir], capsys)
    assert code == 0, err
    assert "(1 frame at 10 fps, apng)" in out


def test_the_extension_error_lists_extensions_not_format_names(still, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "load_model", _never)
    code, _, err = run_cli(["animate", still, "-o", tmp_path / "x.png", "--format", "telegram"], capsys)
    assert code == 1 and "has the extension .png, but --format telegram writes .webm; name it 'x.webm'" in err, err
    assert "line-main" not in err and "spritesheet" not in err


def test_a_note_in_a_folder_batch_names_the_file_and_the_flags(model_dir, tmp_path, capsys, monkeypatch):
    from still2motion import drawing

    monkeypatch.setattr(drawing, "MIN_PIXELS", 0.0)  # auto's guard raises a sub-pixel motion to 1 px: not here
    (tmp_path / "in").mkdir()
    for name in ("a.png", "b.png"):
        sprite(8, 8).save(tmp_path / "in" / name)
    code, _, err = run_cli(["animate", tmp_path / "in", "-o", tmp_path / "out", "--frames", 4, "--strength", 0.05,
                            "--model", model_dir], capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if "barely shows" in line]
    assert len(notes) == 2, err
    for name, line in zip(("a.png", "b.png"), notes):
        assert f"'{tmp_path / 'in' / name}'" in line and "(--size)" in line and "--strength" in line, line
        assert "(size)" not in line


def test_the_encoding_timer_counts_from_the_start_of_encoding(capsys):
    progress = cli._Progress("x.png")
    progress("encode", 0, None)
    time.sleep(cli.PROGRESS_DELAY_S + 0.6)
    progress("encode", 1, 1)
    shown = re.findall(r"encoding x\.png: (\d\d):(\d\d)", capsys.readouterr().err)
    assert shown, "the timer was never shown"
    minutes, seconds = map(int, shown[0])
    assert 60 * minutes + seconds >= int(cli.PROGRESS_DELAY_S), shown  # it appears after 2 s, showing 00:02
