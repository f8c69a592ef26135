"""Rendering with hand-set motion: identity, translation, rotation, loop closure, alpha, sizes, palettes."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import TX, TY, A, B, C, D, hand_set_model, random_model, sprite
from still2motion import motion
from still2motion.motion import Motion
from train.evaluate.metrics import gradient_energy


def _motion(K=1, M=1, affine=None, flow_hw=(4, 4), masks_hw=(8, 8)):
    affine_t = torch.zeros(1, K, 6, M, 2)
    for (p, m, ab), v in (affine or {}).items():
        affine_t[0, :, p, m - 1, 0 if ab == "a" else 1] = v
    return Motion(
        masks=torch.full((1, K, *masks_hw), 1.0 / K),
        affine=affine_t,
        flow=torch.zeros(1, K, 2, M, 2, *flow_hw),
    )


def _render(image, mo, phases, box, canvas, **kw):
    layers = motion.layer_images(image, mo.masks, box, canvas, False)
    return motion.render(layers, mo, phases, box=box, canvas_size=canvas, **kw)


def _square_image(h=16, w=16):
    img = torch.zeros(1, 4, h, w)
    img[0, :, 5:9, 6:10] = 1.0  # a white opaque square
    return img


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_zero_motion_returns_input(mode):
    img = torch.rand(1, 4, 21, 33)
    img[:, :3] *= img[:, 3:]
    mo = _motion(K=2, M=3)
    out = _render(img, mo, motion.frame_phases(6), (0, 10, 32, 20), 32, mode=mode)
    assert out.shape == (1, 6, 4, 21, 33)
    torch.testing.assert_close(out, img.unsqueeze(1).expand_as(out), atol=1e-5, rtol=0)


def test_trajectory_is_zero_at_phase_zero_and_two_pi():
    coeffs = torch.randn(1, 2, 6, 3, 2)
    theta = motion.affine_at(coeffs, torch.tensor([0.0, 2 * math.pi, 1.0]))
    identity = torch.tensor([[1.0, 0, 0], [0, 1, 0]])
    torch.testing.assert_close(theta[0, 0], identity.expand(2, 2, 3), atol=1e-6, rtol=0)
    torch.testing.assert_close(theta[0, 1], identity.expand(2, 2, 3), atol=1e-5, rtol=0)
    assert not torch.allclose(theta[0, 2], identity.expand(2, 2, 3))


def test_translation_moves_marked_pixel():
    # backward warp: output(q) = input(q + t), so content moves by -t; canvas 16 px wide -> 1 unit = 8 px
    img = _square_image()
    mo = _motion(affine={(TX, 1, "b"): -0.5, (TY, 1, "b"): 0.25})  # at phi = pi/2: t = (-0.5, 0.25)
    out = _render(img, mo, torch.tensor([math.pi / 2]), (0, 0, 16, 16), 16, mode="nearest")
    alpha = out[0, 0, 3]
    ys, xs = torch.nonzero(alpha > 0.5, as_tuple=True)
    assert (xs.min().item(), ys.min().item()) == (6 + 4, 5 - 2)
    assert alpha.sum().item() == 16  # the whole 4x4 square, nothing lost


def test_alpha_follows_motion():
    img = _square_image()
    img[0, :3] *= 0.5  # grey, premultiplied
    mo = _motion(affine={(TX, 1, "b"): -0.25})
    out = _render(img, mo, torch.tensor([math.pi / 2]), (0, 0, 16, 16), 16, mode="nearest")[0, 0]
    opaque = out[3] > 0.5
    assert opaque[5:9, 8:12].all() and not opaque[5:9, 6:8].any()
    torch.testing.assert_close(out[:3, 5:9, 8:12], torch.full((3, 4, 4), 0.5))


def test_rotation_on_non_square_image_keeps_angles():
    # a 120 x 40 image with a horizontal bar 20 px long; a 90 degree rotation must make it 20 px tall, not 20/3 or 60
    h, w = 40, 120
    img = torch.zeros(1, 4, h, w)
    img[0, :, 19:21, 50:70] = 1.0
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]]) - torch.eye(2)  # theta - I at phi = pi/2
    coeffs = {(A, 1, "b"): rot[0, 0].item(), (B, 1, "b"): rot[0, 1].item(), (C, 1, "b"): rot[1, 0].item(), (D, 1, "b"): rot[1, 1].item()}
    box = (0, 21, 64, 22)  # the letterbox of 120 x 40 into 64 x 64 (aspect kept)
    out = _render(img, _motion(affine=coeffs), torch.tensor([math.pi / 2]), box, 64, mode="nearest")
    ys, xs = torch.nonzero(out[0, 0, 3] > 0.5, as_tuple=True)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert abs(height.item() - 20) <= 1 and abs(width.item() - 2) <= 1


def test_flow_moves_content():
    img = _square_image()
    mo = _motion()
    mo.flow[0, 0, 0, 0, 1] = -0.25  # x flow, harmonic 1, sin: at pi/2 the content moves +2 px
    out = _render(img, mo, torch.tensor([math.pi / 2]), (0, 0, 16, 16), 16, mode="nearest")
    xs = torch.nonzero(out[0, 0, 3] > 0.5, as_tuple=True)[1]
    assert xs.min().item() == 8


def test_strength_scales_and_zero_strength_is_still():
    mo = _motion(affine={(TX, 1, "b"): 0.3})
    assert torch.equal(mo.scaled(0.0).affine, torch.zeros_like(mo.affine))
    torch.testing.assert_close(mo.scaled(2.0).affine, mo.affine * 2)


def test_animate_frame_zero_and_loop_closure(sway_model):
    still = sprite(24, 32)
    anim = sway_model.animate(still, num_frames=8, fps=8, seed=0)
    assert len(anim.frames) == 8
    assert np.array_equal(np.asarray(anim.frames[0]), np.asarray(still))  # byte for byte
    assert not np.array_equal(np.asarray(anim.frames[2]), np.asarray(still))  # it moves
    # one period later the motion is back at the start: phase 2 pi renders frame 0
    canvas_mo = sway_model(torch.zeros(1, 4, 32, 32))
    theta = motion.affine_at(canvas_mo.affine, torch.tensor([0.0, 2 * math.pi]))
    torch.testing.assert_close(theta[:, 0], theta[:, 1], atol=1e-6, rtol=0)


@pytest.mark.parametrize("size", [(37, 23), (400, 3), (3, 400), (1, 1)])
def test_output_size_equals_input_size(size):
    # a thin strip can only move along itself, a single pixel not at all (a motion that would have to be scaled to a
    # still to stay in the frame is refused: test_drawing.py)
    models = {(400, 3): lambda: hand_set_model({(TX, 1, "b"): 0.05}), (3, 400): lambda: hand_set_model({(TY, 1, "b"): 0.05}),
              (1, 1): hand_set_model}
    model = models.get(size, lambda: random_model(seed=1))()
    still = Image.fromarray(np.random.default_rng(0).integers(0, 255, (size[1], size[0], 4), dtype=np.uint8), "RGBA")
    anim = model.animate(still, num_frames=3, fps=10)
    assert all(f.size == size and f.mode == "RGBA" for f in anim.frames)
    assert np.array_equal(np.asarray(anim.frames[0]), np.asarray(still))


def test_render_at_requested_size(sway_model):
    anim = sway_model.animate(sprite(24, 32), num_frames=4, fps=10, size=(48, 64), resample="nearest")
    assert [f.size for f in anim.frames] == [(48, 64)] * 4
    expected = sprite(24, 32).resize((48, 64), Image.NEAREST)
    assert np.array_equal(np.asarray(anim.frames[0]), np.asarray(expected))


def test_nearest_keeps_palette_of_pixel_art():
    # a turn and a sway that keep the sprite in view (the random model this test used carried it out of the frame,
    # which animate() no longer allows; layers that overlap still add up until the occlusion renderer lands)
    still = sprite(24, 32)
    palette = {tuple(c) for c in np.asarray(still).reshape(-1, 4)}
    model = hand_set_model({(TX, 1, "b"): 0.15, (B, 1, "b"): 0.2, (C, 1, "b"): -0.2})
    anim = model.animate(still, num_frames=6, fps=10, resample="nearest")
    for frame in anim.frames:
        assert {tuple(c) for c in np.asarray(frame).reshape(-1, 4)} <= palette
        assert np.asarray(frame)[..., 3].sum() >= 0.8 * np.asarray(still)[..., 3].sum()
    assert any(not np.array_equal(np.asarray(f), np.asarray(still)) for f in anim.frames[1:])


def test_zero_initialised_model_returns_still():
    still = sprite(20, 20)
    anim = hand_set_model().animate(still, num_frames=5, fps=10, resample="bilinear")
    for frame in anim.frames:
        assert np.array_equal(np.asarray(frame), np.asarray(still))


def test_shift_phase_reanchors_trajectory():
    mo = Motion(torch.ones(2, 2, 4, 4) / 2, torch.randn(2, 2, 6, 3, 2), torch.randn(2, 2, 2, 3, 2, 4, 4))
    anchor = torch.tensor([0.7, 2.0])
    shifted = motion.shift_phase(mo, anchor)
    psi = torch.tensor([0.0, 0.3, 1.9])
    for i in range(2):
        phases = anchor[i] + psi
        base = motion.affine_at(mo.affine[i : i + 1], phases)
        expected = base - motion.affine_at(mo.affine[i : i + 1], anchor[i : i + 1]) + torch.tensor([[1.0, 0, 0], [0, 1, 0]])
        torch.testing.assert_close(motion.affine_at(shifted.affine[i : i + 1], psi), expected, atol=1e-5, rtol=0)
        flow = motion.flow_at(mo.flow[i : i + 1], phases) - motion.flow_at(mo.flow[i : i + 1], anchor[i : i + 1])
        torch.testing.assert_close(motion.flow_at(shifted.flow[i : i + 1], psi), flow, atol=1e-5, rtol=0)


def test_reversed_time_renders_the_loop_backwards():
    torch.manual_seed(0)
    img = torch.rand(1, 4, 16, 16)
    mo = Motion(torch.softmax(torch.randn(1, 2, 8, 8), 1), 0.05 * torch.randn(1, 2, 6, 3, 2), 0.05 * torch.randn(1, 2, 2, 3, 2, 4, 4))
    phases = motion.frame_phases(6)
    forwards = _render(img, mo, phases, (0, 0, 16, 16), 16)
    backwards = _render(img, mo.reversed_time(), phases, (0, 0, 16, 16), 16)
    assert (forwards[:, 1] - forwards[:, 5]).abs().max() > 1e-2  # the loop is not symmetric in time by accident
    torch.testing.assert_close(backwards[:, 1:], forwards[:, 1:].flip(1), atol=1e-5, rtol=0)  # frame t <-> frame T-t
    torch.testing.assert_close(backwards[:, 0], forwards[:, 0])
    assert torch.equal(mo.reversed_time().reversed_time().flow, mo.flow)


@pytest.mark.parametrize("augment", [(1.0, 1.0, 0.0, 0.0), (0.0, 1.1, 0.05, -0.04), (1.0, 0.92, -0.03, 0.05)])
def test_augment_motion_matches_augmented_frames(augment):
    """Rendering the transformed motion on the augmented input == augmenting the rendered frames."""
    import torch.nn.functional as F

    R = 48
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, R), torch.linspace(-1, 1, R), indexing="ij")
    blob = torch.exp(-((xx - 0.1) ** 2 + (yy + 0.05) ** 2 * 2) / 0.15)
    image = torch.stack((blob * (0.5 + 0.5 * xx.clamp(0, 1)), blob * 0.3, blob * (yy + 1) / 2, blob))[None]
    # masks and flow maps linear in x and y, so bilinear resampling of them is exact (away from the border)
    cells = torch.linspace(-1, 1, 9)[:-1] + 1 / 8  # centres of 8 cells
    cy, cx = torch.meshgrid(cells, cells, indexing="ij")
    gen = torch.Generator().manual_seed(0)
    fg = 0.5 + 0.3 * cx - 0.15 * cy
    coef = torch.randn(2, 2, 2, 2, 3, generator=gen) * 0.03  # (K, xy, M, ab, [1, x, y])
    flow = coef[..., 0, None, None] + coef[..., 1, None, None] * cx + coef[..., 2, None, None] * cy
    mo = Motion(torch.stack((1 - fg, fg))[None], torch.randn(1, 2, 6, 2, 2, generator=gen) * 0.05, flow[None])
    aug = torch.tensor([augment])
    flip, s, tx, ty = augment
    theta = torch.tensor([[[(1 - 2 * flip) / s, 0, -(1 - 2 * flip) * tx / s], [0, 1 / s, -ty / s]]])

    def apply(x):  # the data loader's augmentation: x'(q) = x(G q)
        grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    phases = torch.tensor([0.8, 2.5, 4.0])
    box = (0, 0, R, R)
    frames = _render(image, mo, phases, box, R)[0]  # (T, 4, R, R)
    expected = apply(frames)
    got = _render(apply(image), motion.augment_motion(mo, aug), phases, box, R)[0]
    inner = slice(8, R - 8)
    err = (got - expected)[..., inner, inner].abs()
    assert err.mean() < 0.001 and err.max() < 0.05
    # and the untransformed motion would be clearly wrong for the flipped / shifted clip
    wrong = (_render(apply(image), mo, phases, box, R)[0] - expected)[..., inner, inner].abs()
    assert wrong.mean() > 3 * err.mean()


def test_bicubic_keeps_an_edge_sharper_than_bilinear_at_half_a_pixel_and_stays_valid_rgba():
    # a dark-outlined disc on transparency, moved by half a pixel (canvas 32 px: 1 unit = 16 px, so 1/32 unit)
    ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    r = ((xs - 15.5) ** 2 + (ys - 15.5) ** 2).sqrt()
    img = torch.zeros(1, 4, 32, 32)
    img[0, 3] = (r <= 10).float()
    img[0, :3] = torch.where(r <= 8, 0.9, 0.05) * img[0, 3]
    mo = _motion(affine={(TX, 1, "b"): 1 / 32, (TY, 1, "b"): 1 / 32})
    phase = torch.tensor([math.pi / 2])
    edge = {m: _render(img, mo, phase, (0, 0, 32, 32), 32, mode=m)[0, 0] for m in ("bilinear", "bicubic")}
    grad = {m: gradient_energy(f) for m, f in edge.items()}
    assert grad["bilinear"] < grad["bicubic"] < gradient_energy(img[0])  # closer to the drawing, still a sub-pixel move
    out = edge["bicubic"]
    assert (out[3] >= 0).all() and (out[3] <= 1).all() and (out[:3] >= 0).all() and (out[:3] <= out[3] + 1e-6).all()
    moved_r = ((xs - 15) ** 2 + (ys - 15) ** 2).sqrt()  # where the disc now is (it moved by -t)
    assert (out[:, moved_r > 12.5] == 0).all()  # no ringing beyond the kernel's two pixels
