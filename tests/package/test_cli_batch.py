"""Batches never lose data: no input is overwritten, no two outputs share a name (renamed ones are listed), and
progress shows for long renders and encodes."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import run_cli, sprite
from still2motion import Still2Motion, cli, io, read_animation


def _snapshot(folder) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def stills(tmp_path):
    """c/a.png and c/a.webp (same stem, different images) and c/b.png."""
    folder = tmp_path / "c"
    folder.mkdir()
    sprite(24, 32, seed=0).save(folder / "a.png")
    sprite(20, 28, seed=1).save(folder / "a.webp", lossless=True)
    sprite(16, 20, seed=2).save(folder / "b.png")
    return folder


def test_same_stem_inputs_get_distinct_outputs_listed_in_the_summary(model_dir, stills, tmp_path, capsys):
    before = _snapshot(stills)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["animate", stills, "-o", out, "--frames", 4, "--model", model_dir], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "a_webp.png", "b.png"]
    assert "3 of 3" in stdout and "a.webp -> a_webp.png" in stdout
    for source, target in [("a.png", "a.png"), ("a.webp", "a_webp.png"), ("b.png", "b.png")]:
        want = np.asarray(io.read_image(stills / source).image)
        np.testing.assert_array_equal(read_animation(out / target).frames[0], want)  # each output from its own input
    assert _snapshot(stills) == before


def test_the_same_input_twice_is_animated_once(model_dir, stills, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(["animate", stills / "b.png", stills / "b.png", "-o", out, "--frames", 4,
                               "--model", model_dir], capsys)
    assert code == 0 and "1 of 1" in stdout and [p.name for p in out.iterdir()] == ["b.png"]


@pytest.mark.parametrize("case", ["folder_into_itself", "file_onto_itself", "folder_into_itself_as_gif"])
def test_an_input_is_never_overwritten(case, model_dir, stills, tmp_path, capsys, monkeypatch):
    before = _snapshot(tmp_path)
    monkeypatch.setattr(cli, "load_model", lambda *a: pytest.fail("refused before the model loads"))
    argv = {
        "folder_into_itself": [stills, "-o", stills],
        "file_onto_itself": [stills / "a.png", "-o", stills / "a.png"],
        "folder_into_itself_as_gif": [stills, "-o", stills, "--format", "gif"],  # a.gif is no input, but...
    }[case]
    if case == "folder_into_itself_as_gif":
        sprite(10, 10).save(stills / "d.gif")  # ...d.gif is
        before = _snapshot(tmp_path)
    code, _, err = run_cli(["animate", *argv, "--frames", 4], capsys)
    assert code == 1 and "would overwrite the input" in err and len(err.strip().splitlines()) == 1
    assert _snapshot(tmp_path) == before


def test_progress_shows_for_a_long_render_and_encode(model_dir, tmp_path, capsys, monkeypatch):
    path = tmp_path / "s.png"
    sprite(24, 32).save(path)
    monkeypatch.setattr(cli, "PROGRESS_DELAY_S", 0.3)
    render_frames, save = Still2Motion.render_frames, io.Animation.save

    def slow_render(self, *args, **kwargs):
        for frame in render_frames(self, *args, **kwargs):
            time.sleep(0.1)
            yield frame

    def slow_save(self, *args, **kwargs):
        time.sleep(1.0)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Still2Motion, "render_frames", slow_render)
    monkeypatch.setattr(io.Animation, "save", slow_save)
    code, _, err = run_cli(["animate", path, "-o", tmp_path / "o.png", "--frames", 8, "--model", model_dir], capsys)
    assert code == 0, err
    assert "rendering s.png" in err and "/8" in err and "encoding s.png" in err
    # a quick run prints nothing but its result
    monkeypatch.setattr(cli, "PROGRESS_DELAY_S", 30)
    code, _, err = run_cli(["animate", path, "-o", tmp_path / "o.png", "--frames", 8, "--model", model_dir], capsys)
    assert code == 0 and err == ""
