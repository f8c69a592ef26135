"""Style augmentation (train/data/augment.py) and its place in the loader: one change for the whole clip, alpha kept,
and the fitted motion following the loader's wider scale / shift (synthetic clips made in code)."""

import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from still2motion import motion  # noqa: E402
from train.data import augment
from train.data.augment import StyleConfig  # noqa: E402
from train.data.datasets import PreparedDataset  # noqa: E402
from still2motion.motion import Motion  # noqa: E402


def clip(n: int = 3, size: int = 24, seed: int = 0) -> torch.Tensor:
    """``n`` different premultiplied RGBA frames: a coloured blob with soft edges that moves, on transparency."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    frames = []
    for i in range(n):
        a = ((((xx - 10 - i) ** 2 + (yy - 12) ** 2) < 36).float() + 0.5 * ((((xx - 10 - i) ** 2 + (yy - 12) ** 2)) == 36).float())
        rgb = torch.rand(3, size, size, generator=g) * 0.6 + 0.2
        frames.append(torch.cat((rgb * a, a[None])))
    return torch.stack(frames)  # (N, 4, H, W)


NO_STYLE = StyleConfig(hue_p=0, permute_p=0, saturation_p=0, contrast_p=0, posterize_p=0, outline_p=0, erode_p=0,
                       blur_p=0, sharpen_p=0, pixelate_p=0, smooth_p=0)

TRANSFORMS = {  # name -> (function of a clip, "same" | "grow" | "shrink" | "soft" for what alpha may do)
    "hue": (lambda x: augment.color_transform(x, matrix=augment.hue_matrix(2.0)), "same"),
    "permute": (lambda x: augment.color_transform(x, matrix=torch.eye(3)[[2, 0, 1]]), "same"),
    "saturation": (lambda x: augment.color_transform(x, saturation=0.3), "same"),
    "contrast": (lambda x: augment.color_transform(x, contrast=1.6, contrast_mean=0.45), "same"),
    "posterize": (lambda x: augment.color_transform(x, levels=3), "same"),
    "outline": (lambda x: augment.add_outline(x, (0.1, 0.05, 0.0)), "grow"),
    "erode": (augment.erode, "shrink"),
    "blur": (augment.blur, "soft"),
    "sharpen": (lambda x: augment.sharpen(x, 1.2), "soft"),
    "pixelate": (lambda x: augment.pixelate(x, 3), "soft"),
    "smooth": (augment.smooth, "soft"),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_is_the_same_on_every_frame_and_keeps_alpha(name):
    fn, alpha_rule = TRANSFORMS[name]
    x = clip()
    y = fn(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert (y[:, :3] <= y[:, 3:] + 1e-5).all()  # still premultiplied
    for i in range(len(x)):  # the input frame and each target get exactly the same change
        torch.testing.assert_close(y[i : i + 1], fn(x[i : i + 1]), atol=1e-6, rtol=0)
    assert not torch.allclose(y, x, atol=1e-3)  # it did something
    a, b = x[:, 3], y[:, 3]
    if alpha_rule == "same":
        torch.testing.assert_close(b, a, atol=1e-6, rtol=0)
    elif alpha_rule == "grow":
        assert (b >= a - 1e-6).all() and (b > a).any()
    elif alpha_rule == "shrink":
        assert (b <= a + 1e-6).all() and (b < a).any() and b.sum() > 0.5 * a.sum()
    else:  # resampling moves alpha a little but keeps the silhouette's mass where it was
        assert abs(float(b.sum() - a.sum())) < 0.2 * float(a.sum())
        assert float((b * a).sum()) > 0.6 * float((a * a).sum())


def test_colour_transforms_do_what_they_say():
    red = torch.zeros(1, 4, 2, 2)
    red[:, 0], red[:, 3] = 1.0, 1.0
    red[:, :, 1, 1] = torch.tensor([0.5, 0.5, 0.5, 1.0])  # a grey pixel
    rot = augment.color_transform(red, matrix=augment.hue_matrix(2 * math.pi / 3))
    torch.testing.assert_close(rot[0, :3, 0, 0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-5, rtol=0)  # red -> green
    torch.testing.assert_close(rot[0, :3, 1, 1], torch.tensor([0.5, 0.5, 0.5]), atol=1e-5, rtol=0)  # grey stays
    perm = augment.color_transform(red, matrix=torch.eye(3)[[2, 0, 1]])
    assert perm[0, :3, 0, 0].tolist() == [0.0, 1.0, 0.0]  # rows of the matrix pick (b, r, g)
    grey = augment.color_transform(red, saturation=0.0)
    assert torch.allclose(grey[0, 0, 0, 0], grey[0, 1, 0, 0]) and torch.allclose(grey[0, 1, 0, 0], grey[0, 2, 0, 0])
    levels = augment.color_transform(clip(), levels=3)[:, :3] / clip()[:, 3:].clamp_min(1e-6)
    on = clip()[:, 3:].expand(-1, 3, -1, -1) == 1
    assert set(torch.round(levels[on] * 2).unique().tolist()) <= {0.0, 1.0, 2.0}


def test_outline_pixelate_and_erode_shapes():
    x = torch.zeros(1, 4, 9, 9)
    x[:, :, 3:6, 3:6] = 1.0
    out = augment.add_outline(x, (0.2, 0.1, 0.0))
    assert out[0, 3, 2:7, 2:7].min() == 1 and out[0, 3].sum() == 25  # a 1 px ring around the 3x3 square
    torch.testing.assert_close(out[0, :3, 2, 2], torch.tensor([0.2, 0.1, 0.0]))
    assert augment.erode(x)[0, 3].sum() == 1  # only the centre survives
    p = augment.pixelate(clip(1, 24), 3)
    assert torch.equal(p[..., 0::3, :], p[..., 1::3, :]) and torch.equal(p[..., 0::3], p[..., 2::3])


def test_style_transform_clip_level_same_change_everywhere():
    always = StyleConfig(hue_p=1, permute_p=1, saturation_p=1, contrast_p=1, posterize_p=1, outline_p=1,
                         pixelate_p=1, blur_p=1)
    frame = clip(1)
    x = frame.expand(5, -1, -1, -1).clone()  # an input and four targets that are the same picture
    for seed in range(5):
        y, applied = augment.style_transform(x, np.random.default_rng(seed), always)
        assert applied == ["hue", "permute", "saturation", "contrast", "posterize", "pixelate", "blur", "outline"]
        for t in range(1, 5):
            assert torch.equal(y[t], y[0])
        assert y[:, 3].sum() > 0.8 * x[:, 3].sum()
    with pytest.raises(ValueError, match="style_augment must be one of .*'loud'"):
        augment.style_config("loud")


def _blob_root(root: Path, size: int = 32, step: float = 0.1) -> Path:
    """A prepared ROOT with one 4-frame loop of a smooth coloured blob (so bilinear resampling is near exact)."""
    import json

    d = root / "train" / "s#a"
    d.mkdir(parents=True)
    yy, xx = np.meshgrid(np.linspace(-1, 1, size), np.linspace(-1, 1, size), indexing="ij")
    for i in range(4):
        blob = np.exp(-((xx - step * i) ** 2 + (yy + 0.05) ** 2 * 2) / 0.2)
        f = np.stack((blob * (0.5 + 0.5 * np.clip(xx, 0, 1)), blob * 0.3, blob * (yy + 1) / 2, blob), -1)
        rgb = np.where(f[..., 3:] > 0, f[..., :3] / np.maximum(f[..., 3:], 1e-6), 0)
        Image.fromarray(np.rint(np.concatenate((rgb, f[..., 3:]), -1) * 255).astype(np.uint8), "RGBA").save(
            d / f"{i:04d}.png")
    (root / "manifest.jsonl").write_text(json.dumps({"seq": "s#a", "split": "train", "character": "src:s",
                                                     "n_frames": 4}) + "\n")
    return root


def _apply(x: torch.Tensor, aug: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """``x'(q) = x(G q)``, ``G(q) = F (q - t) / s``: what ``motion.augment_motion`` assumes the loader did."""
    flip, s, tx, ty = (float(v) for v in aug)
    sign = 1 - 2 * flip
    theta = torch.tensor([[[sign / s, 0, -sign * tx / s], [0, 1 / s, -ty / s]]])
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


