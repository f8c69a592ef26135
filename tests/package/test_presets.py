"""Presets at the render level: loops close, each moves as named, amplitudes are relative, the frame is respected."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from still2motion import io, motion, presets

R = 64


def _figure(scale: int = 1, margin: bool = True) -> Image.Image:
    """An L-shaped opaque figure (bbox centre = image centre, centroid elsewhere) of a few colours, 52 x 64."""
    arr = np.zeros((64, 52, 4), np.uint8)
    arr[16:48, 18:26] = (200, 40, 40, 255)  # the upright bar
    arr[40:48, 26:34] = (40, 160, 60, 255)  # the foot, to the right
    arr[16:22, 18:26] = (30, 30, 200, 255)  # a head
    if not margin:
        arr = arr[16:48, 18:34]
    img = Image.fromarray(arr, "RGBA")
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST) if scale != 1 else img


def _render(name: str, image: Image.Image, num_frames: int = 20, mode: str = "bilinear", **kw) -> torch.Tensor:
    canvas, box = io.letterbox(image, R)
    mo = presets.preset_motion(name, io.to_tensor(canvas)[None], box=box, **kw)
    chunks = motion.render_loop(io.to_tensor(image)[None], mo, num_frames, box=box, canvas_size=R, out_size=image.size, mode=mode)
    return torch.cat(list(chunks))  # (T, 4, H, W)


def _moments(alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centroid (x, y) and 2 x 2 covariance of an alpha map (H, W), in pixels."""
    H, W = alpha.shape
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    pts = torch.stack((xs.flatten(), ys.flatten()), 1).double()
    w = alpha.flatten().double() / alpha.sum().double()
    c = (pts * w[:, None]).sum(0)
    d = pts - c
    return c, (d * w[:, None]).T @ d


def _steps(frames: torch.Tensor) -> tuple[torch.Tensor, float]:
    steps = (frames[1:] - frames[:-1]).abs().mean(dim=(1, 2, 3))
    return steps, (frames[0] - frames[-1]).abs().mean().item()


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_every_preset_is_a_seamless_loop_starting_at_the_input(name):
    image = _figure()
    frames = _render(name, image)
    torch.testing.assert_close(frames[0], io.to_tensor(image), atol=1e-5, rtol=0)
    steps, seam = _steps(frames)
    assert steps.max() > 1e-4, f"{name} does not move"
    assert seam <= 1.1 * steps.max().item(), f"{name}: last->first {seam:.4f} vs largest step {steps.max():.4f}"


def test_bob_moves_vertically_without_horizontal_drift():
    frames = _render("bob", _figure(), amplitude=0.1)
    c0, _ = _moments(frames[0, 3])
    centres = torch.stack([_moments(f[3])[0] for f in frames])
    assert (centres[:, 0] - c0[0]).abs().max() < 0.5
    rise = (c0[1] - centres[:, 1]).max().item()
    assert rise == pytest.approx(0.1 * 32, rel=0.1)  # amplitude 0.1 of a 32 px tall figure, upwards


def test_sway_turns_the_principal_axis_about_the_base():
    frames = _render("sway", _figure(), amplitude=0.15)
    c0, cov0 = _moments(frames[0, 3])
    angle0 = 0.5 * math.atan2(2 * cov0[0, 1], cov0[0, 0] - cov0[1, 1])
    pivot = torch.tensor([26.0, 48.0], dtype=torch.float64)  # bottom-centre of the bounding box
    turns = []
    for f in frames[1:]:
        c, cov = _moments(f[3])
        a = 0.5 * math.atan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1]) - angle0
        rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
        assert (c - (pivot + rot @ (c0 - pivot))).norm() < 0.5  # the centroid swings on an arc about the pivot
        turns.append(a)
    assert max(turns) > 0.05 and min(turns) < -0.05  # both ways, a few degrees


