"""The motion vocabulary (issue 19): descriptors that ignore how a fit is parameterised, a clustering distance
invariant to phase, direction and mirroring, k-medoids, and the oracle that finds the entry a loop was made with."""

import json
import math

import pytest
import torch

from still2motion.motion import Motion, shift_phase
from _train_data import write_circling_root
from train.fit import coherent_fit
from research import vocab_oracle, vocab_residual, vocabulary
from train.fit.coherent_fit import TX, TY, A, Coherent
from train.evaluate.evaluate import main as evaluate_main
from train.evaluate.metrics import phase_aligned_l1
from research.vocabulary import (
    canonicalise, displacement, group_distances, kmedoids, mirror_coherent, mirror_descriptor, variant,
)

BOX = torch.tensor([[-0.5, -0.6, 0.3, 0.8]])  # an off-centre, taller-than-wide silhouette box


def coherent(**coeffs) -> Coherent:
    """One loop, two layers split at mid-height; ``coeffs`` maps ``"P_m_ab"`` (e.g. ``TY_1_a``) to a value on both
    layers, and ``flow`` sets a small random flow."""
    c = Coherent(torch.stack([torch.linspace(3, -3, 8), torch.linspace(-3, 3, 8)])[None],
                 torch.zeros(1, 2, 6, 3, 2), torch.zeros(1, 2, 2, 3, 2, 4, 4))
    for key, value in coeffs.items():
        if key == "flow":
            c.flow.copy_(value * torch.randn(c.flow.shape, generator=torch.Generator().manual_seed(0)))
            continue
        param, m, ab = key.split("_")
        c.affine[0, :, {"A": A, "TX": TX, "TY": TY}[param], int(m) - 1, "ab".index(ab)] = value
    return c


def stack(*cs: Coherent) -> Coherent:
    return Coherent(*(torch.cat([getattr(c, k) for c in cs]) for k in ("masks", "affine", "flow")))


def test_descriptor_ignores_which_layer_is_which():
    c = coherent(TY_1_a=0.05, TX_2_b=0.02)
    c.affine[0, 1, TX, 0, 1] = 0.04  # the lower layer also sways
    swapped = Coherent(c.masks.flip(1), c.affine.flip(1), c.flow.flip(1))
    assert torch.allclose(displacement(c, BOX), displacement(swapped, BOX), atol=1e-6)


def test_mirrored_fit_has_the_mirrored_descriptor():
    c = coherent(TX_1_a=0.05, A_1_b=0.1, TY_2_a=0.02, flow=0.01)
    mirrored = mirror_coherent(c)
    centred = torch.tensor([[-0.4, -0.6, 0.4, 0.8]])  # the descriptor mirrors about the box's centre line
    assert torch.allclose(displacement(mirrored, centred), mirror_descriptor(displacement(c, centred)), atol=1e-6)


def test_clustering_distance_ignores_phase_direction_and_mirror_but_not_the_motion():
    c = coherent(TX_1_a=0.05, TY_2_b=0.03, A_1_a=0.05, flow=0.01)
    psi = torch.tensor([1.234])
    shifted = shift_phase(Motion(c.masks, c.affine, c.flow), psi)
    same = [Coherent(c.masks, shifted.affine, shifted.flow), variant(c, mirror=True),
            Coherent(c.masks, c.affine * torch.tensor([1.0, -1.0]), c.flow * torch.tensor([1.0, -1.0]).view(2, 1, 1))]
    other = coherent(TY_1_a=0.05, flow=0.01)  # a bob, where c sways
    desc = torch.cat([canonicalise(x, BOX)[1] for x in (c, *same, other)])
    dist = group_distances(desc, desc)
    scale = (desc[0] ** 2).sum()
    # phase shift (up to the canonical phase grid of pi / 32), mirror, reversal: the same motion
    assert dist[0, 1:4].max() < 1e-2 * scale
    assert dist[0, 4] > 0.2 * scale
    assert torch.allclose(dist, dist.T, atol=1e-6 * float(scale))


def test_kmedoids_finds_separated_groups_and_keeps_members_as_medoids():
    g = torch.Generator().manual_seed(0)
    points = torch.cat([torch.randn(6, 2, generator=g) * 0.1 + centre for centre in (0.0, 5.0, -5.0)])
    points[12:, 1] += 10
    dist = torch.cdist(points, points) ** 2
    for seed in (0, 1):
        medoids, assignment = kmedoids(dist, 3, seed=seed)
        groups = {frozenset((assignment == j).nonzero()[:, 0].tolist()) for j in range(3)}
        assert groups == {frozenset(range(0, 6)), frozenset(range(6, 12)), frozenset(range(12, 18))}
        assert all(int(assignment[m]) == j for j, m in enumerate(medoids))
    with pytest.raises(ValueError, match="vocabulary size must be in 1..18"):
        kmedoids(dist, 19)


