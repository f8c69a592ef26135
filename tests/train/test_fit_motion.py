"""Stage 1 (train/fit/fit_motion.py): fitted motion reconstructs a real loop far better than the still frame."""

import math

import pytest
import torch

from still2motion.motion import Motion, affine_at, flow_at
from train.fit import fit_motion
from train import losses
from train.fit.motion_targets import MotionTargets, save_targets


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
    # the fitted trajectory is a horizontal motion: at phi = pi / 2 every layer's shift (affine translation plus the
    # coarse flow where the blob is) is about the sway's 0.3 canvas units in x, and x dominates y
    weight = torch.nn.functional.adaptive_avg_pool2d(frames[:1, 3:], 4)[0, 0]  # (4, 4) alpha on the flow grid
    phase = torch.tensor([math.pi / 2])
    flow = (flow_at(motion.flow, phase) * weight).sum(dim=(-1, -2)) / weight.sum()  # (1, 1, K, 2)
    shift = (affine_at(motion.affine, phase)[..., 2] + flow)[0, 0]  # (K, 2)
    assert ((shift[:, 0] + 0.3).abs() < 0.1).all() and (shift[:, 0].abs() > 3 * shift[:, 1].abs()).all(), shift


def test_targets_round_trip(tmp_path):
    motion = Motion(torch.rand(3, 2, 4, 4), torch.randn(3, 2, 6, 2, 2), torch.randn(3, 2, 2, 2, 2, 4, 4))
    save_targets(tmp_path / "t.safetensors", ["a", "b", "c"], motion, {"resolution": 32})
    targets = MotionTargets(tmp_path / "t.safetensors")
    got, known = targets.for_seqs(["c", "zzz"])
    assert known.tolist() == [True, False]
    assert torch.equal(got.affine[0], motion.affine[2]) and not got.affine[1].any()
    assert targets.config["resolution"] == 32


def test_initial_masks_are_depth_ordered_parts_not_alpha():
    """A sprite's front layer starts as the upper part of its silhouette, an opaque picture's as a central disc;
    layer 0 (the back) holds most of it, so the layers never start as "front = alpha"."""
    sprite = torch.zeros(1, 4, 32, 32)
    sprite[:, :, 4:28, 10:22] = 1.0  # a tall opaque figure on transparency
    opaque = torch.rand(1, 4, 32, 32)
    opaque[:, 3] = 1.0
    logits = fit_motion.initial_mask_logits(torch.cat((sprite, opaque)), 2, 16)
    masks = torch.softmax(logits, dim=1)
    share = losses.front_share(masks, torch.cat((sprite, opaque)))
    assert (share > 0.1).all() and (share < 0.5).all(), share
    front = masks[0, 1]
    assert front[3, 8] > 0.9 and front[12, 8] < 0.1  # head in front, legs behind
    assert masks[1, 1, 8, 8] > 0.9 and masks[1, 1, 0, 0] < 0.1  # the subject in front, the surround behind


def test_scored_every_strides_to_at_most_max_sequences(monkeypatch):
    monkeypatch.setattr(fit_motion, "open_dataset", lambda *a, **k: range(10))
    assert fit_motion.scored_every("x", "val", 32, None) == 1
    assert fit_motion.scored_every("x", "val", 32, None, every=3) == 3
    assert fit_motion.scored_every("x", "val", 32, 4) == 3  # ceil(10 / 4): loops 0, 3, 6, 9
    assert fit_motion.scored_every("x", "val", 32, 4, every=5) == 5


def test_shards_of_one_fit_are_read_together(tmp_path):
    def part(name, seqs, value):
        n = len(seqs)
        motion = Motion(torch.rand(n, 2, 4, 4), torch.full((n, 2, 6, 3, 2), value), torch.zeros(n, 2, 2, 3, 2, 4, 4))
        save_targets(tmp_path / name, seqs, motion, {"kind": "coherent"}, extra={"l1": torch.full((n,), value)})
        return tmp_path / name

    a, b = part("0.safetensors", ["x", "y"], 0.1), part("1.safetensors", ["z"], 0.3)
    joined = MotionTargets([a, b])
    assert joined.seqs == ["x", "y", "z"] and joined.config == {"kind": "coherent"}
    motion, known = joined.for_seqs(["z", "x", "w"])
    assert known.tolist() == [True, True, False]
    assert motion.affine[:, 0, 0, 0, 0].tolist() == pytest.approx([0.3, 0.1, 0.0])
    assert joined.tensors["l1"].tolist() == pytest.approx([0.1, 0.1, 0.3])
    with pytest.raises(ValueError, match="fit some sequence twice"):
        MotionTargets([a, a])
    save_targets(tmp_path / "bare.safetensors", ["q"], Motion(torch.rand(1, 2, 4, 4), torch.zeros(1, 2, 6, 3, 2),
                                                             torch.zeros(1, 2, 2, 3, 2, 4, 4)), {})
    with pytest.raises(ValueError, match="hold different tensors"):
        MotionTargets([a, tmp_path / "bare.safetensors"])
