"""train/losses.py and train/discriminator.py on small tensors with known answers."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from still2motion.motion import Motion, affine_at, shift_phase  # noqa: E402
from train import losses  # noqa: E402
from train.discriminator import Discriminators, clip_input  # noqa: E402


def motion(B=2, K=2, M=2, R=8, Hf=4, seed=0) -> Motion:
    gen = torch.Generator().manual_seed(seed)
    return Motion(torch.softmax(torch.randn(B, K, R, R, generator=gen), 1), torch.randn(B, K, 6, M, 2, generator=gen),
                  torch.randn(B, K, 2, M, 2, Hf, Hf, generator=gen))


def test_l1_multiscale_is_per_sample_and_zero_for_equal_clips():
    real = torch.rand(3, 2, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(losses.l1_multiscale(real, real), torch.zeros(3))
    fake = real.clone()
    fake[1] += 0.5
    per = losses.l1_multiscale(fake, real)
    assert per[0] == 0 and per[2] == 0 and per[1] == pytest.approx(0.5)


def test_best_of_k_keeps_each_samples_best_draw():
    per = torch.tensor([[1.0, 0.2], [0.1, 0.9], [0.5, 0.5]])  # (k=3, B=2)
    value, index = losses.best_of_k(per)
    assert value.item() == pytest.approx((0.1 + 0.2) / 2)
    assert index.tolist() == [1, 0]


def test_gan_losses_have_their_textbook_values():
    ones = torch.ones(4, 1, 3, 3)
    assert losses.d_loss(ones, -ones, "hinge").item() == 0  # confident and right: no hinge loss
    assert losses.d_loss(ones, torch.zeros_like(ones), "lsgan").item() == 0
    assert losses.g_loss(-ones, "hinge").item() == 1
    with pytest.raises(ValueError, match="wgan"):
        losses.d_loss(ones, ones, "wgan")


def test_flow_smoothness_is_zero_for_constant_flow_and_masks_regularisers():
    m = motion()
    flat = m.flow.mean(dim=(-1, -2), keepdim=True).expand_as(m.flow)
    assert losses.flow_smoothness(flat).item() == pytest.approx(0, abs=1e-7)
    assert losses.flow_smoothness(m.flow).item() > 0
    hard = torch.zeros(1, 2, 4, 4)
    hard[:, 1] = 1
    assert losses.mask_entropy(hard).item() == pytest.approx(0, abs=1e-4)
    assert losses.mask_entropy(torch.full((1, 2, 4, 4), 0.5)).item() == pytest.approx(math.log(2), rel=1e-4)
    # a sprite: alpha on the left half only; front layers may take up to half of it, never all of it
    image = torch.zeros(2, 4, 4, 4)
    image[:, 3, :, :2] = 1
    parts = torch.zeros(2, 2, 4, 4)
    parts[:, 0], parts[:, 1, :2, :2] = 1, 1  # the front takes the top half of the silhouette (the right half is empty)
    parts[:, 0, :2, :2] = 0
    assert losses.front_share(parts, image).tolist() == [0.5, 0.5] and losses.front_share_prior(parts, image).item() == 0
    assert losses.front_share(hard, image).tolist() == [1.0, 1.0]  # "foreground = alpha": the whole sprite in front
    assert losses.front_share_prior(hard, image).item() == pytest.approx(0.5)


def test_coefficient_regression_zero_at_target_masked_by_known_and_repeated_over_k():
    target = motion()
    scales = losses.group_scales(target)
    assert torch.equal(losses.coefficient_regression(target, target, scales), torch.zeros(2))
    pred = Motion(target.masks.repeat(3, 1, 1, 1), target.affine.repeat(3, 1, 1, 1, 1) + 1, target.flow.repeat(3, 1, 1, 1, 1, 1, 1))
    per = losses.coefficient_regression(pred, target, scales, known=torch.tensor([True, False]))
    assert per.shape == (6,) and torch.all(per[1::2] == 0) and torch.all(per[0::2] > 0)


def test_anchor_targets_reanchors_to_the_input_frame():
    m = motion(B=1)
    start, n = torch.tensor([3]), torch.tensor([8])
    anchored = losses.anchor_targets(m, start, n)
    expected = shift_phase(m, torch.tensor([2 * math.pi * 3 / 8]))
    assert torch.allclose(anchored.affine, expected.affine)
    assert torch.allclose(affine_at(anchored.affine, torch.zeros(1)), affine_at(torch.zeros_like(m.affine), torch.zeros(1)))


def test_discriminators_judge_patches_and_clips_in_phase_order():
    d = Discriminators(ndf=4, n_layers=2)
    image, frames = torch.rand(2, 4, 32, 32), torch.rand(2, 3, 4, 32, 32)
    phases = torch.tensor([[2.0, 0.5, 1.0], [0.1, 0.2, 0.3]])
    out = d(image, frames, phases)
    assert out["patch"].logits.shape[0] == 6 and out["patch"].logits.shape[1] == 1
    assert out["temporal"].logits.shape[:3] == (2, 1, 3)
    x = clip_input(image, frames, phases)  # (B, 10, S, R, R)
    assert torch.equal(x[0, 4:8, 0], frames[0, 1])  # the frame at phase 0.5 comes first
    assert torch.allclose(x[0, 8, 0], torch.full((32, 32), math.cos(0.5)))
    assert Discriminators(ndf=4, temporal=False).temporal is None


def test_energy_mismatch_is_zero_for_equal_motion_and_grows_with_stillness():
    import torch
    from train.losses import energy_mismatch

    image = torch.zeros(2, 4, 8, 8)
    real = torch.zeros(2, 3, 4, 8, 8)
    real[:, :, :, 2:4, 2:4] = 1.0
    shifted = torch.zeros_like(real)
    shifted[:, :, :, 4:6, 4:6] = 1.0  # moves as much, elsewhere
    still = image.unsqueeze(1).expand_as(real)
    assert energy_mismatch(shifted, real, image).item() < 1e-6
    assert energy_mismatch(still, real, image).item() > 2.0
    assert energy_mismatch(real * 0.5, real, image).item() > energy_mismatch(real * 0.9, real, image).item() > 0


def test_energy_floor_charges_only_clips_moving_less_than_the_floor():
    torch.manual_seed(0)
    from train.losses import energy_mismatch

    image = torch.rand(2, 4, 8, 8)
    real = image.unsqueeze(1) + 0.2 * torch.randn(2, 3, 4, 8, 8)
    inp = image.unsqueeze(1)
    bigger = inp + 2.0 * (real - inp)  # moves twice as much: free with a floor, charged two-sided
    assert energy_mismatch(bigger, real, image, floor=0.7).item() == 0.0
    assert energy_mismatch(bigger, real, image).item() > 0.5
    slightly_less = inp + 0.8 * (real - inp)  # above a 0.7 floor
    assert energy_mismatch(slightly_less, real, image, floor=0.7).item() == 0.0
    timid = inp + 0.35 * (real - inp)  # half the floor: pays about log 2
    assert abs(energy_mismatch(timid, real, image, floor=0.7).item() - math.log(2)) < 0.05


def test_energy_floor_is_checked():
    from train.args import ConfigError, parse_args

    with pytest.raises(ConfigError, match=r"--energy_floor must be in \(0, 1\], got 1.5"):
        parse_args(["--data_dir", "x", "--lambda_energy", "1", "--energy_floor", "1.5"])
    with pytest.raises(ConfigError, match="needs --lambda_energy"):
        parse_args(["--data_dir", "x", "--energy_floor", "0.7"])
    assert parse_args(["--data_dir", "x", "--lambda_energy", "1", "--energy_floor", "0.7"]).energy_floor == 0.7
    with pytest.raises(ConfigError, match="--energy_pool must be >= 1, got 0"):
        parse_args(["--data_dir", "x", "--lambda_energy", "1", "--energy_pool", "0"])


def test_pooled_energy_ignores_pixel_churn_but_sees_a_shift():
    from train.losses import energy_mismatch

    image = torch.zeros(1, 4, 16, 16)
    image[..., 4:12, 4:12] = 1.0  # an opaque square
    real = torch.roll(image, 2, dims=-1).unsqueeze(1).repeat(1, 3, 1, 1, 1)  # the square moves 2 px right
    checker = ((torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2).float() * 2 - 1  # +-1
    churn = (image + 0.5 * checker * image).unsqueeze(1).repeat(1, 3, 1, 1, 1)  # every pixel flickers +-0.5 in place
    # per pixel the churn moves plenty: free at pool 1 with a floor
    assert energy_mismatch(churn, real, image, floor=0.8).item() == 0.0
    # averaged over 4x4 blocks the flicker almost cancels: the floor charges it, and not the real shift
    assert energy_mismatch(churn, real, image, floor=0.8, pool=4).item() > 1.0
    assert energy_mismatch(real, real, image, floor=0.8, pool=4).item() == 0.0
    assert energy_mismatch(real, real, image, pool=4).item() < 1e-6


def test_energy_ceiling_charges_overshoot_outside_the_free_band():
    from train.args import ConfigError, parse_args
    from train.losses import energy_mismatch

    torch.manual_seed(0)
    image = torch.rand(2, 4, 8, 8)
    real = image.unsqueeze(1) + 0.2 * torch.randn(2, 3, 4, 8, 8)
    inp = image.unsqueeze(1)
    band = {"floor": 0.8, "ceiling": 1.25}
    assert energy_mismatch(inp + 1.1 * (real - inp), real, image, **band).item() == 0.0  # inside the band
    double = energy_mismatch(inp + 2.5 * (real - inp), real, image, **band).item()
    assert abs(double - math.log(2.0)) < 0.05  # 2.5x against a 1.25x ceiling: about log 2
    assert energy_mismatch(inp + 2.5 * (real - inp), real, image, floor=0.8).item() == 0.0  # floor alone: free
    with pytest.raises(ConfigError, match="--energy_ceiling needs --energy_floor"):
        parse_args(["--data_dir", "x", "--lambda_energy", "1", "--energy_ceiling", "1.25"])