@pytest.mark.parametrize("nearest", [False, True])
def test_wider_scale_and_position_follow_the_augment_vector(tmp_path, monkeypatch, nearest):
    """The loader's scaled / shifted (bilinear or nearest) clip is exactly G applied to the plain clip."""
    geometry = replace(NO_STYLE, affine_p=1.0, scale_range=(0.6, 1.3), translate=0.2, nearest_p=float(nearest))
    monkeypatch.setitem(augment.STYLE_PRESETS, "geometry", geometry)
    root = _blob_root(tmp_path)
    seen = []
    for seed in range(4):
        plain = PreparedDataset(root, "train", resolution=32, augment=False, seed=seed)[0]
        item = PreparedDataset(root, "train", resolution=32, augment=True, seed=seed, style_augment="geometry")[0]
        aug = item["augment"]
        seen.append(aug)
        clip_plain = torch.cat((plain["input"][None], plain["targets"]))
        clip_aug = torch.cat((item["input"][None], item["targets"]))
        expected = _apply(clip_plain, aug, "nearest" if nearest else "bilinear").clamp(0, 1)
        err = (clip_aug - expected).abs()
        assert err.mean() < 1e-3 and (err > 1e-3).float().mean() < 0.01
    scales = [float(a[1]) for a in seen]
    assert max(abs(s - 1) for s in scales) > 0.1  # wider than the old +-10 %


