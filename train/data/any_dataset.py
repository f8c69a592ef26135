"""``open_dataset``: whichever kind of training data a path holds (compact pack, pack, prepared ROOT, folder)."""

from __future__ import annotations

from pathlib import Path

from train.data.compact_pack import CompactPackDataset
from train.data.datasets import FolderDataset, LoopDataset, PackDataset, PreparedDataset


def open_dataset(path: str | Path, split: str = "train", **kw) -> LoopDataset:
    """Opens a compact pack file (``*.s2mpack``), a pack (``pack.json``), a prepared ROOT (``manifest.jsonl`` or
    ``<split>/``) or a user's folder.

    Args:
        path: the folder, or a compact pack file.
        split: ``train``, ``val`` or ``test``; a user's folder is split by file name (see ``FolderDataset``),
            ``"all"`` takes all of it.
        **kw: `LoopDataset` options (``resolution``, ``num_targets``, ``random_offsets``, ``augment``, ``seed`` ...).

    Raises:
        FileNotFoundError: ``path`` is not a folder or a compact pack.
        ValueError: nothing usable in it.
    """
    path = Path(path)
    if path.is_file():
        return CompactPackDataset(path, split, **kw)
    if not path.is_dir():
        raise FileNotFoundError(f"no such dataset folder: {path}")
    if (path / "pack.json").is_file():
        return PackDataset(path, split, **kw)
    if (path / "manifest.jsonl").is_file() or (path / split).is_dir():
        return PreparedDataset(path, split, **kw)
    return FolderDataset(path, split, **kw)
