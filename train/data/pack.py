"""Pack a prepared ROOT into one compressed uint8 archive per split at a fixed resolution.

Layout of ``DIR``::

    pack.json        {"format": "still2motion-pack", "version": 1, "resolution": R, "resample": "auto",
                      "splits": {"train": {"file": "train.npz", "sequences": [{"key", "seq", "source", "package",
                      "character", "anim", "fps", "n_frames", "size", "box", "license"}, ...]}, ...}}
    train.npz        one member per sequence: uint8 (N, R, R, 4) straight RGBA, letterboxed with io.letterbox
    val.npz, test.npz
    manifest.jsonl   the ROOT's manifest, for provenance and licences

An ``.npz`` is a zip of ``.npy`` members, deflated (sprites are mostly transparent) and read one sequence at a time
with ``np.load(..., allow_pickle=False)``; ``train.data.datasets.PackDataset`` reads it.

``write_compact_pack`` writes every split (the unseen ones too) into ONE ``.s2mpack`` file instead: per sequence a
palette of <= 255 colours (its own colours when it has that few, else fitted: octree, then a few weighted k-means
steps in premultiplied RGBA) and the zlib-compressed indices (``train.data.compact_pack`` has the layout and the
reader). About 3x smaller than the ``.npz`` pack, lossy only where a sequence has more than 255 colours.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from train.data.compact_pack import COMPACT_FORMAT, MAGIC, TRANSPARENT, encode_blob
from train.data.datasets import PACK_FORMAT, letterbox_frames
from still2motion.io import letterbox_box, letterbox_resample
from train.data.build_dataset import SPLITS, UNSEEN_SPLITS, read_manifest
from train.data.workers import worker_pool


def _letterboxed(job: tuple[str, int, int, str]) -> tuple[np.ndarray, list[int]]:
    folder, n_frames, size, resample = job
    frames = []
    for i in range(n_frames):
        with Image.open(Path(folder) / f"{i:04d}.png") as im:
            frames.append(np.asarray(im.convert("RGBA")))
    h, w = frames[0].shape[:2]
    box = letterbox_box(w, h, size)
    return np.stack(letterbox_frames(frames, size, resample)), list(box)


def _checked_manifest(root: Path, resolution: int, resample: str) -> list[dict]:
    """The manifest of ``root``, once ``resolution`` and ``resample`` are known to be valid."""
    if resolution < 8:
        raise ValueError(f"pack resolution must be >= 8, got {resolution}")
    letterbox_resample(1, 1, 1, resample)
    return read_manifest(root)


def _split_jobs(root: Path, lines: list[dict], split: str, resolution: int,
                resample: str) -> tuple[list[dict], list[tuple[str, int, int, str]]]:
    """The manifest rows of ``split`` by ``seq``, and a ``_letterboxed`` job for each."""
    rows = sorted((ln for ln in lines if ln["split"] == split), key=lambda x: x["seq"])
    return rows, [(str(root / split / ln["seq"]), ln["n_frames"], resolution, resample) for ln in rows]


def _sequence_row(ln: dict, n_frames: int, box: list[int]) -> dict:
    """What both pack formats record of a sequence (its manifest line, its frame count and letterbox box)."""
    return {"seq": ln["seq"], "source": ln["character"].split(":")[0], "package": ln["source"],
            "character": ln["character"], "anim": ln["anim"], "fps": ln["fps"], "n_frames": n_frames,
            "size": ln["size"], "box": box, "license": ln["license"]}


def write_pack(root: str | Path, out: str | Path, resolution: int = 64, resample: str = "auto",
               workers: int = 2) -> dict[str, int]:
    """Writes the pack of ``root`` into ``out``; returns the bytes of each split's archive.

    Raises:
        FileNotFoundError: ``root`` has no manifest.
        ValueError: a bad resolution or resample mode.
    """
    root, out = Path(root), Path(out)
    lines = _checked_manifest(root, resolution, resample)
    out.mkdir(parents=True, exist_ok=True)
    info = {"format": PACK_FORMAT, "version": 1, "resolution": resolution, "resample": resample, "splits": {}}
    sizes = {}
    with worker_pool(workers) as pool:
        for split in SPLITS:
            rows, jobs = _split_jobs(root, lines, split, resolution, resample)
            if not rows:
                continue
            path, tmp = out / f"{split}.npz", out / f"{split}.npz.tmp"
            seqs = []
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                results = pool.imap(_letterboxed, jobs, chunksize=8)
                for i, (ln, (arr, box)) in enumerate(tqdm(zip(rows, results), total=len(rows), desc=f"pack {split}",
                                                        unit="seq")):
                    key = f"{i:06d}"
                    with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array(f, arr, allow_pickle=False)
                    seqs.append({"key": key, **_sequence_row(ln, int(arr.shape[0]), box)})
            os.replace(tmp, path)
            sizes[split] = path.stat().st_size
            info["splits"][split] = {"file": path.name, "sequences": seqs}
    shutil.copyfile(root / "manifest.jsonl", out / "manifest.jsonl")
    (out / "pack.json.tmp").write_text(json.dumps(info))
    os.replace(out / "pack.json.tmp", out / "pack.json")
    return sizes


def _premultiplied(colors: np.ndarray) -> np.ndarray:
    c = colors.astype(np.float32)
    c[:, :3] *= c[:, 3:] / 255.0
    return c


def _nearest(points: np.ndarray, centres: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Index of the nearest centre (squared distance) for each point, in chunks to bound memory."""
    c2 = (centres**2).sum(1)[None]
    out = np.empty(len(points), np.int64)
    for i in range(0, len(points), chunk):
        p = points[i : i + chunk]
        out[i : i + chunk] = ((p**2).sum(1)[:, None] - 2 * p @ centres.T + c2).argmin(1)
    return out


