"""The vocabulary head (issue 19): the package's silhouette conversion equals the coherent fit's, entries render as
the oracle renders them, seed 0 is the most likely motion and other seeds sample, configs without the key still load,
and the loss is zero on its own targets."""

import json
import math

import pytest
import torch
from PIL import Image

from conftest import TINY_CONFIG
from still2motion import Still2Motion
from still2motion.motion import Motion
from still2motion.silhouette_motion import alpha_box, coherent_motion
from still2motion.vocab_head import VocabHead
from train.fit import silhouette
from train.fit.coherent_fit import Coherent, to_motion
from train.fit.motion_targets import save_targets
from research.vocab_loss import OracleTargets, vocab_loss
from research.vocabulary import variant

V = 3


def table(seed: int = 0) -> Coherent:
    g = torch.Generator().manual_seed(seed)
    return Coherent(torch.randn(V, 2, 8, generator=g), 0.05 * torch.randn(V, 2, 6, 2, 2, generator=g),
                    0.01 * torch.randn(V, 2, 2, 2, 2, 4, 4, generator=g))


def sprite(R: int = 32) -> torch.Tensor:
    canvas = torch.zeros(1, 4, R, R)
    canvas[:, :, 6:27, 11:20] = 0.7
    canvas[:, 3, 6:27, 11:20] = 1.0
    return canvas


def close(a: Motion, b: Motion) -> bool:
    return all(torch.allclose(getattr(a, k), getattr(b, k), atol=1e-5) for k in ("masks", "affine", "flow"))


def test_package_conversion_is_the_coherent_fits():
    canvas = torch.cat([sprite(), torch.zeros(1, 4, 32, 32)])  # a sprite (rows 6..26, columns 11..19), an empty canvas
    expected = torch.tensor([[11, 6, 20, 27], [0, 0, 32, 32]], dtype=torch.float32) * 2 / 32 - 1
    assert torch.equal(alpha_box(canvas), expected)
    assert silhouette.alpha_box is alpha_box  # train/ uses the package's
    c = table()
    boxes = alpha_box(torch.cat([sprite()] * V))
    assert close(coherent_motion(c.masks, c.affine, c.flow, boxes), to_motion(c, boxes))


def test_head_renders_entry_mirror_anchor_and_scale_as_the_oracle_does():
    c = table()
    head = VocabHead(8, V, num_layers=2, num_harmonics=2)
    head.set_table(c.masks, c.affine, c.flow)
    anchor, scale = 1.1, 1.5
    residual = torch.tensor([[math.log(scale), math.cos(anchor) - 1, math.sin(anchor), 0, 0, 0]])
    boxes = alpha_box(sprite())
    got = head.motion(torch.tensor([V + 2]), residual, boxes)  # entry 2, mirrored
    entry = Coherent(c.masks[2:3], c.affine[2:3], c.flow[2:3])
    assert close(got, to_motion(variant(entry, anchor=anchor, mirror=True, scale=scale), boxes))
    with pytest.raises(ValueError, match="table_affine must be"):
        head.set_table(c.masks, c.affine[:, :1], c.flow)


def vocab_model(seed: int = 0) -> Still2Motion:
    torch.manual_seed(seed)
    model = Still2Motion(**TINY_CONFIG, vocabulary_size=V).eval()
    c = table()
    model.vocab_head.set_table(c.masks, c.affine, c.flow)
    with torch.no_grad():
        model.vocab_head.score.bias.copy_(torch.tensor([0.0, 2.0, 1.0, -1.0, 0.5, -2.0]))  # class 1 most likely
    return model


def picked_classes(model: Still2Motion, canvas: torch.Tensor, seeds) -> list[int]:
    """The class each seed animates with, read off the motion ``model(canvas, sample_noise(seed))`` renders."""
    logits, residual, _ = model.forward_vocab(canvas)
    boxes = alpha_box(canvas)
    entries = [model.vocab_head.motion(torch.tensor([c]), residual, boxes) for c in range(2 * V)]
    noise = torch.cat([model.sample_noise(seed) for seed in seeds])
    got = model(canvas.expand(len(noise), -1, -1, -1), noise)  # one batch: the scores ignore the noise
    one = lambda m, i: Motion(m.masks[i:i + 1], m.affine[i:i + 1], m.flow[i:i + 1])  # noqa: E731
    return [next(c for c, m in enumerate(entries) if close(one(got, i), m)) for i in range(len(noise))]


