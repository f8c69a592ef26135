"""The generator forward of a training step: best-of-k and reversal-invariant scoring."""

import argparse
import pytest
import torch

from conftest import TX, hand_set_model
from train.args import parse_args
from train.steps import Run, TrainingGenerator, generator_forward


def _args(**overrides):
    base = dict(best_of_k=1, lambda_l1=1.0, lambda_energy=0.0, lambda_motion=1.0, lambda_flow_smooth=0.0,
                lambda_mask_entropy=0.0, lambda_front_share=0.0, reversal_invariant=False, phase_shifts=1)
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


@pytest.mark.parametrize("reverse", [False, True])
def test_phase_shifts_forgive_the_phase_the_input_sits_at(reverse):
    # tx = 0.1 sin(phi) + 0.1 sin(2 phi) is 0 at phi = pi too: the same loop seen from that frame starts at the input
    model = hand_set_model({(TX, 1, "b"): 0.1, (TX, 2, "b"): 0.1})
    wrapped = TrainingGenerator(model)
    batch = _batch(model, backwards=False)
    with torch.no_grad():
        batch["targets"] = model.forward_frames(batch["input"], batch["phases"] + torch.pi)

    def recon(**flags):
        return generator_forward(Run(_args(reversal_invariant=reverse, **flags), None, wrapped, None, None, None,
                                     model.noise_dim), batch)

    plain, two, three = recon(), recon(phase_shifts=2), recon(phase_shifts=3)
    assert plain.recon.item() > 1e-2  # neither forwards nor backwards from the input's phase is this loop
    assert two.recon.item() < 1e-5 and two.logs["g_shifted_frac"] == 1.0  # shifted by pi it is exactly the loop
    assert 1e-3 < three.recon.item() <= plain.recon.item() + 1e-6  # 2 pi / 3 and 4 pi / 3 miss it; never worse
    assert two.fake.shape == plain.fake.shape == batch["targets"].shape  # the GAN still sees the unshifted clip
    assert torch.allclose(two.fake, plain.fake)


def test_phase_shift_zero_scores_what_the_plain_l1_does():
    model = hand_set_model({(TX, 1, "b"): 0.15})
    wrapped = TrainingGenerator(model)
    batch = _batch(model, backwards=True)  # a loop the model's own motion does not match at any shift
    plain = generator_forward(Run(_args(), None, wrapped, None, None, None, model.noise_dim), batch)
    one = generator_forward(Run(_args(phase_shifts=1), None, wrapped, None, None, None, model.noise_dim), batch)
    four = generator_forward(Run(_args(phase_shifts=4), None, wrapped, None, None, None, model.noise_dim), batch)
    assert one.recon.item() == pytest.approx(plain.recon.item())
    assert four.recon.item() <= plain.recon.item() + 1e-7  # shift 0 is among the candidates, at the same weight


@pytest.mark.parametrize("argv, message", [
    (["--phase_shifts", "0"], "--phase_shifts must be >= 1, got 0"),
    (["--phase_shifts", "4", "--generator", "stn"], "--phase_shifts only applies"),
    (["--phase_shifts", "4", "--motion_targets", "t.safetensors"], "cannot be combined with --motion_targets"),
])
def test_phase_shifts_are_checked(tmp_path, argv, message):
    with pytest.raises(ValueError, match=message):
        parse_args(["--data_dir", str(tmp_path), *argv])


def test_reversal_invariant_is_refused_for_baselines(tmp_path):
    with pytest.raises(ValueError, match="--reversal_invariant only applies"):
        parse_args(["--data_dir", str(tmp_path), "--generator", "stn", "--reversal_invariant"])
    with pytest.raises(ValueError, match="need a Still2Motion"):
        from train.evaluate.design_baselines import STNGenerator

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
