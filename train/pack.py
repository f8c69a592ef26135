"""Pack a prepared ROOT into one compressed uint8 archive per split at a fixed resolution.

Layout of ``DIR``::

    pack.json        {"format": "still2motion-pack", "version": 1, "resolution": R, "resample": "auto",
                      "splits": {"train": {"file": "train.npz", "sequences": [{"key", "seq", "source", "package",
                      "character", "anim", "fps", "n_frames", "size", "box", "license"}, ...]}, ...}}
    train.npz        one member per sequence: uint8 (N, R, R, 4) straight RGBA, letterboxed with io.letterbox
    val.npz, test.npz
    manifest.jsonl   the ROOT's manifest, for provenance and licences

An ``.npz`` is a zip of ``.npy`` members, deflated (sprites are mostly transparent) and read one sequence at a time
with ``np.load(..., allow_pickle=False)``; ``still2motion.data.PackDataset`` reads it.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from still2motion.data import PACK_FORMAT, letterbox_frames
from still2motion.io import letterbox_box, letterbox_resample
from train.build_dataset import SPLITS, read_manifest


def _letterboxed(job: tuple[str, int, int, str]) -> tuple[np.ndarray, list[int]]:
    folder, n_frames, size, resample = job
    frames = []
    for i in range(n_frames):
        with Image.open(Path(folder) / f"{i:04d}.png") as im:
            frames.append(np.asarray(im.convert("RGBA")))
    h, w = frames[0].shape[:2]
    box = letterbox_box(w, h, size)
    return np.stack(letterbox_frames(frames, size, resample)), list(box)


def write_pack(root: str | Path, out: str | Path, resolution: int = 64, resample: str = "auto",
               workers: int = 2) -> dict[str, int]:
    """Writes the pack of ``root`` into ``out``; returns the bytes of each split's archive.

    Raises:
        FileNotFoundError: ``root`` has no manifest.
        ValueError: a bad resolution or resample mode.
    """
    root, out = Path(root), Path(out)
    if resolution < 8:
        raise ValueError(f"pack resolution must be >= 8, got {resolution}")
    letterbox_resample(1, 1, 1, resample)
    lines = read_manifest(root)
    out.mkdir(parents=True, exist_ok=True)
    info = {"format": PACK_FORMAT, "version": 1, "resolution": resolution, "resample": resample, "splits": {}}
    sizes = {}
    with Pool(workers) as pool:
        for split in SPLITS:
            rows = sorted((ln for ln in lines if ln["split"] == split), key=lambda x: x["seq"])
            if not rows:
                continue
            jobs = [(str(root / split / ln["seq"]), ln["n_frames"], resolution, resample) for ln in rows]
            path, tmp = out / f"{split}.npz", out / f"{split}.npz.tmp"
            seqs = []
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                results = pool.imap(_letterboxed, jobs, chunksize=8)
                for i, (ln, (arr, box)) in enumerate(tqdm(zip(rows, results), total=len(rows), desc=f"pack {split}",
                                                        unit="seq")):
                    key = f"{i:06d}"
                    with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array(f, arr, allow_pickle=False)
                    seqs.append({"key": key, "seq": ln["seq"], "source": ln["character"].split(":")[0],
                                 "package": ln["source"], "character": ln["character"], "anim": ln["anim"], "fps": ln["fps"],
                                 "n_frames": int(arr.shape[0]), "size": ln["size"], "box": box,
                                 "license": ln["license"]})
            os.replace(tmp, path)
            sizes[split] = path.stat().st_size
            info["splits"][split] = {"file": path.name, "sequences": seqs}
    shutil.copyfile(root / "manifest.jsonl", out / "manifest.jsonl")
    (out / "pack.json.tmp").write_text(json.dumps(info))
    os.replace(out / "pack.json.tmp", out / "pack.json")
    return sizes
