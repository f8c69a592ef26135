"""Stage 1 (train/fit_motion.py): fitted motion reconstructs a real loop far better than the still frame."""

import math

import torch

from still2motion.motion import Motion
from train import fit_motion
from train.motion_targets import MotionTargets, save_targets


def _sway_clip(n: int, R: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """A soft square swaying left-right: the frames of a loop at phases 2 pi t / n."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, R), torch.linspace(-1, 1, R), indexing="ij")
    phases = torch.arange(n) * (2 * math.pi / n)
    frames = []
    for phi in phases:
        blob = torch.exp(-(((xx - 0.3 * math.sin(phi)) ** 2 + yy**2) / 0.1) ** 2)
        frames.append(torch.stack((blob * 0.8, blob * 0.2, blob * 0.5, blob)))
    return torch.stack(frames), phases


def test_fit_batch_recovers_a_sway():
    args = fit_motion.parse_args(["--data_dir", "x", "--output", "y", "--steps", "80", "--flow_size", "4", "--mask_size", "4"])
    frames, phases = _sway_clip(6)
    valid = torch.ones(1, 6, dtype=torch.bool)
    valid[:, 0] = False
    motion, l1 = fit_motion.fit_batch(frames[None], phases[None], valid, args)
    static = (frames[1:] - frames[:1]).abs().mean()
    assert l1.item() < 0.35 * static.item()
    # the fitted trajectory is a horizontal motion: its x translation dominates y
    tx, ty = motion.affine[0, :, 2].abs().sum(), motion.affine[0, :, 5].abs().sum()
    assert tx > 3 * ty


def test_targets_round_trip(tmp_path):
    motion = Motion(torch.rand(3, 2, 4, 4), torch.randn(3, 2, 6, 2, 2), torch.randn(3, 2, 2, 2, 2, 4, 4))
    save_targets(tmp_path / "t.safetensors", ["a", "b", "c"], motion, {"resolution": 32})
    targets = MotionTargets(tmp_path / "t.safetensors")
    got, known = targets.for_seqs(["c", "zzz"])
    assert known.tolist() == [True, False]
    assert torch.equal(got.affine[0], motion.affine[2]) and not got.affine[1].any()
    assert targets.config["resolution"] == 32
