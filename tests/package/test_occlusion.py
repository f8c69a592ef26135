"""Depth-ordered layers with "over" compositing and the fill behind front layers (issue 17), at the `render` level
with hand-set motion on synthetic images: no ghost, no see-through gap, no transparency at the borders."""

import math

import numpy as np
import pytest
import torch

from conftest import TY, random_model
from still2motion import framing, io, motion, timing
from still2motion.fill import push_pull
from still2motion.motion import Motion

R = 64  # canvas side; the images below fill it, box (0, 0, R, R): one canvas unit = R / 2 px
BOX = (0, 0, R, R)


def _grid(n=R):
    ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
    return xs, ys


def _texture():
    """A smooth opaque RGB texture, values in [0.15, 0.45] (premultiplied = straight, alpha 1)."""
    xs, ys = _grid()
    rgb = torch.stack((0.3 + 0.15 * torch.sin(xs / 5), 0.3 + 0.15 * torch.cos(ys / 4), 0.3 + 0.1 * torch.sin((xs + ys) / 7)))
    return torch.cat((rgb, torch.ones(1, R, R)))


SHAPE = torch.tensor([0.95, 0.85, 0.1, 1.0])  # a yellow disc
CENTRE, RADIUS, RAMP = (32.0, 32.0), 10.0, 4.0


def _disc_cover(dx=0.0):
    """Coverage of the anti-aliased disc shifted right by ``dx`` pixels: ``(R, R)`` in [0, 1]."""
    xs, ys = _grid()
    d = ((xs - CENTRE[0] - dx) ** 2 + (ys - CENTRE[1]) ** 2).sqrt()
    return (RADIUS + 0.5 - d).clamp(0, 1)


def _two_layer_motion(front_mask, front_affine=None, back_affine=None, M=1):
    masks = torch.stack((1 - front_mask, front_mask))[None]  # (1, 2, R, R): layer 0 back, layer 1 front
    affine = torch.zeros(1, 2, 6, M, 2)
    for layer, coeffs in ((0, back_affine or {}), (1, front_affine or {})):
        for (param, m, ab), value in coeffs.items():
            affine[0, layer, param, m - 1, 0 if ab == "a" else 1] = value
    return Motion(masks, affine, torch.zeros(1, 2, 2, M, 2, 4, 4))


def _render(image, mo, phases, **kw):
    layers = motion.layer_images(image, mo.masks, BOX, R, False, hard=kw.pop("hard", False))
    return motion.render(layers, mo, phases, box=BOX, canvas_size=R, **kw)


def _ramp_mask():
    """The front layer's mask: 1 over the disc, falling linearly to 0 over RAMP px around it (a soft edge)."""
    xs, ys = _grid()
    d = ((xs - CENTRE[0]) ** 2 + (ys - CENTRE[1]) ** 2).sqrt()
    return ((RADIUS + RAMP - d) / RAMP).clamp(0, 1)


# the front moves right by 8 sin(phi) px (backward warp: source = q + t, t_x = -0.25 sin(phi) canvas units);
# these phases give whole-pixel shifts, so the true composite is known exactly
SHIFTS = {math.pi / 6: 4, math.pi / 2: 8, 5 * math.pi / 6: 4, 7 * math.pi / 6: -4, 3 * math.pi / 2: -8}


