"""The seam between the training core and research/ (``train/hooks.py``): research's hooks change nothing until their
flags are given, and the flags exist only where the hooks are."""

import pytest
import torch

from conftest import TX, hand_set_model
from research.hooks import ResearchHooks
from research.train import parse_args as research_args
from train.args import parse_args as core_args
from train.hooks import Hooks
from train.steps import Run, TrainingGenerator, generator_forward


def _forward(hooks, args, seed=0):
    model = hand_set_model({(TX, 1, "b"): 0.15})
    image = torch.zeros(2, 4, model.resolution, model.resolution)
    image[:, :, 10:22, 12:20] = 1.0
    phases = torch.tensor([[0.5, 1.5, 3.0, 4.5]]).repeat(2, 1)
    with torch.no_grad():
        real = hand_set_model({(TX, 1, "b"): -0.15}).forward_frames(image, phases)
    batch = {"input": image, "targets": real, "phases": phases, "seq": ["a", "b"]}
    torch.manual_seed(seed)
    run = Run(args, None, TrainingGenerator(model), None, None, None, model.noise_dim, hooks=hooks)
    hooks.attach(args, run, None)  # no targets or weights to load here: no accelerator or data needed
    return generator_forward(run, batch)


def test_research_hooks_without_their_flags_train_as_the_core_does(tmp_path):
    argv = ["--data_dir", str(tmp_path), "--best_of_k", "2", "--lambda_energy", "0.1"]
    core = _forward(Hooks(), core_args(argv))
    research = _forward(ResearchHooks(), research_args(argv))
    assert core.recon.item() > 1e-3  # the two sways differ: there is something to compare
    assert torch.equal(core.fake, research.fake)
    assert core.recon.item() == research.recon.item() and core.regular.item() == research.regular.item()
    assert core.logs == research.logs


def test_colour_dropout_goes_through_the_seam(tmp_path):
    argv = ["--data_dir", str(tmp_path), "--colour_dropout", "1"]
    out = _forward(ResearchHooks(), research_args(argv))
    assert out.logs["g_colour_dropped"] == 1.0  # every clip read from its silhouette


@pytest.mark.parametrize("flag", ["--colour_dropout", "--squash_augment", "--vocabulary", "--loop_kinds"])
def test_the_core_has_no_research_flags(tmp_path, flag):
    with pytest.raises(SystemExit):
        core_args(["--data_dir", str(tmp_path), flag, "0.5"])
