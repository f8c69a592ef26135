"""The one-file compact pack: palette coding, the file layout, the loader, and prepare_data's --compact_pack."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from train.data.compact_pack import CompactPackDataset, decode_blob, encode_blob, is_compact_pack  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from train.data import prepare_data  # noqa: E402
from train.ship.model_card import data_sources  # noqa: E402
from train.data.pack import palette_indices, write_compact_pack, write_pack  # noqa: E402

R = 16


def make_root(root: Path, rich: bool = False) -> Path:
    """Three short loops in train / val / unseen-val; ``rich`` gives one of them ~1000 colours."""
    rng = np.random.default_rng(0)
    lines = []
    for seq, split, n in (("a#x", "train", 5), ("b#y", "val", 4), ("c#z", "unseen-val", 3)):
        d = root / split / seq
        d.mkdir(parents=True)
        for i in range(n):
            f = np.zeros((R, R, 4), np.uint8)
            f[4:12, 2 + i : 8 + i] = (40 * i, 200, 90, 255)
            f[3, 3] = (1, 2, 3, 128)  # a half-transparent pixel
            if rich and seq == "a#x":
                f[:, :, :3] = rng.integers(0, 256, (R, R, 3))
                f[:, :, 3] = rng.integers(1, 256, (R, R))
            Image.fromarray(f, "RGBA").save(d / f"{i:04d}.png")
        lines.append({"seq": seq, "split": split, "source": "debian:x=1", "source_path": "p", "anim": seq[2:],
                      "character": f"src:{seq[0]}", "fps": 10, "n_frames": n, "size": [R, R], "scale": 1,
                      "loop": True, "license": "CC0-1.0"})
    (root / "manifest.jsonl").write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    return root


def test_palette_is_exact_for_few_colours_and_close_for_many():
    frames = np.zeros((3, 8, 8, 4), np.uint8)
    frames[:, 2:6, 2:6] = (10, 20, 30, 255)
    frames[1, 0, 0] = (5, 5, 5, 40)
    frames[2, 7, 7] = (9, 9, 9, 0)  # transparent with junk colour: index 255
    idx, pal = palette_indices(frames)
    assert len(pal) == 2 and idx[2, 7, 7] == 255 and idx[0, 0, 0] == 255
    _, full = decode_blob(encode_blob(idx, pal), len(pal), 3, 8)
    expected = frames.copy()
    expected[2, 7, 7] = 0
    assert np.array_equal(full[idx], expected)
    rng = np.random.default_rng(1)
    many = rng.integers(0, 256, (4, 16, 16, 4)).astype(np.uint8)
    many[..., 3] = 255
    idx, pal = palette_indices(many)
    assert len(pal) == 255 and idx.max() < 255
    err = np.abs(pal[idx].astype(int) - many.astype(int)).mean()
    assert err < 20  # 1024 random colours into 255: close, not exact
    with pytest.raises(ValueError, match="palette must be uint8"):
        encode_blob(idx, np.zeros((256, 4), np.uint8))


def test_compact_pack_round_trip_matches_the_npz_pack(tmp_path):
    root = make_root(tmp_path / "root")
    path = tmp_path / "p.s2mpack"
    size = write_compact_pack(root, path, resolution=R, workers=1)
    assert size == path.stat().st_size and is_compact_pack(path) and not is_compact_pack(root)
    write_pack(root, tmp_path / "npz", resolution=R, workers=1)
    for split in ("train", "val"):  # few colours: the palette is exact, items equal the npz pack's
        packed = open_dataset(path, split, num_targets=2, seed=4, augment=False)
        assert isinstance(packed, CompactPackDataset)
        npz = open_dataset(tmp_path / "npz", split, num_targets=2, seed=4, augment=False)
        for a, b in zip([packed[0]], [npz[0]]):
            assert torch.equal(a["input"], b["input"]) and torch.equal(a["targets"], b["targets"])
            assert a["seq"] == b["seq"] and a["source"] == "src"
    assert data_sources(path) == [{"source": "debian:x=1", "license": "CC0-1.0", "sequences": 1}]  # for the card
    unseen = open_dataset(path, "unseen-val", num_targets=2, augment=False)
    assert len(unseen) == 1 and unseen[0]["num_frames"] == 3  # the unseen splits travel too
    with pytest.raises(ValueError, match="no split 'test'"):
        open_dataset(path, "test")
    with pytest.raises(ValueError, match="asked for 32"):
        open_dataset(path, "train", resolution=32)


def test_compact_pack_lossy_only_where_colours_overflow_and_errors_are_clear(tmp_path):
    root = make_root(tmp_path / "root", rich=True)
    path = tmp_path / "p.s2mpack"
    write_compact_pack(root, path, resolution=R, workers=1)
    rich = open_dataset(path, "train", num_targets=4, augment=False, seed=0)[0]
    plain = open_dataset(root, "train", resolution=R, num_targets=4, augment=False, seed=0)[0]
    diff = (rich["targets"] - plain["targets"]).abs()
    assert 0 < diff.mean() < 0.08  # random noise through 255 colours: close
    bad = tmp_path / "bad.s2mpack"
    bad.write_bytes(b"NOTAPACK" + b"\0" * 8)
    with pytest.raises(ValueError, match="is not a still2motion-compact-pack"):
        CompactPackDataset(bad)
    cut = tmp_path / "cut.s2mpack"
    cut.write_bytes(path.read_bytes()[:-10])
    ds = CompactPackDataset(cut, "unseen-val", augment=False)
    with pytest.raises(ValueError, match="every sequence failed to load"):
        ds[0]


def test_prepare_data_writes_the_compact_pack(tmp_path, capsys):
    root = make_root(tmp_path / "root")
    out = tmp_path / "pack64.s2mpack"
    assert prepare_data.main(["--out", str(root), "--pack_only", "--compact_pack", str(out), "--pack_resolution",
                              str(R), "--workers", "1"]) == 0
    assert "compact pack" in capsys.readouterr().out and is_compact_pack(out)