def test_fitted_motion_moves_with_the_wider_scale_and_position(tmp_path, monkeypatch):
    """Rendering ``augment_motion(motion, item["augment"])`` on the augmented input == augmenting the rendered frames."""
    geometry = replace(NO_STYLE, affine_p=1.0, scale_range=(0.6, 1.3), translate=0.2, nearest_p=0.0)
    monkeypatch.setitem(augment.STYLE_PRESETS, "geometry", geometry)
    root = _blob_root(tmp_path, 48)
    R = 48
    gen = torch.Generator().manual_seed(0)
    cells = torch.linspace(-1, 1, 9)[:-1] + 1 / 8
    cy, cx = torch.meshgrid(cells, cells, indexing="ij")
    fg = 0.5 + 0.3 * cx - 0.15 * cy
    coef = torch.randn(2, 2, 2, 2, 3, generator=gen) * 0.03
    flow = coef[..., 0, None, None] + coef[..., 1, None, None] * cx + coef[..., 2, None, None] * cy
    mo = Motion(torch.stack((1 - fg, fg))[None], torch.randn(1, 2, 6, 2, 2, generator=gen) * 0.05, flow[None])
    phases, box = torch.tensor([0.8, 2.5, 4.0]), (0, 0, R, R)

    def render(image, m):
        layers = motion.layer_images(image, m.masks, box, R, False)
        return motion.render(layers, m, phases, box=box, canvas_size=R)[0]

    checked = 0
    for seed in range(3):
        plain = PreparedDataset(root, "train", resolution=R, augment=False, seed=seed)[0]["input"][None]
        item = PreparedDataset(root, "train", resolution=R, augment=True, seed=seed, style_augment="geometry")[0]
        aug = item["augment"][None]
        expected = _apply(render(plain, mo), aug[0])
        got = render(item["input"][None], motion.augment_motion(mo, aug))
        inner = slice(10, R - 10)
        err = (got - expected)[..., inner, inner].abs()
        wrong = (render(item["input"][None], mo) - expected)[..., inner, inner].abs()
        assert err.mean() < 0.002 and err.mean() < wrong.mean() / 3
        checked += 1
    assert checked == 3


def test_default_preset_changes_training_items_but_none_keeps_the_old_ones(tmp_path):
    root = _blob_root(tmp_path)
    old = PreparedDataset(root, "train", resolution=32, augment=True, seed=3)[0]
    none = PreparedDataset(root, "train", resolution=32, augment=True, seed=3, style_augment="none")[0]
    assert torch.equal(old["input"], none["input"]) and torch.equal(old["augment"], none["augment"])
    styled = [PreparedDataset(root, "train", resolution=32, augment=True, seed=s, style_augment="default")[0]
              for s in range(8)]
    assert any(not torch.equal(a["input"], old["input"]) for a in styled)
    assert all(a["input"][3].sum() > 0 for a in styled)
    still = _blob_root(tmp_path / "still", step=0.0)  # four copies of one picture: the targets must stay the input
    for seed in range(6):
        item = PreparedDataset(still, "train", resolution=32, augment=True, seed=seed, style_augment="strong")[0]
        assert all(torch.equal(t, item["input"]) for t in item["targets"])
    off = PreparedDataset(root, "train", resolution=32, augment=False, seed=3, style_augment="strong")[0]
    assert off["augment"].tolist() == [0.0, 1.0, 0.0, 0.0]  # augment=False (val) turns style off too


def test_squash_makes_half_the_clips_squatter_and_keeps_their_width(tmp_path):
    root = _blob_root(tmp_path)

    def box(x: torch.Tensor) -> tuple[int, int]:  # (height, width) of the alpha > 0.5
        inside = x[3] > 0.5
        return int(inside.any(1).sum()), int(inside.any(0).sum())

    squashed = 0
    for seed in range(12):
        plain = PreparedDataset(root, "train", resolution=32, augment=False, seed=seed)[0]
        item = PreparedDataset(root, "train", resolution=32, augment=True, seed=seed, hflip_p=0.0, affine_p=0.0,
                               squash=0.5)[0]
        (h0, w0), (h, w) = box(plain["input"]), box(item["input"])
        assert w == w0 and h <= h0  # never wider, never taller
        squashed += h < h0
        for frame in item["targets"]:  # every frame alike: the silhouette is squashed in each
            assert box(frame)[0] <= box(plain["input"])[0] + 1
    assert 3 <= squashed <= 9  # about half of the clips
    with pytest.raises(ValueError, match=r"squash must be in \(0, 1\], got 0"):
        PreparedDataset(root, "train", resolution=32, squash=0)