@pytest.mark.parametrize("noise_scale", [1.0, 1.5])
def test_seed_zero_is_the_most_likely_motion_and_seeds_sample_the_rest(noise_scale):
    model = vocab_model()
    model.noise_scale = noise_scale  # a wider seed spread must not skew which classes the seeds sample
    canvas = sprite()
    logits, _, _ = model.forward_vocab(canvas)
    probs = torch.softmax(logits[0], 0)
    head = model.vocab_head
    assert int(head.choose(logits, model.sample_noise(0))) == 1
    picks = picked_classes(model, canvas, range(1, 401))
    freq = torch.bincount(torch.tensor(picks), minlength=2 * V).float() / len(picks)
    assert (freq - probs).abs().max() < 0.08 and len(set(picks)) >= 4
    assert picks[:5] == picked_classes(model, canvas, range(1, 6))  # deterministic
    # seeds change which motion, not the distribution: the scores ignore the noise
    assert torch.allclose(model.forward_vocab(canvas, model.sample_noise(7))[0], logits)
    image = Image.fromarray((canvas[0].permute(1, 2, 0).numpy() * 255).astype("uint8"), "RGBA")
    first = model.animate(image, num_frames=6, seed=0)
    assert any(f.tobytes() != first.frames[0].tobytes() for f in first.frames[1:])  # the chosen entry moves


def test_top_p_samples_only_the_head_of_the_distribution_and_round_trips(tmp_path):
    full = vocab_model()
    canvas = sprite()
    logits, _, _ = full.forward_vocab(canvas)
    probs = torch.softmax(logits[0], 0)
    ranked = probs.argsort(descending=True)
    head_classes = set(ranked[:2].tolist())  # the two most likely classes first reach 0.7 of the mass here
    assert float(probs[ranked[:2]].sum()) >= 0.7 > float(probs[ranked[0]])
    full_picks = {int(full.vocab_head.choose(logits, full.sample_noise(s))) for s in range(1, 201)}
    assert not full_picks <= head_classes  # without top_p the tail is sampled too
    torch.manual_seed(0)
    nucleus = Still2Motion(**TINY_CONFIG, vocabulary_size=V, vocab_top_p=0.7).eval()
    nucleus.load_state_dict(full.state_dict())
    picks = [int(nucleus.vocab_head.choose(logits, nucleus.sample_noise(s))) for s in range(1, 201)]
    assert set(picks) == head_classes  # both head classes, nothing else
    assert int(nucleus.vocab_head.choose(logits, nucleus.sample_noise(0))) == int(ranked[0])
    nucleus.save_pretrained(tmp_path / "m")
    assert Still2Motion.from_pretrained(tmp_path / "m").vocab_head.top_p == 0.7
    for bad in (0, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="vocab_top_p must be a number in"):
            Still2Motion(**TINY_CONFIG, vocabulary_size=V, vocab_top_p=bad)


def test_vocabulary_config_round_trips_and_older_configs_still_load(tmp_path):
    model = vocab_model()
    model.save_pretrained(tmp_path / "vocab")
    loaded = Still2Motion.from_pretrained(tmp_path / "vocab")
    assert loaded.vocabulary_size == V and torch.equal(loaded.vocab_head.table_affine, model.vocab_head.table_affine)
    plain = Still2Motion(**TINY_CONFIG)
    plain.save_pretrained(tmp_path / "plain")
    config = json.loads((tmp_path / "plain" / "config.json").read_text())
    config.pop("vocabulary_size")
    (tmp_path / "plain" / "config.json").write_text(json.dumps(config))
    old = Still2Motion.from_pretrained(tmp_path / "plain")
    assert old.vocabulary_size == 0 and not hasattr(old, "vocab_head")
    assert not torch.equal(old.sample_noise(0), torch.zeros(1, old.noise_dim))  # seed 0 unchanged without a table
    with pytest.raises(ValueError, match="vocabulary_size must be an integer >= 0, got -1"):
        Still2Motion(**TINY_CONFIG, vocabulary_size=-1)