@pytest.mark.parametrize("shape,peak", [(SHAPE, 1.0), (torch.tensor([1.0, 0.0, 0.0, 1.0]), 0.9)])
def test_front_layer_moves_over_background_once_with_no_ghost(shape, peak):
    """(1) An opaque textured background and a disc whose front mask has a 4 px ramp: each frame is the true
    composite (mean abs error <= 0.01; inside the moved disc <= 0.02), the disc appears once, and what remains at its
    old place is <= 5 % of its contrast (<= 25 % at any single pixel); no pixel turns transparent. Also for a
    saturated colour under a mask that never reaches 1 (0.9 inside the disc, as a softmax mask does)."""
    tex = _texture()
    image = (_disc_cover() * shape[:, None, None] + (1 - _disc_cover()) * tex)[None]  # (1, 4, R, R)
    mo = _two_layer_motion(peak * _ramp_mask(), front_affine={(2, 1, "b"): -0.25})
    phases = torch.tensor(list(SHIFTS))
    frames = _render(image, mo, phases)[0]  # (T, 4, R, R)
    contrast = shape[:3] - tex[:3].mean(dim=(1, 2))  # (3,)
    for frame, dx in zip(frames, SHIFTS.values()):
        cover = _disc_cover(dx)
        truth = cover * shape[:, None, None] + (1 - cover) * tex
        err = (frame - truth).abs()
        assert err.mean() <= 0.01, (dx, err.mean())
        assert err[:, cover > 0.999].max() <= 0.02, err[:, cover > 0.999].max()  # the disc, whole, at its new place
        old = (_disc_cover() > 0.999) & (cover < 0.001)  # the disc's old place, now uncovered
        remains = torch.einsum("chw,c->hw", frame[:3] - truth[:3], contrast) / contrast.pow(2).sum()
        assert remains[old].mean() <= 0.05 and remains[old].max() <= 0.25, (dx, remains[old].mean(), remains[old].max())
        assert (frame[3] >= 1 - 1e-5).all()


def test_summed_layers_would_ghost():
    """The acceptance test above fails for summed layers (the old renderer): the disc's old place is a hole."""
    tex = _texture()
    image = (_disc_cover() * SHAPE[:, None, None] + (1 - _disc_cover()) * tex)[None]
    mo = _two_layer_motion(_ramp_mask(), front_affine={(2, 1, "b"): -0.25})
    weights = motion.layer_weights(image, mo.masks, BOX, R, False)
    summed = motion.render(image.unsqueeze(1) * weights.unsqueeze(2), mo, torch.tensor([math.pi / 2]), box=BOX, canvas_size=R)
    layered = _render(image, mo, torch.tensor([math.pi / 2]))
    assert summed[0, 0, 3].min() < 0.1 and layered[0, 0, 3].min() >= 1 - 1e-5


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_opaque_picture_never_turns_transparent_at_its_borders(mode):
    """Both layers move (the background sways, the front bobs and turns): edge padding keeps every pixel opaque."""
    tex = _texture()[None]
    rot = {(0, 1, "a"): 0.1, (1, 1, "b"): -0.2, (3, 1, "b"): 0.2}
    mo = _two_layer_motion(_ramp_mask(), front_affine={(5, 1, "b"): 0.2, **rot}, back_affine={(2, 1, "b"): 0.15, (5, 2, "a"): 0.1}, M=2)
    mo.flow[0, :, 0, 0, 1] = 0.05
    frames = _render(tex, mo, motion.frame_phases(8), mode=mode)
    assert (frames[:, :, 3] >= 1 - 1e-5).all()
    assert (frames[:, 1:] - frames[:, :1]).abs().amax() > 0.1  # it does move


def _sprite():
    """A transparent 64 x 64 image with a body (green, rows 28..51) and a head (red, rows 12..27) above it, with a
    half-transparent outline pixel on each side; the front mask covers the head with a 3 px ramp into the body."""
    image = torch.zeros(4, R, R)
    body, head = torch.tensor([0.2, 0.7, 0.3, 1.0]), torch.tensor([0.8, 0.2, 0.2, 1.0])
    image[:, 28:52, 20:44] = body[:, None, None]
    image[:, 12:28, 24:40] = head[:, None, None]
    image[:, 28:52, 19] = image[:, 28:52, 44] = body[:, None] * 0.5  # anti-aliased outline
    _, ys = _grid()
    front = ((30.5 - ys) / 3).clamp(0, 1)  # 1 above row 27, 0 below row 30
    return image[None], front, body, head


