"""Reading the motion from the silhouette: colour dropout in a training step and a run (train/steps.py), the
silhouette model (``silhouette_only``), and the squash augmentation's flags."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from _train_data import make_prepared_root  # noqa: E402
from conftest import TINY_CONFIG, random_model  # noqa: E402
from still2motion import Still2Motion  # noqa: E402
from research import train as train_script  # noqa: E402
from research.train import parse_args  # noqa: E402
from train.steps import TrainingGenerator  # noqa: E402


def _run(data, out, *extra):
    return train_script.main(parse_args([
        "--data_dir", str(data), "--output_dir", str(out), "--resolution", "32", "--block_out_channels", "4,8,16",
        "--train_batch_size", "2", "--report_to", "none", "--lambda_gan", "0", "--lambda_temporal", "0",
        "--max_train_steps", "1", *map(str, extra),
    ]))


def _two_pictures_one_silhouette(R: int) -> torch.Tensor:
    """``(2, 4, R, R)``: one opaque box, coloured at random differently in each picture."""
    image = torch.zeros(2, 4, R, R)
    image[:, 3, 8:24, 10:22] = 1.0
    image[:, :3, 8:24, 10:22] = torch.rand(2, 3, 16, 12)
    return image


def test_colour_dropout_predicts_from_the_silhouette_and_warps_the_real_picture():
    from research.hooks import colour_dropout

    model = random_model(scale=0.2)  # random heads: the motion depends on what the network sees
    image = _two_pictures_one_silhouette(model.resolution)
    sees, dropped = colour_dropout(image, 1.0)
    assert dropped.all() and torch.equal(sees[0], sees[1]) and torch.equal(sees[:, 3], image[:, 3])
    kept, none = colour_dropout(image, 0.0)
    assert torch.equal(kept, image) and not none.any()
    phases = torch.tensor([[0.5, 1.5, 3.0, 4.5]]).repeat(2, 1)
    noise = torch.zeros(2, model.noise_dim)
    wrapped = TrainingGenerator(model)
    with torch.no_grad():
        frames, motion, _, _ = wrapped(image, phases, noise, sees=sees)
        own, own_motion, _, _ = wrapped(image, phases, noise)
    assert torch.allclose(motion.flow[0], motion.flow[1], atol=1e-6)  # one silhouette, one motion
    assert not torch.allclose(own_motion.flow[0], own_motion.flow[1], atol=1e-3)  # colours change it otherwise
    assert not torch.allclose(frames[0], frames[1])  # each still warps its own picture
    assert (frames[0, 1] - image[0]).abs().max() > 1e-3  # and the frames move
    with pytest.raises(ValueError, match=r"--colour_dropout must be in \[0, 1\], got 1.5"):
        parse_args(["--data_dir", "d", "--colour_dropout", "1.5"])


def test_training_with_colour_dropout_one_saves_a_silhouette_model(tmp_path):
    root = make_prepared_root(tmp_path / "root")
    for share, silhouette in ((0.5, False), (1, True)):
        result = _run(root, tmp_path / f"out{share}", "--colour_dropout", share)
        assert result["global_step"] == 1
        assert Still2Motion.from_pretrained(tmp_path / f"out{share}").silhouette_only is silhouette


def test_a_silhouette_only_model_ignores_colours_and_round_trips(tmp_path):
    from still2motion.model import silhouette_view

    model = random_model(scale=0.2, silhouette_only=True)
    image = _two_pictures_one_silhouette(model.resolution)
    with torch.no_grad():
        motion = model(image, torch.zeros(2, model.noise_dim))
        grey = model(silhouette_view(image), torch.zeros(2, model.noise_dim))
    assert torch.allclose(motion.flow[0], motion.flow[1], atol=1e-6) and torch.allclose(motion.flow, grey.flow)
    model.save_pretrained(tmp_path / "m")
    assert Still2Motion.from_pretrained(tmp_path / "m").silhouette_only is True
    with pytest.raises(ValueError, match="silhouette_only must be true or false, got 'yes'"):
        Still2Motion(**TINY_CONFIG, silhouette_only="yes")


@pytest.mark.parametrize("argv, message", [
    (["--squash_augment", "0"], r"--squash_augment must be in \(0, 1\], got 0"),
    (["--squash_augment", "0.6", "--motion_targets", "f.safetensors"], "--squash_augment cannot be combined"),
    (["--colour_dropout", "-0.1"], r"--colour_dropout must be in \[0, 1\], got -0.1"),
])
def test_the_flags_are_checked(tmp_path, argv, message):
    with pytest.raises(ValueError, match=message):
        parse_args(["--data_dir", str(tmp_path), *argv])