def test_loss_is_zero_on_the_oracles_targets_and_weights_out_unfit_loops(tmp_path):
    path = tmp_path / "oracle.safetensors"
    n = 3
    empty = Motion(torch.zeros(n, 1, 1, 1), torch.zeros(n, 1, 6, 1, 2), torch.zeros(n, 1, 2, 1, 2, 1, 1))
    save_targets(path, ["a", "b", "c"], empty, {"kind": "vocab-oracle"}, extra={
        "entry": torch.tensor([2.0, 0.0, 1.0]), "mirror": torch.tensor([1.0, 0.0, 0.0]),
        "anchor": torch.tensor([0.5, 0.0, 3.0]), "scale": torch.tensor([1.5, 1.0, 0.5]),
        "oracle_l1": torch.tensor([0.01, 0.02, 0.05]), "static_l1": torch.tensor([0.04, 0.04, 0.05])})
    targets = OracleTargets(path, V)
    classes, residual, weight, _ = targets.batch(["a", "c", "zzz"])
    assert classes[:2].tolist() == [V + 2, 1] and weight.tolist() == [1.0, 0.0, 0.0]  # c does not beat static
    logits = torch.full((3, 2 * V), -30.0)
    logits[torch.arange(3), classes] = 30.0
    ce, l1 = vocab_loss(logits, residual, classes, residual, weight)
    assert float(ce) < 1e-6 and float(l1) == 0.0
    angle = torch.atan2(residual[0, 2], 1 + residual[0, 1])
    assert float(angle) == pytest.approx(0.5, abs=1e-6)
    wrong = torch.zeros(3, 2 * V, requires_grad=True)
    ce, _ = vocab_loss(wrong, residual, classes, residual, weight)
    ce.backward()
    assert float(ce.detach()) == pytest.approx(math.log(2 * V))
    assert wrong.grad[1].abs().sum() == 0  # weight 0: no gradient


def test_seed_zero_coefficients_keeps_the_coefficient_motion_and_other_seeds_sample(tmp_path):
    torch.manual_seed(0)
    plain = Still2Motion(**TINY_CONFIG)
    for head in (plain.affine_head[-1], plain.flow_head, plain.mask_head):  # randomised: a zero head returns the input
        torch.nn.init.normal_(head.weight, std=0.05)
    hybrid = Still2Motion(**TINY_CONFIG, vocabulary_size=V, seed_zero="coefficients")
    hybrid.load_state_dict({**hybrid.state_dict(), **plain.state_dict()})
    c = table()
    hybrid.vocab_head.set_table(c.masks, c.affine, c.flow)
    canvas = sprite()
    zero = hybrid.sample_noise(0)
    assert torch.equal(zero, torch.zeros(1, hybrid.noise_dim))
    assert close(hybrid(canvas, zero), plain(canvas, zero))  # seed 0: the coefficient heads
    other = hybrid.sample_noise(3)
    assert close(hybrid(canvas, other), hybrid.forward_vocab(canvas, other)[2])  # other seeds: a sampled entry
    with pytest.raises(ValueError, match="all-zero or all-non-zero"):
        hybrid(torch.cat([canvas, canvas]), torch.cat([zero, other]))
    hybrid.save_pretrained(tmp_path / "hybrid")
    loaded = Still2Motion.from_pretrained(tmp_path / "hybrid")
    assert loaded.seed_zero == "coefficients" and close(loaded(canvas, zero), plain(canvas, zero))
    with pytest.raises(ValueError, match="seed_zero must be 'vocabulary' or 'coefficients', got 'x'"):
        Still2Motion(**TINY_CONFIG, seed_zero="x")
