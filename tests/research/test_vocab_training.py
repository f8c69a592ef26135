"""Training a vocabulary model (issue 19): the oracle's targets follow the drawn frame and the mirror, sharded oracle
files read as one, ``research/train.py --vocabulary --vocab_targets`` trains the scores from a coefficient model's U-Net and
saves a model that carries its table, and wrong combinations are one-line errors."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from _train_data import make_loop_folder  # noqa: E402
from still2motion import Still2Motion, load_model  # noqa: E402
from still2motion.motion import Motion, shift_phase  # noqa: E402
from still2motion.silhouette_motion import alpha_box  # noqa: E402
from still2motion.vocab_head import VocabHead  # noqa: E402
from research import train as train_script  # noqa: E402
from research.train import parse_args  # noqa: E402
from train.args import ConfigError  # noqa: E402
from train.fit.coherent_fit import Coherent, to_motion  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402
from research.vocab_loss import OracleTargets, vocab_loss  # noqa: E402
from research.vocab_model import with_vocabulary  # noqa: E402
from research.vocabulary import save_table, variant  # noqa: E402

V, K, M = 3, 2, 3  # M = 3: still2motion's default harmonics, so the table fits a default-config model


def table(seed: int = 0) -> Coherent:
    g = torch.Generator().manual_seed(seed)
    return Coherent(torch.randn(V, K, 8, generator=g), 0.05 * torch.randn(V, K, 6, M, 2, generator=g),
                    0.01 * torch.randn(V, K, 2, M, 2, 4, 4, generator=g))


def write_table(path: Path) -> Path:
    c = table()
    save_table(path, {"c_masks": c.masks, "c_affine": c.affine, "c_flow": c.flow}, ["x"] * V, {"kind": "vocabulary"})
    return path


def write_oracle(path: Path, seqs: list[str], entry, mirror, anchor, scale, oracle_l1, entry_l1=None) -> Path:
    n = len(seqs)
    entry_l1 = torch.full((n, V), 0.04) if entry_l1 is None else torch.tensor(entry_l1)
    empty = Motion(torch.zeros(n, 1, 1, 1), torch.zeros(n, 1, 6, 1, 2), torch.zeros(n, 1, 2, 1, 2, 1, 1))
    save_targets(path, seqs, empty, {"kind": "vocab-oracle"}, extra={
        "entry": torch.tensor(entry, dtype=torch.float32), "mirror": torch.tensor(mirror, dtype=torch.float32),
        "anchor": torch.tensor(anchor, dtype=torch.float32), "scale": torch.tensor(scale, dtype=torch.float32),
        "oracle_l1": torch.tensor(oracle_l1), "static_l1": torch.full((n,), 0.04), "entry_l1": entry_l1})
    return path


def close(a: Motion, b: Motion) -> bool:
    return all(torch.allclose(getattr(a, k), getattr(b, k), atol=1e-5) for k in ("masks", "affine", "flow"))


def test_targets_follow_the_drawn_frame_and_the_mirror_across_shards(tmp_path):
    a = write_oracle(tmp_path / "a.safetensors", ["s0", "s1"], [2, 0], [0, 1], [0.5, 1.0], [1.5, 0.5], [0.01, 0.05])
    b = write_oracle(tmp_path / "b.safetensors", ["s2"], [1], [0], [2.0], [1.0], [0.02])
    targets = OracleTargets([a, b], V)
    assert len(targets) == 3
    classes, residual, weight, _ = targets.batch(["s0", "s1", "s2", "nope"], start=[3, 0, 0, 0], num_frames=[8, 8, 8, 8],
                                              flip=[0.0, 1.0, 1.0, 0.0])
    assert classes[:3].tolist() == [2, 0, V + 1]  # s1's mirror flipped back, s2's flipped
    assert weight.tolist() == [1.0, 0.0, 1.0, 0.0]  # s1 does not beat static, "nope" is unknown
    # what the head renders from the re-anchored target is the oracle's motion seen from frame 3 of 8
    head = VocabHead(4, V, K, M)
    c = table()
    head.set_table(c.masks, c.affine, c.flow)
    boxes = alpha_box(torch.ones(1, 4, 16, 16))
    got = head.motion(classes[:1], residual[:1], boxes)
    oracle = to_motion(variant(Coherent(c.masks[2:3], c.affine[2:3], c.flow[2:3]), anchor=0.5, scale=1.5), boxes)
    assert close(got, shift_phase(oracle, torch.tensor([2 * math.pi * 3 / 8])))
    assert not close(got, oracle)


def test_soft_targets_rank_every_entry_by_its_fit_and_follow_the_mirror(tmp_path):
    path = write_oracle(tmp_path / "o.safetensors", ["a", "b"], [1, 0], [1, 0], [0.0, 0.0], [1.0, 1.0], [0.01, 0.05],
                        entry_l1=[[0.036, 0.02, 0.044], [0.04, 0.04, 0.04]])
    targets = OracleTargets(path, V, temperature=0.1)
    classes, _, weight, soft = targets.batch(["a", "b", "zzz"], flip=[0.0, 1.0, 0.0])
    assert weight.tolist() == [1.0, 0.0, 0.0] and soft.shape == (3, 2 * V)
    assert soft[:2].sum(1).tolist() == pytest.approx([1.0, 1.0]) and soft[2].sum() == 0  # "b" counts, unknown not
    a = soft[0]
    assert int(a.argmax()) == V + 1 and a[1] == 0  # the best entry, on the oracle's mirror only
    assert a[0] == a[V] and a[0] > a[2]  # others split between mirrors, ranked by their fit (0.9 vs 1.1 of static)
    # equal fits: equal entries; b's best (entry 0, not mirrored) moved to the mirror half by the flip
    assert torch.allclose(soft[1], torch.tensor([0, 1 / 6, 1 / 6, 1 / 3, 1 / 6, 1 / 6]))
    logits = torch.randn(3, 2 * V, requires_grad=True)
    ce, _ = vocab_loss(logits, torch.zeros(3, 6), soft, torch.zeros(3, 6), weight)
    ce.backward()
    assert logits.grad[2].abs().sum() == 0 and logits.grad[1].abs().sum() > 0
    exact, _ = vocab_loss(soft[:2].clamp_min(1e-12).log(), torch.zeros(2, 6), soft[:2], torch.zeros(2, 6), weight[:2])
    entropy = -(soft[:2] * soft[:2].clamp_min(1e-12).log()).sum(1).mean()
    assert float(exact) == pytest.approx(float(entropy), rel=1e-4)  # the minimum: the targets themselves


def test_with_vocabulary_keeps_the_trunk_and_copies_the_table(tmp_path):
    path = write_table(tmp_path / "table.safetensors")
    torch.manual_seed(0)
    base = Still2Motion(resolution=32, block_out_channels=(4, 8, 16), motion_scale=1.25)
    model = with_vocabulary(path, base)
    assert model.vocabulary_size == V and model.motion_scale == 1.0
    assert all(torch.equal(v, base.state_dict()[k]) for k, v in model.state_dict().items() if not k.startswith("vocab_"))
    assert torch.equal(model.vocab_head.table_affine, table().affine)
    with pytest.raises(ValueError, match="3 harmonics, the model 2 and 2"):
        with_vocabulary(path, Still2Motion(resolution=32, block_out_channels=(4, 8, 16), num_harmonics=2))
    with pytest.raises(ValueError, match="not a motion vocabulary"):
        with_vocabulary(write_oracle(tmp_path / "o.safetensors", ["a"], [0], [0], [0.0], [1.0], [0.01]), base)


@pytest.mark.usefixtures("fresh_accelerate")
@pytest.mark.parametrize("temperature", [0.0, 0.05])
def test_train_learns_the_oracles_entry_from_a_coefficient_model(tmp_path, temperature):
    folder = make_loop_folder(tmp_path / "mine", count=4)
    seqs = sorted(p.name for p in folder.iterdir())
    oracle = write_oracle(tmp_path / "oracle.safetensors", seqs, [1] * 4, [0] * 4, [0.0] * 4, [1.0] * 4, [0.01] * 4,
                          entry_l1=[[0.05, 0.02, 0.05]] * 4)
    torch.manual_seed(0)
    Still2Motion(resolution=32, block_out_channels=(4, 8, 16)).save_pretrained(tmp_path / "init")
    args = parse_args([
        "--data_dir", str(folder), "--output_dir", str(tmp_path / "out"), "--resolution", "32",
        "--train_batch_size", "4", "--report_to", "none", "--max_train_steps", "8", "--learning_rate", "0.01",
        "--init_generator", str(tmp_path / "init"), "--vocabulary", str(write_table(tmp_path / "t.safetensors")),
        "--vocab_targets", str(oracle), "--vocab_temperature", str(temperature), "--lambda_gan", "0", "--lambda_temporal", "0", "--best_of_k", "2",
    ])
    result = train_script.main(args)
    assert result["global_step"] == 8
    model = load_model(tmp_path / "out")
    assert model.vocabulary_size == V and torch.equal(model.vocab_head.table_flow, table().flow)
    image = torch.zeros(1, 4, 32, 32)
    image[:, :, 8:26, 10:22] = 0.8
    with torch.no_grad():
        logits, _, _ = model.forward_vocab(image)
    probs = torch.softmax(logits[0], 0)
    assert int(probs.argmax()) in (1, V + 1) and float(probs[1] + probs[V + 1]) > 2 / V  # from uniform 1 / V


@pytest.mark.parametrize("flags, message", [
    (["--vocab_targets", "x.safetensors"], "--vocab_targets needs --vocabulary"),
    (["--vocabulary", "t", "--motion_targets", "m"], "cannot be combined"),
    (["--generator", "stn", "--vocabulary", "t"], "--vocabulary only applies"),
    (["--vocab_temperature", "-1"], "--vocab_temperature must be >= 0, got -1.0"),
])
def test_wrong_vocabulary_flags_are_one_line_errors(tmp_path, flags, message):
    with pytest.raises(ConfigError, match=message):
        parse_args(["--data_dir", str(tmp_path), *flags])


def test_accuracy_rows_score_the_oracles_class_and_the_entry_it_picks(tmp_path):
    from train.fit.motion_targets import MotionTargets
    from research.vocab_accuracy import prior_logits, scores

    path = write_oracle(tmp_path / "o.safetensors", ["a", "b", "c"], [2, 0, 1], [1, 0, 0], [0.0] * 3, [1.0] * 3,
                        [0.01, 0.02, 0.05])
    oracle = MotionTargets(path)
    oracle.tensors["entry_l1"] = torch.tensor([[0.03, 0.02, 0.01], [0.02, 0.03, 0.04], [0.05, 0.05, 0.05]])
    right = torch.full((3, 2 * V), -9.0)
    right[torch.arange(3), torch.tensor([V + 2, 0, 1])] = 9.0
    row = scores(right, oracle, V)
    assert row["loops_fit"] == 2 and row["top1"] == 1.0 and row["entry_top1"] == 1.0  # "c" does not beat static
    assert row["picked_entry_l1_ratio"] == pytest.approx(0.5)  # median of 0.01/0.04, 0.02/0.04, 0.05/0.04
    wrong = right.roll(1, dims=1)
    assert scores(wrong, oracle, V)["top1"] == 0.0 and scores(wrong, oracle, V)["nll"] > 10
    prior = prior_logits([path], V, 3)  # classes V+2 and 0 seen once each
    assert prior.shape == (3, 2 * V) and int(prior[0].argmax()) in (0, V + 2)


def test_probe_heads_fold_their_standardisation_into_the_saved_model():
    from research.vocab_probe import fit, fold

    g = torch.Generator().manual_seed(0)
    x = 3 + 2 * torch.randn(40, 5, generator=g)
    labels = (x[:, 0] > 3).long()  # a class a linear probe can read off feature 0
    mean, std = x.mean(0), x.std(0)
    head = fit((x - mean) / std, labels, torch.ones(40), 2, weight_decay=0.0, steps=200)
    assert float((head((x - mean) / std).argmax(1) == labels).float().mean()) > 0.9
    raw = torch.nn.Linear(5, 2)
    fold(head, raw, mean, std)
    assert torch.allclose(raw(x), head((x - mean) / std), atol=1e-4)


def test_oracle_shards_load_disjoint_parts_of_the_same_selection(tmp_path):
    from _train_data import make_prepared_root
    from train.fit.fit_motion import load_clips

    root = make_prepared_root(tmp_path / "root", {"train": 7})
    whole = [c[0] for c in load_clips(str(root), "train", 16, 6, 4, every=1)]  # 6 of 7 loops
    parts = [[c[0] for c in load_clips(str(root), "train", 16, 6, 4, every=1, shard=(k, 2))] for k in range(2)]
    assert len(whole) == 6 and parts == [whole[0::2], whole[1::2]]


def test_silhouette_features_see_shape_not_colour_and_mirror_with_the_input():
    from research.silhouette_features import silhouette_features

    tall, wide = torch.zeros(4, 32, 32), torch.zeros(4, 32, 32)
    tall[3, 4:28, 12:18] = 1  # a tall bar
    wide[3, 20:26, 2:30] = 1  # a wide, low bar
    tall[:3] = torch.rand(3, 32, 32) * tall[3]  # premultiplied colour
    recoloured = tall.clone()
    recoloured[:3] = recoloured[:3].flip(0) * 0.5  # another palette, same silhouette
    f = silhouette_features(torch.stack((tall, wide, recoloured)))
    assert f.shape == (3, 16 * 16 + 3)
    assert torch.equal(f[0], f[2])  # colour is invisible
    assert f[0, -3] > 1 and f[1, -3] < -1  # log aspect (h / w): tall vs wide
    assert f[0, -2] > 2 * f[1, -2]  # box height on the canvas
    lopsided = torch.zeros(1, 4, 32, 32)
    lopsided[0, 3, 8:24, 8:24] = 1
    lopsided[0, 3, 8:12, 8:12] = 0  # a notch at the top left
    a, b = silhouette_features(lopsided), silhouette_features(lopsided.flip(-1))
    assert not torch.equal(a, b)
    assert torch.allclose(a[:, :256].view(16, 16).flip(-1), b[:, :256].view(16, 16), atol=1e-6)


def test_probe_refuses_to_save_a_silhouette_probe_as_a_model(tmp_path, capsys):
    from research.vocab_probe import main

    with pytest.raises(SystemExit) as err:
        main(["--data_dir", str(tmp_path), "--train_oracles", "x.safetensors", "--features", "silhouette",
              "--save", str(tmp_path / "out"), "--vocabulary", "t.safetensors"])
    assert err.value.code == 2
    err = capsys.readouterr().err
    assert "--save" in err and "'silhouette'" in err
