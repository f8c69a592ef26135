"""Per-loop reconstruction weights from loop kinds (research/loop_weights.py), their flags and their use in a step."""

import argparse
import logging
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from _train_data import make_prepared_root  # noqa: E402
from conftest import TX, hand_set_model  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from still2motion.motion import Motion  # noqa: E402
from research import train as train_script  # noqa: E402
from research.train import parse_args  # noqa: E402
from research.hooks import ResearchHooks  # noqa: E402
from research.loop_weights import LoopWeights  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402
from train.steps import Run, TrainingGenerator, generator_forward  # noqa: E402


def _fits(path: Path, seqs: list[str], ratios: list[float]) -> Path:
    """A fit file whose loop ``i`` has fit L1 / static L1 = ``ratios[i]`` (above 0.5: a swap loop)."""
    n = len(seqs)
    motion = Motion(torch.rand(n, 2, 4, 4), torch.zeros(n, 2, 6, 3, 2), torch.zeros(n, 2, 2, 3, 2, 4, 4))
    save_targets(path, seqs, motion, {}, extra={"l1": torch.tensor(ratios) * 0.04, "static_l1": torch.full((n,), 0.04)})
    return path


def test_swap_loops_get_the_weight_and_shards_are_read_together(tmp_path):
    a = _fits(tmp_path / "shard0.safetensors", ["warp", "swap", "both"], [0.2, 0.9, 0.8])
    b = _fits(tmp_path / "shard1.safetensors", ["both", "swap2"], [0.3, 0.7])  # "both": its better fit is a warp
    weights = LoopWeights([a, b], swap_weight=0.25)
    assert weights.for_seqs(["warp", "swap", "both", "swap2", "unfitted"]).tolist() == [1.0, 0.25, 1.0, 0.25, 1.0]
    assert weights.coverage(["warp", "swap", "swap", "unfitted"]) == {"warp": 1, "swap": 2, "unknown": 1}
    with pytest.raises(ValueError, match=r"swap weight must be in \[0, 1\], got 2"):
        LoopWeights([a], swap_weight=2)


def test_a_swap_loops_reconstruction_counts_at_its_weight(tmp_path):
    model = hand_set_model({(TX, 1, "b"): 0.15})
    image = torch.zeros(2, 4, model.resolution, model.resolution)
    image[:, :, 10:22, 12:20] = 1.0
    phases = torch.tensor([[0.5, 1.5, 3.0, 4.5]]).repeat(2, 1)
    with torch.no_grad():  # both items' real loop is the opposite sway: the model's motion misses it equally
        real = hand_set_model({(TX, 1, "b"): -0.15}).forward_frames(image, phases)
    batch = {"input": image, "targets": real, "phases": phases, "seq": ["a", "b"]}
    args = argparse.Namespace(best_of_k=2, lambda_l1=1.0, lambda_energy=0.0, lambda_motion=1.0, lambda_flow_smooth=0.0,
                              lambda_mask_entropy=0.0, lambda_front_share=0.0, reversal_invariant=False, phase_shifts=1)
    wrapped = TrainingGenerator(model)
    plain = generator_forward(Run(args, None, wrapped, None, None, None, model.noise_dim), batch)
    hooks = ResearchHooks()
    hooks.loop_weights = LoopWeights([_fits(tmp_path / "fits.safetensors", ["a", "b"], [0.2, 0.9])], swap_weight=0.0)
    weighted = Run(args, None, wrapped, None, None, None, model.noise_dim, hooks=hooks)
    out = generator_forward(weighted, batch)
    assert plain.recon.item() > 1e-2
    assert out.recon.item() == pytest.approx(plain.recon.item() / 2, rel=1e-5)  # "b" no longer counts
    assert out.logs["g_swap_frac"] == 0.5
    assert torch.equal(out.fake, plain.fake)  # what the discriminators judge is unchanged


@pytest.mark.parametrize("argv, message", [
    (["--swap_l1_weight", "1.5", "--loop_kinds", "f.safetensors"], r"--swap_l1_weight must be in \[0, 1\], got 1.5"),
    (["--swap_l1_weight", "0.5"], "--swap_l1_weight and --loop_kinds go together"),
    (["--loop_kinds", "f.safetensors"], "--swap_l1_weight and --loop_kinds go together"),
])
def test_the_flags_are_checked(tmp_path, argv, message):
    with pytest.raises(ValueError, match=message):
        parse_args(["--data_dir", str(tmp_path), *argv])


def _run(data, out, *extra):
    return train_script.main(parse_args([
        "--data_dir", str(data), "--output_dir", str(out), "--resolution", "32", "--block_out_channels", "4,8,16",
        "--train_batch_size", "2", "--report_to", "none", "--lambda_gan", "0", "--lambda_temporal", "0",
        "--max_train_steps", "1", *map(str, extra),
    ]))


def test_training_reads_the_kinds_and_refuses_a_bad_file(tmp_path, caplog):
    root = make_prepared_root(tmp_path / "root")
    seqs = [open_dataset(root, "train", resolution=32).meta(i)[0] for i in range(6)]
    fits = _fits(tmp_path / "fits.safetensors", seqs[:4], [0.1, 0.9, 0.2, 0.8])  # two warp, two swap, two unfitted
    with caplog.at_level(logging.INFO):
        result = _run(root, tmp_path / "out", "--loop_kinds", fits, "--swap_l1_weight", 0)
    assert result["global_step"] == 1
    assert "training draws per kind {'warp': 2, 'swap': 2, 'unknown': 2}" in caplog.text
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(ValueError, match=f"--loop_kinds {missing}: no such file"):
        _run(root, tmp_path / "out2", "--loop_kinds", missing, "--swap_l1_weight", 0)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="--loop_kinds: "):
        _run(root, tmp_path / "out3", "--loop_kinds", garbage, "--swap_l1_weight", 0)
    with pytest.raises(ValueError, match="--motion_targets: .* fit some sequence twice"):
        _run(root, tmp_path / "out4", "--motion_targets", fits, fits)
    assert not any((tmp_path / f"out{i}").exists() for i in (2, 3, 4))  # refused before any output
