"""Training through the drawing guard (``research/guarded_training.py``): the training forward renders the motion
``keep_drawing`` keeps, the gradient reaches the model through it, and the saved model is a plain ``Still2Motion``."""

import pytest
import torch

from conftest import random_model
from research.guarded_training import GuardedStill2Motion, train_through_guard
from research.hooks import ResearchHooks
from research.train import parse_args as research_args
from still2motion import Still2Motion
from still2motion.motion import Motion
from train.args import ConfigError
from train.evaluate.drawing_metrics import warp_shares


def _item(motion: Motion, b: int) -> Motion:
    return Motion(motion.masks[b : b + 1], motion.affine[b : b + 1], motion.flow[b : b + 1])


def _blob(n: int = 2, R: int = 32) -> torch.Tensor:
    image = torch.zeros(n, 4, R, R)
    yy, xx = torch.meshgrid(torch.arange(R), torch.arange(R), indexing="ij")
    disc = ((yy - 16) ** 2 + (xx - 15) ** 2 <= 81).float()
    image[:, 3] = disc
    image[:, 0], image[:, 1] = 0.8 * disc, torch.linspace(0, 1, R)[None, :] * disc  # a gradient: motion shows
    return image


def test_the_training_forward_renders_the_guarded_motion_and_eval_the_raw_one():
    model = train_through_guard(random_model(seed=3, scale=0.3, motion_scale=1.25))
    image, noise = _blob(), torch.randn(2, model.noise_dim, generator=torch.Generator().manual_seed(0))
    phases = torch.linspace(0, 2 * torch.pi, 9)[:-1]
    box = (0, 0, 32, 32)
    raw = Still2Motion.forward(model.eval(), image, noise)
    assert raw.masks.shape[1] == 2  # eval mode: the layers as predicted
    with torch.no_grad():
        raw_shares = warp_shares(_item(raw, 0), phases, image[:1], box, 32)
    assert max(raw_shares["distortion"]) > 0.02  # the random motion distorts: something for the guard to do
    guarded = model.train()(image, noise)
    assert guarded.masks.shape[1] == 1 and guarded.flow.shape[-1] == 32  # one warp per item
    for b in range(2):
        with torch.no_grad():
            shares = warp_shares(_item(guarded, b).scaled(1.25), phases, image[b : b + 1], box, 32)
        assert max(shares["fold"]) == 0 and max(shares["distortion"]) <= 0.02
        assert shares["peak_px"] >= 1.0  # bounded, not stilled
    frames = model.forward_frames(image, phases[None].repeat(2, 1), noise, motion=guarded)
    assert frames.shape == (2, 8, 4, 32, 32)
    frames.abs().mean().backward()
    grads = [p.grad for p in model.affine_head.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0


def test_a_model_trained_through_the_guard_saves_as_a_plain_still2motion(tmp_path):
    model = train_through_guard(random_model(seed=1, scale=0.2))
    assert isinstance(model, GuardedStill2Motion)
    model.eval().save_pretrained(tmp_path)
    loaded = Still2Motion.from_pretrained(tmp_path)
    assert type(loaded) is Still2Motion
    image, noise = _blob(1), torch.randn(1, model.noise_dim)
    a, b = model(image, noise), loaded.eval()(image, noise)
    assert torch.equal(a.affine, b.affine) and torch.equal(a.flow, b.flow)
    assert float(a.affine.abs().max()) > 0  # random weights: the equality compares motions, not zeros


def test_the_flag_goes_through_the_seam_and_refuses_a_vocabulary(tmp_path):
    args = research_args(["--data_dir", str(tmp_path), "--train_through_guard"])
    built = ResearchHooks().build(args, random_model())
    assert isinstance(built, GuardedStill2Motion)
    with pytest.raises(ConfigError, match="--train_through_guard"):
        research_args(["--data_dir", str(tmp_path), "--train_through_guard", "--vocabulary", str(tmp_path / "t")])