def test_sprite_parts_moving_apart_leave_no_see_through_gap():
    """(2) The head moves up 3 px, the body down 2 px: no pixel inside the input's silhouette loses more than 0.01 of
    its alpha in any frame (inside = more than the largest shift, 3 px, away from the outline, which moves with the
    parts); the gap between them shows the filled body (green), not the head or nothing."""
    image, front, body, head = _sprite()
    # front: content up by 3 sin(phi) px -> t_y = +3 / 32; back: down by 2 sin(phi) px -> t_y = -2 / 32
    mo = _two_layer_motion(front, front_affine={(TY, 1, "b"): 3 / 32}, back_affine={(TY, 1, "b"): -2 / 32})
    frames = _render(image, mo, motion.frame_phases(12))[0]  # (T, 4, R, R)
    inside = -torch.nn.functional.max_pool2d(-(image[:, 3:] > 0).float(), 7, stride=1, padding=3)[0, 0] > 0  # eroded 3 px
    assert inside[20:40].sum() > 250  # the junction of head and body is in it
    drop = (image[0, 3] - frames[:, 3])[:, inside]
    assert drop.max() <= 0.01, drop.max()
    gap = frames[3, :3, 26:30, 26:38]  # phi = pi / 2: head up 3, body down 2 -> rows 25..29 were split apart
    assert (frames[3, 3, 26:30, 26:38] >= 0.99).all()
    assert (gap - body[:3, None, None]).abs().max() <= 0.1 < (gap - head[:3, None, None]).abs().max()
    assert (frames[3, :3, 14:20, 28:36] - head[:3, None, None]).abs().max() <= 1e-5  # the head itself, intact


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("mode,hard", [("bilinear", False), ("bicubic", False), ("nearest", False), ("nearest", True)])
def test_zero_motion_returns_input_exactly(K, mode, hard):
    """(3) Soft random masks over random premultiplied alpha, and an opaque picture (edge padding): exact."""
    gen = torch.Generator().manual_seed(K)
    img = torch.rand(2, 4, 21, 33, generator=gen)
    img[1, 3] = 1.0  # the second one is opaque
    img[:, :3] *= img[:, 3:]
    masks = torch.softmax(3 * torch.randn(2, K, 8, 8, generator=gen), dim=1)
    mo = Motion(masks, torch.zeros(2, K, 6, 3, 2), torch.zeros(2, K, 2, 3, 2, 4, 4))
    layers = motion.layer_images(img, masks, (0, 10, 32, 20), 32, False, hard=hard)
    out = motion.render(layers, mo, motion.frame_phases(4), box=(0, 10, 32, 20), canvas_size=32, mode=mode)
    torch.testing.assert_close(out, img.unsqueeze(1).expand_as(out), atol=1e-5, rtol=0)
    alpha, back = layers[:, :, 3:], layers[:, 0]
    assert (alpha >= -1e-6).all() and (alpha <= 1 + 1e-6).all()  # front colours may leave the range (fill_behind)
    assert (back[:, :3] >= 0).all() and (back[:, :3] <= back[:, 3:] + 1e-6).all() and (back[:, 3] <= img[:, 3] + 1e-6).all()


def test_loop_closes():
    """(4) Phase 2 pi renders phase 0 (the input), and every frame one period later is the same frame."""
    gen = torch.Generator().manual_seed(0)
    image, front, _, _ = _sprite()
    mo = Motion(torch.stack((1 - front, front))[None], 0.1 * torch.randn(1, 2, 6, 3, 2, generator=gen),
                0.05 * torch.randn(1, 2, 2, 3, 2, 4, 4, generator=gen))
    phases = motion.frame_phases(5)
    frames = _render(image, mo, torch.cat((phases, phases + 2 * math.pi)))[0]
    torch.testing.assert_close(frames[5:], frames[:5], atol=1e-4, rtol=0)
    torch.testing.assert_close(frames[0], image[0], atol=1e-5, rtol=0)
    assert (frames[1:5] - image).abs().amax() > 0.1


def test_fill_spreads_known_colours_and_hard_fill_keeps_the_palette():
    colour = torch.tensor([0.2, 0.5, 0.9])[None, :, None, None]
    known = torch.ones(1, 1, 37, 29)
    known[..., 5:30, 4:20] = 0  # a hole
    soft = push_pull(colour * known, known)
    torch.testing.assert_close(soft, colour.expand_as(soft), atol=1e-5, rtol=0)
    gen = torch.Generator().manual_seed(0)
    palette = torch.rand(4, 3, generator=gen)
    pixels = palette[torch.randint(0, 4, (37, 29), generator=gen)].permute(2, 0, 1)[None]  # (1, 3, H, W)
    hard = push_pull(pixels * known, known, hard=True)
    assert torch.equal(hard[known.expand_as(hard) > 0], pixels[known.expand_as(hard) > 0])
    found = {tuple(c) for c in hard[0].flatten(1).T.tolist()}
    assert found <= {tuple(c) for c in palette.tolist()}


