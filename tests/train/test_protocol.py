"""The unseen-style protocol's metrics and statistics on synthetic loops: seed diversity, best-of-k, the character
bootstrap, the blind curve, loop kinds and the coherent fit's silhouette coordinates."""

import math

import numpy as np
import pytest
import torch

from still2motion.motion import Motion, layer_images, render
from train.evaluate import bootstrap
from train.fit import coherent_fit
from train.evaluate.blind_curve import below_curve, curve_l1_at
from train.fit.loop_kinds import kind_of, loop_kinds
from train.evaluate.metrics import best_of, diversity, phase_aligned_l1, seed_diversity
from train.fit.motion_targets import save_targets
from train.evaluate.protocol_report import summarize_protocol
from train.fit.silhouette import alpha_box


def blob_loop(n: int, dx: float = 0.0, dy: float = 0.0, R: int = 24, shift: int = 0, reverse: bool = False):
    """A soft disc moving by ``(dx, dy) * sin(phase)``: ``(n, 4, R, R)`` premultiplied, frame 0 at the centre."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, R), torch.linspace(-1, 1, R), indexing="ij")
    frames = []
    for t in range(n):
        k = (shift - t) % n if reverse else (shift + t) % n
        s = math.sin(2 * math.pi * k / n)
        alpha = torch.exp(-(((xx - dx * s) ** 2 + (yy - dy * s) ** 2) / 0.12) ** 2)
        frames.append(torch.stack((0.9 * alpha, 0.3 * alpha, 0.6 * alpha, alpha)))
    return torch.stack(frames)


def test_diversity_of_a_loop_and_its_shifted_or_reversed_copy_is_zero():
    a = blob_loop(8, dy=0.3)
    image = a[0]
    assert diversity(a, blob_loop(8, dy=0.3, shift=3), image) == pytest.approx(0.0, abs=1e-9)
    assert diversity(a, blob_loop(8, dy=0.3, reverse=True), image) == pytest.approx(0.0, abs=1e-9)
    assert diversity(a, a, image) == 0.0


def test_vertical_and_horizontal_bob_of_one_size_are_diverse():
    vertical, horizontal = blob_loop(8, dy=0.3), blob_loop(8, dx=0.3)
    assert diversity(vertical, horizontal, vertical[0]) > 0.5
    # the mean over seed pairs: two identical vertical loops and one horizontal one
    pairs = seed_diversity([vertical, vertical, horizontal], vertical[0])
    assert pairs == pytest.approx(2 * diversity(vertical, horizontal, vertical[0]) / 3)


def test_best_of_k_never_exceeds_any_single_seed():
    real = blob_loop(6, dy=0.25)
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        clips = [blob_loop(6, dx=float(torch.rand(1, generator=generator)) * 0.4,
                           dy=float(torch.rand(1, generator=generator)) * 0.4) for _ in range(4)]
        single = [phase_aligned_l1(c, real) for c in clips]
        assert best_of(clips, real) <= min(single) + 1e-12
        assert best_of(clips[:1], real) == single[0]


def test_character_bootstrap_never_splits_a_characters_loops():
    characters = ["a", "a", "a", "b", "c", "c", "d"]
    weights = bootstrap.character_weights(characters, draws=500, seed=1)
    assert weights.shape == (500, 7)
    for draw in weights:
        for name in set(characters):
            loops = [draw[i] for i, c in enumerate(characters) if c == name]
            assert len(set(loops)) == 1  # all of a character's loops, or none, as often as it was drawn
        drawn = {c: draw[characters.index(c)] for c in set(characters)}
        assert sum(drawn.values()) == 4  # as many characters drawn as there are
    assert weights.std(axis=0).min() > 0  # and draws differ


def test_bootstrap_interval_covers_the_mean_of_one_character_per_value():
    values = np.arange(20, dtype=float)
    characters = [str(i // 2) for i in range(20)]  # pairs of loops
    means = bootstrap.weighted_means(values, bootstrap.character_weights(characters, draws=400))
    lo, hi = bootstrap.interval(means)
    assert lo < values.mean() < hi
    assert bootstrap.interval(np.array([np.nan])) == (None, None)


def test_blind_curve_interpolates_and_holds_its_end_points():
    points = [(0.2, 0.030), (0.6, 0.040), (0.4, 0.034)]
    assert curve_l1_at(points, 0.5) == pytest.approx(0.037)
    assert curve_l1_at(points, 0.9) == pytest.approx(0.040)  # beyond the range: the nearest end point
    assert curve_l1_at(points, 0.0) == pytest.approx(0.030)
    assert below_curve(points, 0.5, 0.036) and not below_curve(points, 0.5, 0.038)
    with pytest.raises(ValueError, match="at least one"):
        curve_l1_at([], 0.5)


def test_protocol_summary_gap_closed_and_blind_margin():
    def items(l1s, alive):
        return [{"seq": f"s{i}", "character": f"c{i // 2}", "source": "x", "kind": "warp" if i < 2 else "swap",
                 "phase_l1": v, "alive": a} for i, (v, a) in enumerate(zip(l1s, alive))]

    rows = {
        "model": {"kind": "model", "items": items([0.03, 0.03, 0.03, 0.03], [1, 1, 0, 0])},
        "static": {"kind": "baseline", "items": items([0.04] * 4, [0] * 4)},
        "ceiling:coherent": {"kind": "baseline", "items": items([0.02] * 4, [1] * 4)},
        "blind:bob@0.02": {"kind": "baseline", "blind": {"preset": "bob", "amplitude": 0.02},
                           "items": items([0.041] * 4, [0, 0, 0, 0])},
        "blind:bob@0.1": {"kind": "baseline", "blind": {"preset": "bob", "amplitude": 0.1},
                          "items": items([0.05] * 4, [1, 1, 1, 1])},
    }
    summary = summarize_protocol(rows, draws=50)
    assert set(summary["groups"]) == {"all", "kind:swap", "kind:warp"}
    model = summary["rows"]["model"]["all"]
    assert model["gap_closed"]["value"] == pytest.approx(0.5)  # (0.04 - 0.03) / (0.04 - 0.02)
    assert model["beats_static"]["value"] == pytest.approx(1.0)  # 0.03 <= 0.85 * 0.04
    blind = summary["blind"]["model"]["bob"]["all"]
    assert blind["curve_l1"]["value"] == pytest.approx(0.0455)  # halfway along the curve at alive 0.5
    assert blind["below"] and blind["margin"]["value"] == pytest.approx(0.03 - 0.0455)


def test_loop_kinds_take_the_better_fit(tmp_path):
    assert kind_of(0.4, 1.0) == "warp" and kind_of(0.6, 1.0) == "swap"
    motion = Motion(torch.rand(2, 2, 4, 4), torch.zeros(2, 2, 6, 3, 2), torch.zeros(2, 2, 2, 3, 2, 4, 4))
    save_targets(tmp_path / "a.safetensors", ["x", "y"], motion, {},
                 extra={"l1": torch.tensor([0.9, 0.9]), "static_l1": torch.tensor([1.0, 1.0])})
    save_targets(tmp_path / "b.safetensors", ["x"], Motion(motion.masks[:1], motion.affine[:1], motion.flow[:1]), {},
                 extra={"l1": torch.tensor([0.2]), "static_l1": torch.tensor([1.0])})
    assert loop_kinds(tmp_path / "a.safetensors", tmp_path / "b.safetensors") == {"x": "warp", "y": "swap"}


def _coherent(B=1, K=2, M=3, F=4, Nh=8):
    return coherent_fit.Coherent(torch.zeros(B, K, Nh), torch.zeros(B, K, 6, M, 2), torch.zeros(B, K, 2, M, 2, F, F))


def test_coherent_motion_lives_in_silhouette_coordinates():
    boxes = torch.tensor([[-0.5, -0.6, 0.3, 0.6]])  # height 1.2, pivot (-0.1, 0.6): the base centre
    c = _coherent()
    c.affine[:, :, coherent_fit.TX, 0, 1] = 0.1  # translate by 10 % of the silhouette height
    c.affine[:, :, coherent_fit.A, 1, 1] = 0.2  # and scale x about the pivot
    motion = coherent_fit.to_motion(c, boxes)
    assert torch.allclose(motion.masks.sum(dim=1), torch.ones(1, 16, 16))
    assert motion.affine[0, 0, coherent_fit.TX, 0, 1] == pytest.approx(0.12)  # 0.1 x height 1.2
    # the linear part keeps the pivot fixed: its canvas shift is -L @ pivot
    assert motion.affine[0, 0, coherent_fit.TX, 1, 1] == pytest.approx(-0.2 * -0.1)
    assert motion.flow.abs().max() == 0


def test_coherent_fit_follows_a_sway_and_is_never_worse_than_static():
    R, n = 24, 6
    clip = blob_loop(n, dx=0.3, R=R)
    phases = torch.arange(n) * (2 * math.pi / n)
    valid = torch.ones(1, n, dtype=torch.bool)
    valid[:, 0] = False
    args = coherent_fit.parse_args(["--data_dir", "x", "--output", "y", "--steps", "60", "--learning_rate", "0.03"])
    motion, l1, extras = coherent_fit.fit_coherent_batch(clip[None], phases[None], valid, args)
    static = (clip[1:] - clip[:1]).abs().mean()
    assert l1.item() < 0.5 * static.item()
    assert extras["box"].shape == (1, 4) and torch.allclose(extras["box"], alpha_box(clip[:1]))
    # rendering the returned canvas motion reproduces the reported fit
    box = (0, 0, R, R)
    pred = render(layer_images(clip[:1], motion.masks, box, R, False), motion, phases, box=box, canvas_size=R)
    assert (pred[0, 1:] - clip[1:]).abs().mean().item() == pytest.approx(l1.item(), rel=1e-4)
    # a clip a warp cannot follow (a toggle between two shapes) stays at or below static
    toggle = clip.clone()
    toggle[1::2] = blob_loop(n, dy=0.5, R=R)[1]
    _, l1_toggle, _ = coherent_fit.fit_coherent_batch(toggle[None], phases[None], valid, args)
    assert l1_toggle.item() <= (toggle[1:] - toggle[:1]).abs().mean().item() + 1e-6