def palette_indices(frames: np.ndarray, iterations: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Straight-RGBA ``uint8 (N, R, R, 4)`` -> ``(indices uint8 (N, R, R), palette uint8 (C <= 255, 4))``.

    Fully transparent pixels get index 255 (exact). A sequence with <= 255 other colours keeps them exactly;
    otherwise Pillow's octree picks 255 and ``iterations`` k-means steps, weighted by pixel counts and measured in
    premultiplied RGBA (so faint shadow pixels cost little), refine them.
    """
    flat = frames.reshape(-1, 4)
    visible = flat[:, 3] > 0
    colors, inverse, counts = np.unique(np.ascontiguousarray(flat[visible]).view(np.uint32).ravel(),
                                        return_inverse=True, return_counts=True)
    colors = colors.view(np.uint8).reshape(-1, 4)
    if len(colors) <= TRANSPARENT:
        palette, labels = colors, np.arange(len(colors))
    else:
        octree = Image.fromarray(colors[None]).quantize(TRANSPARENT, method=Image.Quantize.FASTOCTREE)
        palette = np.asarray(octree.getpalette("RGBA"), np.uint8).reshape(-1, 4)[:TRANSPARENT].astype(np.float32)
        points, weights = _premultiplied(colors), counts.astype(np.float32)
        for _ in range(iterations):
            labels = _nearest(points, _premultiplied(np.clip(palette, 0, 255)))
            sums = np.zeros_like(palette)
            np.add.at(sums, labels, colors.astype(np.float32) * weights[:, None])
            mass = np.bincount(labels, weights, len(palette))
            palette[mass > 0] = sums[mass > 0] / mass[mass > 0, None]
        palette = np.clip(np.rint(palette), 0, 255).astype(np.uint8)
        labels = _nearest(points, _premultiplied(palette))
    indices = np.full(len(flat), TRANSPARENT, np.uint8)
    indices[visible] = labels[inverse.ravel()]
    return indices.reshape(frames.shape[:3]), np.ascontiguousarray(palette)


def _compact_blob(job: tuple[str, int, int, str]) -> tuple[bytes, list[int], int, int]:
    frames, box = _letterboxed(job)
    indices, palette = palette_indices(frames)
    return encode_blob(indices, palette), box, len(palette), int(frames.shape[0])


def write_compact_pack(root: str | Path, out: str | Path, resolution: int = 64, resample: str = "auto",
                       workers: int = 2, splits: tuple[str, ...] = SPLITS + UNSEEN_SPLITS) -> int:
    """Writes every split of ``root`` that has sequences into the one file ``out``; returns its size in bytes.

    Raises:
        FileNotFoundError: ``root`` has no manifest.
        ValueError: a bad resolution or resample mode.
    """
    root, out = Path(root), Path(out)
    lines = _checked_manifest(root, resolution, resample)
    info = {"format": COMPACT_FORMAT, "version": 1, "resolution": resolution, "resample": resample,
            "codec": "palette-zlib", "splits": {}, "manifest": sorted(lines, key=lambda x: x["seq"])}
    blobs, offset = [], 0
    with worker_pool(workers) as pool:
        for split in splits:
            rows, jobs = _split_jobs(root, lines, split, resolution, resample)
            if not rows:
                continue
            seqs = []
            results = pool.imap(_compact_blob, jobs, chunksize=4)
            for ln, (blob, box, colors, n) in tqdm(zip(rows, results), total=len(rows), desc=f"compact {split}",
                                                   unit="seq"):
                seqs.append({**_sequence_row(ln, n, box), "offset": offset, "length": len(blob), "colors": colors})
                blobs.append(blob)
                offset += len(blob)
            info["splits"][split] = seqs
    return _write_compact_file(Path(out), info, blobs)


def filter_compact_pack(src: str | Path, out: str | Path, sources: set[str] | None = None,
                        drop: set[str] | None = None) -> int:
    """Copies the sequences of ``sources`` (or all but ``drop``) of compact pack ``src`` into ``out``; blobs are
    copied byte for byte, so the result equals packing the ROOT restricted to those sources. Returns its size.

    Raises:
        ValueError: ``src`` is not a compact pack, or nothing is left.
    """
    from train.data.compact_pack import read_header

    info, start = read_header(src)

    def keep(row: dict) -> bool:
        name = row["character"].split(":")[0]
        return (sources is None or name in sources) and (drop is None or name not in drop)

    new = {**info, "splits": {}, "manifest": [ln for ln in info["manifest"] if keep(ln)]}
    blobs, offset = [], 0
    with open(src, "rb") as f:
        for split, rows in info["splits"].items():
            kept = []
            for row in rows:
                if not keep(row):
                    continue
                f.seek(start + row["offset"])
                blobs.append(f.read(row["length"]))
                kept.append({**row, "offset": offset})
                offset += row["length"]
            if kept:
                new["splits"][split] = kept
    if not blobs:
        raise ValueError(f"no sequences of sources {sorted(sources or [])} left in {src}")
    return _write_compact_file(Path(out), new, blobs)


def _write_compact_file(out: Path, info: dict, blobs: list[bytes]) -> int:
    """Writes a compact pack (magic, header length, zlib JSON header, blobs) atomically; returns its size."""
    header = zlib.compress(json.dumps(info, separators=(",", ":")).encode(), 9)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(MAGIC + struct.pack("<Q", len(header)) + header)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, out)
    return out.stat().st_size