@pytest.mark.parametrize("name", ["pulse", "breathe"])
def test_scale_presets_scale_about_their_pivot(name):
    frames = _render(name, _figure(), amplitude=0.15)
    c0, cov0 = _moments(frames[0, 3])
    pivot = torch.tensor([26.0, 32.0 if name == "pulse" else 48.0], dtype=torch.float64)
    T = frames.shape[0]
    c, cov = _moments(frames[T // 2, 3])  # the peak of the hump
    sx, sy = (cov[0, 0] / cov0[0, 0]).sqrt().item(), (cov[1, 1] / cov0[1, 1]).sqrt().item()
    assert sy > 1.05
    if name == "pulse":
        assert sx == pytest.approx(sy, abs=0.02)
    else:
        assert sx < 0.99  # width counter-scaled
    predicted = pivot + torch.tensor([sx, sy], dtype=torch.float64) * (c0 - pivot)
    assert (c - predicted).norm() < 0.4


def test_spin_turns_half_way_at_half_the_loop():
    image = _figure()
    frames = _render("spin", image, num_frames=20, mode="nearest")
    turned = torch.flip(io.to_tensor(image), dims=(-2, -1))  # 180 degrees about the image centre = bbox centre
    assert (frames[10] - turned).abs().mean().item() < 0.01
    assert not torch.allclose(frames[5], frames[0])


def test_spin_ignores_amplitude():
    canvas = io.to_tensor(io.letterbox(_figure(), R)[0])[None]
    a = presets.preset_motion("spin", canvas, amplitude=0.01)
    b = presets.preset_motion("spin", canvas)
    torch.testing.assert_close(a.affine, b.affine)


def test_amplitude_is_relative_to_the_silhouette_height():
    small, large = _render("bob", _figure(scale=1)), _render("bob", _figure(scale=4))
    rise = [(_moments(f[0, 3])[0][1] - torch.stack([_moments(x[3])[0][1] for x in f])).max().item() for f in (small, large)]
    assert rise[1] == pytest.approx(4 * rise[0], rel=0.05)
    assert rise[0] == pytest.approx(presets.PRESETS["bob"].amplitude * 32, rel=0.1)


@pytest.mark.parametrize("name", [n for n in presets.PRESET_NAMES if n != "spin"])
def test_large_amplitudes_are_capped_inside_the_frame(name):
    # the figure has a margin on every side: no silhouette pixel may leave the frame, however much is asked;
    # render into a frame 16 px larger on every side and look for alpha outside the image's own
    image = _figure()
    canvas, box = io.letterbox(image, R)
    mo = presets.preset_motion(name, io.to_tensor(canvas)[None], box=box, amplitude=1.0)
    layers = motion.layer_images(io.to_tensor(image)[None], mo.masks, box, R, False)
    big = (box.left - 16, box.top - 16, box.width + 32, box.height + 32)  # canvas px = image px here
    frames = motion.render(layers, mo, motion.frame_phases(24), box=box, canvas_size=R, out_box=big,
                           out_size=(big[2], big[3]))[0]  # (T, 4, H + 32, W + 32)
    alpha = frames[:, 3]
    outside = alpha.sum(dim=(1, 2)) - alpha[:, 16:-16, 16:-16].sum(dim=(1, 2))
    assert (outside / alpha.sum(dim=(1, 2))).max().item() < 0.02  # bilinear tails of a 3x upscaled edge
    steps, _ = _steps(frames)
    assert steps.max() > 1e-3  # capped, not stopped


def test_a_cropped_sprite_keeps_most_of_itself_in_view():
    frames = _render("bob", _figure(margin=False), amplitude=0.5)  # touches every side: only the visibility rule holds
    mass = frames[:, 3].sum(dim=(1, 2))
    assert (mass / mass[0]).min().item() >= presets.MIN_VISIBLE - 0.02
    assert (mass / mass[0]).min().item() < 0.99  # but it does move


def test_opaque_image_pivots_on_its_frame():
    image = Image.new("RGBA", (40, 20), (90, 120, 200, 255))
    canvas, box = io.letterbox(image, R)
    mo = presets.preset_motion("pulse", io.to_tensor(canvas)[None], box=box)
    theta = motion.affine_at(mo.affine, torch.tensor([math.pi]))[0, 0, 0]  # (2, 3)
    centre = torch.tensor([(box.left + box.width / 2) * 2 / R - 1, (box.top + box.height / 2) * 2 / R - 1])
    torch.testing.assert_close(theta[:, :2] @ centre + theta[:, 2], centre, atol=1e-5, rtol=0)


def test_table_and_names():
    assert presets.PRESET_NAMES == ("breathe", "bob", "sway", "bounce", "float", "pulse", "wiggle", "shake", "spin")
    lines = presets.preset_table()
    assert len(lines) == len(presets.PRESETS) and all(line.split()[0] in presets.PRESETS for line in lines)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"name": "jump"}, "jump"), ({"amplitude": -0.1}, "-0.1"), ({"num_harmonics": 0}, "num_harmonics")],
)
def test_bad_arguments_are_one_line_errors(kwargs, match):
    canvas = torch.zeros(1, 4, 16, 16)
    args = {"name": "bob", **kwargs}
    with pytest.raises(ValueError, match=match) as err:
        presets.preset_motion(args.pop("name"), canvas, **args)
    assert "\n" not in str(err.value)


def test_batch_and_harmonics():
    canvas = torch.stack([io.to_tensor(io.letterbox(_figure(), R)[0]), io.to_tensor(io.letterbox(_figure(margin=False), R)[0])])
    mo = presets.preset_motion("wiggle", canvas, num_harmonics=2)
    assert mo.masks.shape == (2, 1, R, R) and mo.affine.shape == (2, 1, 6, 2, 2) and mo.flow.shape == (2, 1, 2, 2, 2, R, R)
    assert (mo.masks == 1).all()
    mo1 = presets.preset_motion("shake", canvas[:1], num_harmonics=1)
    assert mo1.affine.shape == (1, 1, 6, 1, 2) and mo1.affine.abs().sum() > 0
