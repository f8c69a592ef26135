"""``noise_scale``: the seeds' noise standard deviation, a config key like ``motion_scale`` (issue 19)."""

import json

import numpy as np
import pytest
import torch

from conftest import random_model, sprite
from still2motion import Still2Motion


def test_noise_scale_multiplies_each_seeds_noise_and_changes_the_motion():
    plain, wide = random_model(seed=3), random_model(seed=3, noise_scale=2.0)
    assert torch.allclose(wide.sample_noise(5), 2.0 * plain.sample_noise(5))
    image = sprite()
    a = np.stack([np.asarray(f) for f in plain.animate(image, num_frames=6, seed=5).frames]).astype(np.float32)
    b = np.stack([np.asarray(f) for f in wide.animate(image, num_frames=6, seed=5).frames]).astype(np.float32)
    assert np.abs(a - b).mean() > 0.01  # same weights, same seed: only the noise's spread differs
    assert np.array_equal(a[0], b[0])  # frame 0 is the input either way


def test_zero_noise_scale_makes_every_seed_one_motion():
    for scale, same in ((1.0, False), (0.0, True)):
        model = random_model(seed=3, noise_scale=scale)
        frames = [np.asarray(model.animate(sprite(), num_frames=4, seed=s).frames[2]) for s in (1, 2)]
        assert np.array_equal(frames[0], frames[1]) == same


def test_noise_scale_round_trips_and_old_configs_load_with_one(tmp_path):
    random_model(seed=1, noise_scale=1.5).save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["noise_scale"] == 1.5
    assert Still2Motion.from_pretrained(tmp_path / "m").noise_scale == 1.5
    del config["noise_scale"]  # a model saved before the key existed
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    assert Still2Motion.from_pretrained(tmp_path / "m").noise_scale == 1.0


@pytest.mark.parametrize("bad", [-0.5, 11, "2", True])
def test_bad_noise_scale_is_refused_with_its_value(bad):
    wanted = r"noise_scale must be a number in \[0, 10\], got " + repr(bad).replace("'", ".")
    with pytest.raises(ValueError, match=wanted):
        random_model(noise_scale=bad)
