"""The generator forward of a training step: best-of-k and reversal-invariant scoring."""

import argparse
import pytest
import torch

from conftest import TX, hand_set_model
from train.args import parse_args
from train.steps import Run, TrainingGenerator, generator_forward


def _args(**overrides):
    base = dict(best_of_k=1, lambda_l1=1.0, lambda_energy=0.0, lambda_motion=1.0, lambda_flow_smooth=0.0,
                lambda_mask_entropy=0.0, lambda_front_share=0.0, reversal_invariant=False)
    return argparse.Namespace(**{**base, **overrides})


def _batch(model, backwards: bool):
    """A real 'loop' that is the model's own sway, played forwards or backwards."""
    image = torch.zeros(2, 4, model.resolution, model.resolution)
    image[:, :, 10:22, 12:20] = 1.0
    phases = torch.tensor([[0.5, 1.5, 3.0, 4.5]]).repeat(2, 1)
    with torch.no_grad():
        real = model.forward_frames(image, -phases if backwards else phases)
    return {"input": image, "targets": real, "phases": phases}


@pytest.mark.parametrize("backwards", [False, True])
def test_reversal_invariant_forgives_the_direction_only(backwards):
    model = hand_set_model({(TX, 1, "b"): 0.15})
    wrapped = TrainingGenerator(model)
    batch = _batch(model, backwards)
    plain = generator_forward(Run(_args(), None, wrapped, None, None, None, model.noise_dim), batch)
    either = generator_forward(Run(_args(reversal_invariant=True), None, wrapped, None, None, None, model.noise_dim), batch)
    assert either.recon.item() < 1e-5  # the same motion, whichever way the real loop plays
    if backwards:
        assert plain.recon.item() > 1e-2  # without it, a backwards loop costs as much as a wrong one
        assert either.logs["g_backwards_frac"] == 1.0
    else:
        assert plain.recon.item() < 1e-5 and either.logs["g_backwards_frac"] == 0.0


def test_reversal_invariant_is_refused_for_baselines(tmp_path):
    with pytest.raises(ValueError, match="--reversal_invariant only applies"):
        parse_args(["--data_dir", str(tmp_path), "--generator", "stn", "--reversal_invariant"])
    with pytest.raises(ValueError, match="needs a Still2Motion"):
        from still2motion.baselines import STNGenerator

        TrainingGenerator(STNGenerator(resolution=32, block_out_channels=(8, 16))).forward(
            torch.zeros(1, 4, 32, 32), torch.zeros(1, 2), torch.zeros(1, 16), reverse=True
        )


@pytest.mark.parametrize("scale, floor, ceiling, charged", [
    (1.0, None, None, False),  # its own motion: the two-sided term is 0
    (3.0, None, None, True),  # three times the real loop's motion: charged two-sided
    (3.0, 0.8, None, False),  # a floor alone lets overshoot through
    (3.0, 0.8, 1.25, True),  # a ceiling charges it again
])
def test_the_energy_term_of_a_step_follows_its_flags(scale, floor, ceiling, charged):
    model = hand_set_model({(TX, 1, "b"): 0.1 * scale})
    real_model = hand_set_model({(TX, 1, "b"): 0.1})
    batch = _batch(real_model, backwards=False)
    args = _args(lambda_energy=1.0, energy_floor=floor, energy_ceiling=ceiling, energy_pool=1)
    out = generator_forward(Run(args, None, TrainingGenerator(model), None, None, None, model.noise_dim), batch)
    assert (out.logs["g_energy"] > 0.1) == charged and out.regular.item() >= out.logs["g_energy"] - 1e-6
