"""The pix2pix and STN designs: config round trip, nearest-phase sampling, identity STN, ``load_generator`` dispatch
(and the package's ``load_model`` refusing them: they exist for training and comparison only)."""

import json
import math

import numpy as np
import pytest
import torch

from conftest import sprite
from still2motion import load_model
from train.evaluate.design_baselines import Pix2PixGenerator, STNGenerator, load_generator, nearest_phase_index

TINY = {"resolution": 32, "block_out_channels": (4, 8, 16), "num_phases": 16, "noise_dim": 4}


@pytest.mark.parametrize("cls, kind", [(Pix2PixGenerator, "pix2pix"), (STNGenerator, "stn")])
def test_round_trip_records_type_and_loads_strictly(tmp_path, cls, kind):
    torch.manual_seed(0)
    model = cls(**TINY)
    model.save_pretrained(tmp_path / kind)
    config = json.loads((tmp_path / kind / "config.json").read_text())
    assert config["generator_type"] == kind
    loaded = load_generator(tmp_path / kind)
    assert type(loaded) is cls and not loaded.training
    with pytest.raises(ValueError, match=f"unknown generator_type '{kind}'; known: still2motion"):
        load_model(tmp_path / kind)
    image, noise = torch.rand(2, 4, 32, 32), torch.randn(2, 4)
    phases = torch.tensor([[0.0, 1.0], [3.0, 6.2]])
    assert torch.equal(model.eval().forward_frames(image, phases, noise), loaded.forward_frames(image, phases, noise))
    with pytest.raises(ValueError, match="generator_type"):
        cls(**TINY, generator_type="still2motion")


def test_nearest_phase_index_wraps_around():
    step = 2 * math.pi / 16
    phases = torch.tensor([0.0, step * 0.4, step * 0.6, step * 15.6, 2 * math.pi])
    assert nearest_phase_index(phases, 16).tolist() == [0, 0, 1, 0, 0]


def test_pix2pix_picks_the_painted_frame_of_the_nearest_phase():
    model = Pix2PixGenerator(**TINY).eval()
    image = torch.rand(1, 4, 32, 32)
    painted = model(image)  # (1, 16, 4, R, R)
    frames = model.forward_frames(image, torch.tensor([[2 * math.pi * 5 / 16 + 0.01, 2 * math.pi * 9 / 16]]))
    assert torch.equal(frames[0, 0], painted[0, 5]) and torch.equal(frames[0, 1], painted[0, 9])
    rgb, alpha = painted[:, :, :3], painted[:, :, 3:]
    assert torch.all(rgb <= alpha + 1e-6)  # premultiplied


def test_untrained_stn_returns_the_still_and_a_translation_moves_it():
    model = STNGenerator(**TINY).eval()
    still = sprite(24, 32)
    frames = model.animate(still, num_frames=4, resample="nearest").frames
    assert all(np.array_equal(np.asarray(f), np.asarray(still)) for f in frames)
    with torch.no_grad():
        bias = torch.zeros(16, 2, 3)
        bias[4, 0, 2] = 0.25  # theta at phase 2 pi 4 / 16: sample 0.25 canvas units to the right
        model.theta_head[-1].bias.copy_(bias.flatten())
    moved = model.animate(still, num_frames=4, resample="nearest").frames  # frame 1 is phase 2 pi / 4 = index 4
    assert np.array_equal(np.asarray(moved[2]), np.asarray(still))
    assert not np.array_equal(np.asarray(moved[1]), np.asarray(still))


def test_pix2pix_renders_at_any_size_and_strength_zero_is_the_still():
    model = Pix2PixGenerator(**TINY).eval()
    still = sprite(24, 32)
    animation = model.animate(still, num_frames=3, size=(48, 64), strength=0.0, resample="nearest")
    assert [f.size for f in animation.frames] == [(48, 64)] * 3
    big = np.asarray(still.resize((48, 64), 0))
    assert np.abs(np.asarray(animation.frames[1]).astype(int) - big).max() <= 1