def square_loop(n: int, R: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """A premultiplied square with a bright core on a transparent canvas, as frame 0 of a loop: ``(4, R, R)``."""
    frame = torch.zeros(4, R, R)
    frame[:, 10:26, 12:22] = torch.tensor([0.8, 0.3, 0.2, 1.0]).view(4, 1, 1)
    frame[:3, 14:18, 15:19] = 0.95
    return frame, torch.arange(n, dtype=torch.float32) * (2 * math.pi / n)


def test_batched_phase_l1_is_the_metric():
    source, phases = square_loop(6)
    table = stack(coherent(TY_1_a=0.08), coherent(TX_1_b=0.1, TY_2_a=0.03))
    clips = vocab_oracle.render_coherent(table, source, phases, 16)
    real = vocab_oracle.render_coherent(coherent(TX_1_a=0.06), source, phases, 16)[0]
    batched = vocab_oracle.phase_l1_batch(clips, real)
    for clip, value in zip(clips, batched):
        assert float(value) == pytest.approx(phase_aligned_l1(clip, real), rel=1e-5)


def test_oracle_recovers_the_entry_a_loop_was_rendered_with():
    source, phases = square_loop(8)
    table = stack(coherent(TY_1_a=0.08), coherent(TX_1_a=0.1, TY_2_a=0.03), coherent(A_1_a=0.15))
    truth = variant(Coherent(table.masks[1:2], table.affine[1:2], table.flow[1:2]),
                    anchor=3 * math.pi / 4, mirror=True, scale=1.5)
    real = vocab_oracle.render_coherent(truth, source, phases, 16)[0]
    pick, key, l1, per_entry = vocab_oracle.choose(table, real, phases, 16)
    assert int(key[0]) == 1 and bool(key[2]) and float(key[3]) == 1.5
    assert l1 < 1e-4 < float(per_entry[[0, 2]].min())
    static = float((real - real[:1]).abs().mean())
    assert l1 < 0.01 * static


def test_fitted_residual_recovers_what_the_table_entry_missed():
    source, phases = square_loop(8)
    entry = coherent(TY_1_a=0.06, TX_1_b=0.04)
    truth = Coherent(entry.masks, entry.affine * 1.4, entry.flow + 0.02)  # larger, plus a flow the entry lacks
    real = vocab_oracle.render_coherent(truth, source, phases, 16)[0]
    start = float(vocab_oracle.phase_l1_batch(vocab_oracle.render_coherent(entry, source, phases, 16), real)[0])
    fitted = vocab_residual.fit_residual(entry, real, phases, steps=60, lr=0.02)
    assert fitted < 0.5 * start
    assert vocab_residual.fit_residual(entry, real, phases, steps=0, lr=0.02) == pytest.approx(start)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_circling_root(tmp_path_factory.mktemp("data"), [
        {"seq": seq, "split": split, "character": seq.split("#")[0], "fps": 8, "n_frames": n}
        for seq, split, n in [("toy.a#walk", "train", 4), ("toy.b#run", "train", 6), ("toy.c#idle", "train", 5),
                              ("toy.e#walk", "val", 4), ("toy.f#walk", "val", 6)]])


def test_vocabulary_and_oracle_end_to_end(root, tmp_path, capsys):
    common = ["--data_dir", str(root), "--steps", "30", "--batch_size", "8"]
    fits = tmp_path / "train.safetensors"
    assert coherent_fit.main([*common, "--split", "train", "--output", str(fits)]) == 0
    table = tmp_path / "vocab.safetensors"
    assert vocabulary.main(["--fits", str(fits), "--size", "2", "--output", str(table), "--min_gain", "0"]) == 0
    entries, seqs, config = vocabulary.load_table(table)
    assert entries.affine.shape == (2, 2, 6, 3, 2) and set(seqs) <= {"toy.a#walk", "toy.b#run", "toy.c#idle"}
    assert config["kind"] == "vocabulary" and config["clustered"] == 3
    oracle = tmp_path / "oracle.safetensors"
    assert vocab_oracle.main(["--vocabulary", str(table), "--data_dir", str(root), "--split", "val",
                              "--output", str(oracle)]) == 0
    out = tmp_path / "eval"
    assert evaluate_main(["--data_dir", str(root), "--split", "val", "--output_dir", str(out), "--baseline", "static",
                          "--baseline", "oracle:vocab", "--oracle", str(oracle), "--bootstrap", "0",
                          "--contact_sheets", "0"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    items = report["rows"]["oracle:vocab"]["items"]
    assert [it["seq"] for it in items] == ["toy.e#walk", "toy.f#walk"]
    assert all(it["vocab_entry"] in (0, 1) and it["first_frame_exact"] for it in items)
    capsys.readouterr()
    assert vocabulary.main(["--fits", str(oracle), "--size", "2", "--output", str(tmp_path / "x")]) == 1
    assert "not a coherent_fit.py output" in capsys.readouterr().err
    assert vocab_oracle.main(["--vocabulary", str(fits), "--data_dir", str(root), "--output", str(tmp_path / "y")]) == 1
    assert "is not a motion vocabulary" in capsys.readouterr().err
