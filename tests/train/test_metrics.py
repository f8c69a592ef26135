"""Loop metrics on synthetic clips whose answers are known by construction."""

import math

import pytest
import torch
import torch.nn.functional as F

from train.evaluate.metrics import (
    METRICS, PSNR_CAP_DB, clip_alpha_iou, first_frame_fidelity, is_alive, l1, motion_energy, motion_ratio,
    phase_aligned_l1, phase_alignment, psnr, score_clip, score_real, seam_ratio, sharpness_ratio,
)


def bar_loop(T: int = 8, W: int = 8, H: int = 6) -> torch.Tensor:
    """An opaque white 1-px column that moves right by 1 px per frame and wraps: a pure-translation, perfect loop."""
    clip = torch.zeros(T, 4, H, W)
    for t in range(T):
        clip[t, :, :, t % W] = 1.0  # premultiplied white, alpha 1
    return clip


def checkerboard(H: int = 16, W: int = 16, cell: int = 2) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    board = ((yy // cell + xx // cell) % 2).float()
    return torch.stack([board, board * 0.5, board * 0.25, torch.ones_like(board)])  # (4, H, W), premultiplied


def test_translation_loop_has_known_energy_and_a_perfect_seam():
    clip = bar_loop(T=8, W=8)
    # every step (the wrap-around too) changes 2 of 8 columns by 1 in all channels
    assert motion_energy(clip) == pytest.approx(2 / 8)
    assert seam_ratio(clip) == pytest.approx(1.0)
    assert score_real(clip) == pytest.approx({"seam_ratio": 1.0, "motion_energy": 0.25})


def test_a_loop_that_jumps_back_has_a_large_seam():
    clip = torch.zeros(6, 4, 4, 12)
    for t in range(6):  # a 4-px bar moves right 1 px per frame and never comes back: it jumps at the restart
        clip[t, :, :, t : t + 4] = 1.0
    # each step changes 2 of 12 columns; frame 5 vs frame 0 are disjoint bars: 8 columns
    assert seam_ratio(clip) == pytest.approx((8 / 12) / (2 / 12))
    assert motion_energy(clip) == pytest.approx((5 * 2 / 12 + 8 / 12) / 6)


def test_static_clip_has_seam_one_and_no_motion():
    still = checkerboard()
    clip = still.expand(5, -1, -1, -1).clone()
    assert seam_ratio(clip) == 1.0
    assert motion_energy(clip) == 0.0
    assert motion_ratio(clip, bar_loop(5, 16, 16)) == 0.0
    assert not is_alive(0.0)
    assert motion_ratio(clip, clip) == 1.0  # static vs static: moves as much as the real one
    assert motion_ratio(bar_loop(5, 16, 16), clip) == math.inf


def test_alive_range_is_inclusive():
    assert is_alive(0.5) and is_alive(1.0) and is_alive(2.0)
    assert not is_alive(0.49) and not is_alive(2.01)


def test_identical_clips_give_zero_l1_and_the_capped_psnr():
    clip = bar_loop()
    assert l1(clip, clip.clone()) == 0.0
    assert psnr(clip, clip.clone()) == PSNR_CAP_DB == 100.0
    assert phase_aligned_l1(clip, clip.clone()) == 0.0


def test_psnr_of_a_known_error():
    real = torch.full((3, 4, 5, 5), 0.5)
    assert psnr(real + 0.1, real) == pytest.approx(20.0)  # MSE 0.01
    assert l1(real + 0.1, real) == pytest.approx(0.1)


@pytest.mark.parametrize("shift", [1, 3, 7])
def test_phase_shifted_copy_has_zero_phase_aligned_l1(shift):
    real = bar_loop(T=8, W=8)
    generated = real.roll(shift, dims=0)  # the same loop started at another frame
    assert l1(generated, real) > 0.1
    assert phase_aligned_l1(generated, real) == 0.0
    assert phase_alignment(generated, real)[1:] == (shift, False)  # generated[(shift + t) % T] == real[t]


def test_time_reversed_copy_has_zero_phase_aligned_l1():
    real = bar_loop(T=8, W=8)
    reversed_loop = real[(-torch.arange(8)) % 8]  # played backwards, same start frame
    assert l1(reversed_loop, real) > 0.1
    assert phase_aligned_l1(reversed_loop, real) == 0.0
    assert phase_alignment(reversed_loop, real)[2] is True
    shifted_back = reversed_loop.roll(3, dims=0)
    assert phase_aligned_l1(shifted_back, real) == 0.0


def test_phase_aligned_l1_is_never_above_l1():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(6, 4, 5, 7, generator=gen), torch.rand(6, 4, 5, 7, generator=gen)
    assert phase_aligned_l1(a, b) <= l1(a, b)


def test_blur_lowers_sharpness_below_one():
    still = checkerboard()
    blurred = F.avg_pool2d(F.pad(still[None], (1, 1, 1, 1), mode="replicate"), 3, stride=1)[0]
    clip_sharp = still.expand(4, -1, -1, -1)
    clip_blur = blurred.expand(4, -1, -1, -1)
    assert sharpness_ratio(clip_sharp, still) == pytest.approx(1.0)
    assert sharpness_ratio(clip_blur, still) < 0.6
    shifted = still.roll(2, dims=2).expand(4, -1, -1, -1)  # motion of a periodic pattern keeps detail
    assert sharpness_ratio(shifted, still) == pytest.approx(1.0)


def test_flat_input_has_sharpness_one():
    flat = torch.full((4, 8, 8), 0.5)
    assert sharpness_ratio(flat.expand(3, -1, -1, -1), flat) == 1.0


def test_first_frame_fidelity():
    still = checkerboard()
    clip = torch.stack([still, still.roll(1, dims=2)])
    assert first_frame_fidelity(clip, still) == (0.0, True)
    off = clip.clone()
    off[0, 0, 0, 0] += 1 / 255
    value, exact = first_frame_fidelity(off, still)
    assert not exact and value == pytest.approx(1 / 255 / (4 * 16 * 16))


def test_alpha_iou_of_known_masks():
    gen = torch.zeros(2, 4, 4, 8)
    real = torch.zeros(2, 4, 4, 8)
    gen[:, 3, :, :4] = 1.0  # left half opaque
    real[:, 3, :, :6] = 1.0  # left three quarters opaque
    assert clip_alpha_iou(gen, real) == pytest.approx(4 / 6)
    assert clip_alpha_iou(torch.zeros(2, 4, 4, 8), torch.zeros(2, 4, 4, 8)) == 1.0  # both empty
    real[1, 3] = 0.0
    gen[1, 3] = 0.0
    assert clip_alpha_iou(gen, real) == pytest.approx((4 / 6 + 1) / 2)


def test_score_clip_returns_every_metric():
    real = bar_loop(T=8, W=8)
    generated = real.roll(2, dims=0)
    scores = score_clip(generated, real, real[0])
    assert tuple(scores) == METRICS
    assert scores["phase_l1"] == 0.0 and scores["l1"] > 0
    assert scores["motion_ratio"] == pytest.approx(1.0) and scores["alive"] is True
    assert scores["seam_ratio"] == pytest.approx(1.0)
    assert scores["first_frame_exact"] is False  # the loop was started at another frame


def test_bad_shapes_name_the_values():
    with pytest.raises(ValueError, match=r"\(5, 4, 6, 8\) and \(8, 4, 6, 8\)"):
        l1(bar_loop(T=5), bar_loop(T=8))
    with pytest.raises(ValueError, match=r"\(T, 4, H, W\).*\(4, 6, 8\)"):
        seam_ratio(bar_loop()[0])
    with pytest.raises(ValueError, match="input must be one frame"):
        score_clip(bar_loop(), bar_loop(), torch.zeros(4, 3, 3))
