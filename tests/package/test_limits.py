"""Resource limits (``still2motion/config.py``): each is read from its environment variable at call time and enforced
before the heavy work (decoding, rendering, renaming into place) starts, through the library and the CLI."""

from __future__ import annotations

import pytest
from PIL import Image

from still2motion import cli, config, io, read_animation
from still2motion import generator as generator_module


def _cli(argv, capsys) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _never(*args, **kwargs):
    raise AssertionError("heavy work started before the limit was checked")


def test_every_limit_has_an_env_var_and_bad_values_are_named(monkeypatch):
    assert set(config.LIMIT_NAMES) >= {"max_input_pixels", "max_output_pixels", "max_frames", "max_output_bytes"}
    for name in config.LIMIT_NAMES:
        monkeypatch.setenv(config.LIMIT_ENV[name], "7")
        assert config.limit(name) == 7
    monkeypatch.setenv(config.LIMIT_ENV["max_frames"], "lots")
    with pytest.raises(ValueError, match="STILL2MOTION_MAX_FRAMES must be a number, got 'lots'"):
        config.limit("max_frames")
    monkeypatch.setenv(config.LIMIT_ENV["max_frames"], "0")
    with pytest.raises(ValueError, match="must be positive"):
        config.limit("max_frames")


def test_bad_limit_env_is_one_cli_line(model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_FRAMES", "lots")
    code, err = _cli(["animate", still, "-o", tmp_path / "o.png", "--model", model_dir], capsys)
    assert code == 1 and "STILL2MOTION_MAX_FRAMES" in err and len(err.strip().splitlines()) == 1


def test_max_input_pixels(model, model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_INPUT_PIXELS", str(24 * 32 - 1))
    monkeypatch.setattr(generator_module.Generator, "render_frames", _never)
    with pytest.raises(ValueError, match=r"sprite.png.*24x32 = 768 pixels, more than the limit of 767"):
        model.animate(still)
    code, err = _cli(["animate", still, "-o", tmp_path / "o.png", "--model", model_dir], capsys)
    assert code == 1 and "sprite.png" in err and "767" in err and not (tmp_path / "o.png").exists()


def test_max_output_pixels_is_checked_from_the_header(model, model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_PIXELS", "700")
    with monkeypatch.context() as m:
        m.setattr(io, "decode_image", _never)  # nothing is decoded
        with pytest.raises(ValueError, match=r"sprite.png' is 24x32 = 768 pixels, more than the output limit of 700"):
            model.animate(still)
        with pytest.raises(ValueError, match=r"size 30x30 = 900 pixels, more than the output limit of 700"):
            model.animate(still, size=(30, 30))
        code, err = _cli(["animate", still, "-o", tmp_path / "o.png", "--model", model_dir], capsys)
        assert code == 1 and "sprite.png" in err and "output limit of 700" in err
    with pytest.raises(ValueError, match="the image' is 24x32"):
        model.animate(Image.open(still).copy())
    assert model.animate(still, num_frames=2, size=(20, 30)).frames[1].size == (20, 30)  # smaller: fine


def test_max_frames_before_reading_or_loading(model, model_dir, still, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_FRAMES", "5")
    monkeypatch.setattr(io, "decode_image", _never)
    monkeypatch.setattr(cli, "load_model", _never)
    with pytest.raises(ValueError, match="num_frames must be between 1 and 5, got 6"):
        model.animate(still, num_frames=6)
    code, err = _cli(["animate", still, "-o", tmp_path / "o.png", "--frames", 6, "--model", model_dir], capsys)
    assert code == 1 and "--frames must be between 1 and 5, got 6" in err


@pytest.mark.parametrize("fmt", ["apng", "spritesheet"])
def test_max_output_bytes_leaves_nothing_and_keeps_the_old_file(fmt, model_dir, still, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.png").write_bytes(b"old")
    argv = ["animate", still, "-o", out / "keep.png", "--format", fmt, "--frames", 6, "--model", model_dir]
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_BYTES", "300")
    code, err = _cli(argv, capsys)
    assert code == 1 and "keep.png" in err and "more than the limit of 300 (max_output_bytes)" in err
    assert [p.name for p in out.iterdir()] == ["keep.png"] and (out / "keep.png").read_bytes() == b"old"  # no temp
    monkeypatch.setenv("STILL2MOTION_MAX_OUTPUT_BYTES", "1000000")
    assert _cli(argv, capsys)[0] == 0
    if fmt == "apng":
        assert len(read_animation(out / "keep.png").frames) == 6
    else:
        assert sorted(p.name for p in out.iterdir()) == ["keep.json", "keep.png"]


def test_max_total_pixels_counts_every_frame(model, still, monkeypatch):
    monkeypatch.setenv("STILL2MOTION_MAX_TOTAL_PIXELS", str(24 * 32 * 5))
    monkeypatch.setattr(io, "decode_image", _never)  # refused before decoding
    with pytest.raises(ValueError, match=r"6 frames of 24x32 = 4608 pixels, more than the limit of 3840.*TOTAL_PIXELS"):
        model.animate(still, num_frames=6)
    monkeypatch.undo()
    monkeypatch.setenv("STILL2MOTION_MAX_TOTAL_PIXELS", str(24 * 32 * 5))
    assert len(model.animate(still, num_frames=5).frames) == 5