def test_hard_layers_keep_the_palette_of_large_pixel_art():
    """Masks sampled between canvas cells (a 100 px sprite in a 32 canvas) are made one-hot, the fill picks existing
    colours: every frame's pixels are input pixels."""
    gen = torch.Generator().manual_seed(0)
    palette = torch.tensor([[0.8, 0.1, 0.1, 1.0], [0.1, 0.6, 0.2, 1.0], [0.2, 0.2, 0.9, 1.0], [0.0, 0.0, 0.0, 0.0]])
    image = palette[torch.randint(0, 4, (100, 100), generator=gen)].permute(2, 0, 1)[None]
    mo = Motion(torch.softmax(torch.randn(1, 2, 32, 32, generator=gen), 1), 0.1 * torch.randn(1, 2, 6, 2, 2, generator=gen),
                0.05 * torch.randn(1, 2, 2, 2, 2, 8, 8, generator=gen))
    frames = torch.cat(list(motion.render_loop(image, mo, 6, box=(0, 0, 32, 32), canvas_size=32, out_size=(100, 100),
                                               mode="nearest", hard_layers=True)))
    found = {tuple(c) for c in frames.permute(0, 2, 3, 1).reshape(-1, 4).tolist()}
    assert found <= {tuple(c) for c in palette.tolist()}
    assert (frames[1:] != image).any()


def test_forward_frames_and_animate_agree():
    """One renderer: the differentiable training frames of the motion ``animate`` renders (the learned motion kept a
    drawing, ``model.auto_motion``) equal what ``animate`` writes (up to uint8 rounding)."""
    model = random_model(seed=2, scale=0.1)
    rng = np.random.default_rng(0)
    arr = np.zeros((32, 32, 4), np.uint8)
    arr[4:28, 6:26] = rng.integers(0, 256, (24, 20, 4))
    arr[4:28, 6:26, 3] = 255
    still = __import__("PIL.Image").Image.fromarray(arr, "RGBA")
    anim = model.animate(still, num_frames=6, fps=10, seed=0, resample="bilinear")
    canvas, box = io.letterbox(still, model.resolution)
    assert tuple(box) == (0, 0, 32, 32)
    with torch.no_grad():  # animate samples the loop at seam-keeping phases (timing.py); render those same phases
        x = io.to_tensor(canvas)[None]
        mo = model.auto_motion(x, box, strength=1.0, noise=model.sample_noise(0), out_size=(32, 32), has_alpha=True)
        disp = timing.displacements(mo, timing.motion_points(x[0, 3], box, model.resolution))
        if not framing.clearly_inside(x[0, 3], box, model.resolution, timing.peak_displacement(disp)):
            mo, factor = framing.keep_in_frame(x, mo, box, model.resolution, align_corners=model.align_corners)
            disp = disp * factor  # animate keeps the sprite in its frame the same way
        phases = timing.seam_phases(disp, 6)
        frames = model.forward_frames(x, phases[None], model.sample_noise(0), motion=mo)[0]
    written = torch.stack([io.to_tensor(f) for f in anim.frames])
    assert (written[1:] - frames[1:]).abs().amax() <= 1.5 / 255
    assert (frames[1:] - frames[:1]).abs().amax() > 0.05  # it moves


def test_render_is_differentiable_in_masks_and_motion():
    """The training renderer: gradients reach the mask logits (through the split and the fill) and the trajectories."""
    image, front, _, _ = _sprite()
    logits = torch.stack((torch.zeros(R, R), 4 * front - 2))[None].requires_grad_(True)
    affine = torch.zeros(1, 2, 6, 1, 2).requires_grad_(True)
    with torch.no_grad():
        affine[0, 1, TY, 0, 1] = 3 / 32
    mo = Motion(torch.softmax(logits, dim=1), affine, torch.zeros(1, 2, 2, 1, 2, 4, 4))
    target = torch.roll(image, shifts=-2, dims=-2)
    loss = (_render(image, mo, torch.tensor([math.pi / 2])) - target).abs().mean()
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    assert torch.isfinite(affine.grad).all() and affine.grad[0, :, TY].abs().sum() > 0
