"""train.data.datasets: sampling, phases, premultiplication, user folders, packs (synthetic data made in code)."""

import json
import logging
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from train.data.datasets import (  # noqa: E402
    FolderDataset, PackDataset, PreparedDataset, collate, sample_offsets)
from train.data.any_dataset import open_dataset  # noqa: E402
from train.data.workers import loader_context  # noqa: E402

R = 16


def coded_frame(i: int, size: int = R, alpha: int = 255) -> np.ndarray:
    """An opaque frame whose colour encodes its index: red = 5 i, green = 255 - 5 i."""
    f = np.zeros((size, size, 4), np.uint8)
    f[...] = (5 * i, 255 - 5 * i, 7, alpha)
    return f


def frame_index(t: torch.Tensor) -> int:
    return round(float(t[0, R // 2, R // 2]) * 255 / 5)


def make_root(root: Path, lengths: dict[str, int], split: str = "train") -> Path:
    lines = []
    for seq, n in lengths.items():
        d = root / split / seq
        d.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(coded_frame(i), "RGBA").save(d / f"{i:04d}.png")
        lines.append({"seq": seq, "split": split, "source": "debian:x=1", "source_path": "p", "character": f"src:{seq}",
                      "anim": "a", "fps": 10, "n_frames": n, "size": [R, R], "scale": 1, "loop": True,
                      "license": "CC0-1.0"})
    (root / "manifest.jsonl").write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    return root


@pytest.mark.parametrize("n", [4, 30])
@pytest.mark.parametrize("random_offsets", [False, True])
def test_targets_are_the_right_frames_at_the_right_phases(tmp_path, n, random_offsets):
    ds = PreparedDataset(make_root(tmp_path, {"src.a#loop": n}), "train", resolution=R, num_targets=3,
                         random_offsets=random_offsets, augment=False)
    wrapped = 0
    for epoch in range(25):
        ds.set_epoch(epoch)
        item = ds[0]
        k = frame_index(item["input"])
        offsets = item["offsets"].tolist()
        assert item["num_frames"] == n and item["targets"].shape == (3, 4, R, R)
        assert offsets == sorted(offsets) and all(1 <= j <= n - 1 for j in offsets)  # input is never a target
        assert len(set(offsets)) == 3
        if not random_offsets:
            assert offsets == list(range(offsets[0], offsets[0] + 3))
        for t, j in enumerate(offsets):
            assert frame_index(item["targets"][t]) == (k + j) % n
            assert item["phases"][t].item() == pytest.approx(2 * math.pi * j / n)
        wrapped += any(k + j >= n for j in offsets)
    assert wrapped > 0  # wrap-around was exercised


def test_short_loops_cycle_offsets_without_padding():
    rng = np.random.default_rng(0)
    assert sample_offsets(3, 4, rng).tolist() == [0, 1, 1, 2]  # 1, 2, 0, 1 sorted: real frames, true phases
    assert sample_offsets(5, 4, rng).tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="at least 2 frames, got 1"):
        sample_offsets(1, 4, rng)


def test_premultiplied_and_deterministic(tmp_path):
    root = tmp_path / "r"
    d = root / "train" / "s#a"
    d.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(coded_frame(i, alpha=128), "RGBA").save(d / f"{i:04d}.png")
    ds = PreparedDataset(root, "train", resolution=R, num_targets=2, seed=3)  # bare folders, no manifest
    item = ds[0]
    a = 128 / 255
    green = float(item["input"][1, 8, 8])
    assert float(item["input"][3, 8, 8]) == pytest.approx(a)
    assert any(green == pytest.approx((255 - 5 * i) / 255 * a, abs=1e-6) for i in range(4))
    again = PreparedDataset(root, "train", resolution=R, num_targets=2, seed=3)[0]
    assert all(torch.equal(item[key], again[key]) for key in ("input", "targets", "offsets"))


def test_letterbox_and_flip_augmentation(tmp_path):
    root = tmp_path / "r"
    d = root / "train" / "s#a"
    d.mkdir(parents=True)
    for i in range(4):
        f = np.zeros((8, 4, 4), np.uint8)  # tall 4 x 8: letterboxed to 8 x 16 centred, nearest (upscale)
        f[:, 0] = (255, 0, 0, 255)  # left column red
        Image.fromarray(f, "RGBA").save(d / f"{i:04d}.png")
    plain = PreparedDataset(root, "train", resolution=R, augment=False)[0]["input"]
    assert plain[3, :, 4:6].min() == 1 and plain[3, :, :4].max() == 0 and plain[3, :, 6:].max() == 0
    flipped = PreparedDataset(root, "train", resolution=R, augment=True, hflip_p=1.0, affine_p=0.0)[0]["input"]
    assert torch.equal(flipped, plain.flip(-1))


def save_gif(path: Path, n: int) -> None:
    frames = [Image.fromarray(coded_frame(i, 12), "RGBA") for i in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0, disposal=2)


def save_apng(path: Path, n: int) -> None:
    frames = [Image.fromarray(coded_frame(i, 12), "RGBA") for i in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0, disposal=1, blend=0)


def test_user_folder_gif_apng_webp_frames_and_bad_files(tmp_path, caplog):
    save_gif(tmp_path / "walk.gif", 5)
    save_apng(tmp_path / "idle.png", 6)
    webp = [Image.fromarray(coded_frame(i, 12), "RGBA") for i in range(3)]
    webp[0].save(tmp_path / "blink.webp", save_all=True, append_images=webp[1:], duration=100, loop=0, lossless=True)
    sub = tmp_path / "wave"
    sub.mkdir()
    for i in range(12):  # natural order: 2 before 10
        Image.fromarray(coded_frame(i, 10), "RGBA").save(sub / f"f{i}.png")
    (tmp_path / "broken.gif").write_bytes(b"GIF89a garbage")
    Image.fromarray(coded_frame(0), "RGBA").save(tmp_path / "still.png")
    (tmp_path / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING, logger="train.data.datasets"):
        ds = open_dataset(tmp_path, "all", resolution=R, num_targets=3, augment=False)
    assert isinstance(ds, FolderDataset)
    assert {ds.meta(i)[0]: ds.num_frames(i) for i in range(len(ds))} == {"blink.webp": 3, "idle.png": 6, "walk.gif": 5,
                                                                           "wave": 12}
    assert sorted(Path(p).name for p, _ in ds.skipped) == ["broken.gif", "still.png"]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2 and any("broken.gif" in m for m in warned) and any("still.png" in m for m in warned)
    wave = next(i for i in range(len(ds)) if ds.meta(i)[0] == "wave")
    item = ds[wave]
    k = frame_index(item["input"])
    assert [frame_index(t) for t in item["targets"]] == [(k + j) % 12 for j in item["offsets"].tolist()]


def test_empty_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no usable animations in .*empty"):
        FolderDataset(empty)
    with pytest.raises(FileNotFoundError, match="no such dataset folder"):
        open_dataset(tmp_path / "missing")


def test_pack_round_trip_and_loader(tmp_path):
    from train.data.pack import write_pack

    root = make_root(tmp_path / "root", {"src.a#x": 4, "src.b#y": 7})
    sizes = write_pack(root, tmp_path / "pack", resolution=R, workers=1)
    assert set(sizes) == {"train"} and sizes["train"] > 0
    info = json.loads((tmp_path / "pack" / "pack.json").read_text())
    assert info["resolution"] == R and [s["n_frames"] for s in info["splits"]["train"]["sequences"]] == [4, 7]
    arrays = np.load(tmp_path / "pack" / "train.npz", allow_pickle=False)
    assert arrays["000001"].shape == (7, R, R, 4) and arrays["000001"].dtype == np.uint8
    packed = open_dataset(tmp_path / "pack", "train", num_targets=3, seed=1, augment=False)
    assert isinstance(packed, PackDataset)
    prepared = open_dataset(root, "train", resolution=R, num_targets=3, seed=1, augment=False)
    for i in range(2):
        a, b = packed[i], prepared[i]
        assert a["seq"] == b["seq"] and all(torch.equal(a[k], b[k]) for k in ("input", "targets", "phases"))
    with pytest.raises(ValueError, match="at 16², asked for 32²"):
        PackDataset(tmp_path / "pack", "train", resolution=32)
    loader = torch.utils.data.DataLoader(packed, batch_size=2, num_workers=1, collate_fn=collate,
                                         multiprocessing_context=loader_context(1))
    batch = next(iter(loader))
    assert batch["targets"].shape == (2, 3, 4, R, R) and batch["num_frames"].tolist() == [4, 7]
    assert batch["seq"] == ["src.a#x", "src.b#y"]


def test_user_folder_gets_an_automatic_val_split_by_file(tmp_path):
    from train.data.any_dataset import open_dataset
    from PIL import Image

    for i in range(6):
        frames = [Image.new("RGBA", (8, 8), (40 * i, 10 * t, 0, 255)) for t in range(3)]
        frames[0].save(tmp_path / f"loop{i}.png", save_all=True, append_images=frames[1:], duration=100)
    train = open_dataset(tmp_path, "train", resolution=16)
    val = open_dataset(tmp_path, "val", resolution=16)
    train_names = {train.meta(i)[0] for i in range(len(train))}
    val_names = {val.meta(i)[0] for i in range(len(val))}
    assert val_names and train_names and not train_names & val_names
    assert len(train_names | val_names) == 6
    assert len(open_dataset(tmp_path, "all", resolution=16)) == 6
    again = open_dataset(tmp_path, "val", resolution=16)
    assert {again.meta(i)[0] for i in range(len(again))} == val_names  # stable


def test_automatic_val_split_never_picks_a_still_or_an_unreadable_file(tmp_path, caplog):
    for name in ("walk.gif", "idle.gif", "jump.gif"):
        save_gif(tmp_path / name, 4)
    Image.fromarray(coded_frame(0), "RGBA").save(tmp_path / "still.png")  # sha1 % 10 == 1: the old rule held it out
    (tmp_path / "broken7.gif").write_bytes(b"GIF89a garbage")  # so did this one
    with caplog.at_level(logging.WARNING, logger="train.data.datasets"):
        train = open_dataset(tmp_path, "train", resolution=R)
        val = open_dataset(tmp_path, "val", resolution=R)
    train_names = {train.meta(i)[0] for i in range(len(train))}
    val_names = {val.meta(i)[0] for i in range(len(val))}
    assert len(val_names) == 1 and len(train_names) == 2 and train_names | val_names == {"walk.gif", "idle.gif", "jump.gif"}
    assert sorted(Path(p).name for p, _ in val.skipped) == ["broken7.gif", "still.png"]
    assert len(caplog.records) == 2  # the skipped files are warned about once (by the train split), not twice
