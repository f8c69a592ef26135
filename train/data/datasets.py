"""Datasets of real looping animations: a prepared ROOT, a pack, or a folder of a user's own files.

One item is one real loop of ``N`` frames (its own length, never padded or looped out to a fixed ``T``), letterboxed
to ``R x R`` with ``io.letterbox`` (the function inference uses), premultiplied RGBA float in ``[0, 1]``::

    {"input": (4, R, R), "targets": (S, 4, R, R), "phases": (S,), "offsets": (S,) long, "num_frames": N,
     "start": k, "augment": (4,) = (flip, scale, tx, ty), "seq": str, "source": str}

The input is frame ``k`` (random); the targets are frames ``(k + j) mod N`` at phases ``2 pi j / N``. Offsets ``j``
are ``S`` consecutive values ``j0 … j0+S-1`` inside ``1 … N-1`` (so the input itself is never a target), or ``S``
random distinct ones with ``random_offsets=True``, always in phase order. A loop with ``N - 1 < S`` frames cycles
through ``1 … N-1, 0, 1, …`` (sorted): every target is still a real frame at its true phase.

Randomness comes from ``numpy.random.default_rng([seed, epoch, index])``, so items are the same in any worker and
in any order; call ``set_epoch`` before building each epoch's iterator to draw new ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset, default_collate

from still2motion import io
from train.data.augment import style_config, style_transform

logger = logging.getLogger(__name__)

ANIMATION_SUFFIXES = (".gif", ".png", ".apng", ".webp")
FRAME_SUFFIXES = (".png", ".webp", ".gif", ".jpg", ".jpeg", ".bmp")
PACK_FORMAT = "still2motion-pack"


def letterbox_frames(frames: list[np.ndarray], size: int, resample: str = "auto") -> list[np.ndarray]:
    """Letterboxes straight-RGBA ``uint8 (H, W, 4)`` frames of one size into ``uint8 (size, size, 4)`` frames."""
    return [np.asarray(io.letterbox(Image.fromarray(np.ascontiguousarray(f), "RGBA"), size, resample=resample)[0])
            for f in frames]


def sample_offsets(num_frames: int, num_targets: int, rng: np.random.Generator, random: bool = False) -> np.ndarray:
    """Target offsets ``j`` (sorted, int64) for a loop of ``num_frames`` (see the module docstring)."""
    if num_frames < 2:
        raise ValueError(f"a loop needs at least 2 frames, got {num_frames}")
    n, s = num_frames, num_targets
    if s <= n - 1:
        if random:
            return np.sort(rng.choice(np.arange(1, n), size=s, replace=False)).astype(np.int64)
        j0 = int(rng.integers(1, n - s + 1))
        return np.arange(j0, j0 + s, dtype=np.int64)
    return np.sort(np.arange(1, s + 1) % n).astype(np.int64)


def _resample(x: torch.Tensor, theta: list[list[float]], mode: str) -> torch.Tensor:
    """Every frame of clip ``x (N, 4, R, R)`` through one affine map (output -> input coordinates), zeros outside."""
    grid = F.affine_grid(torch.tensor(theta, dtype=x.dtype).expand(x.shape[0], 2, 3), list(x.shape),
                         align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False).clamp(0, 1)


class LoopDataset(Dataset):
    """Base class: sampling, letterboxing and augmentation; subclasses say where frames come from.

    Args:
        resolution: model resolution ``R``.
        num_targets: ``S``, target frames per item.
        random_offsets: ``S`` random distinct offsets instead of consecutive ones.
        augment: horizontal flip and a small scale/translate of the whole clip (None: on for split "train").
        seed: base seed; items depend on ``(seed, epoch, index)`` only.
        resample: letterbox resampling, ``auto`` (nearest when upscaling), ``nearest`` or ``bilinear``.
        hflip_p: probability of a horizontal flip.
        affine_p: probability of the scale/translate (bilinear resampling, so half the clips stay crisp).
        scale_range: scale drawn log-uniformly from ``[1 - scale_range, 1 + scale_range]``.
        translate: shift drawn uniformly from ``±translate`` (fraction of the canvas half-width).
        style_augment: ``none``, ``default`` or ``strong`` (``augment.STYLE_PRESETS``): colour, edge and resampling
            changes on every frame of a clip alike, and the preset's wider scale/shift (nearest or bilinear) in place
            of ``affine_p``, ``scale_range`` and ``translate``; only when ``augment`` is on.
        squash: below 1, half of the clips are squashed vertically by a factor drawn log-uniformly from
            ``[squash, 1]`` (about the canvas centre, every frame alike): squatter silhouettes, their motion squashed
            with them. Not expressible in ``(flip, scale, tx, ty)``, so not for motion targets.
    """

    def __init__(self, *, resolution: int = 64, num_targets: int = 4, random_offsets: bool = False,
                 augment: bool = True, seed: int = 0, resample: str = "auto", hflip_p: float = 0.5,
                 affine_p: float = 0.5, scale_range: float = 0.1, translate: float = 0.05,
                 style_augment: str = "none", squash: float = 1.0) -> None:
        if resolution < 8 or num_targets < 1:
            raise ValueError(f"need resolution >= 8 and num_targets >= 1, got {resolution}, {num_targets}")
        if not 0 < squash <= 1:
            raise ValueError(f"squash must be in (0, 1], got {squash}")
        self.squash = squash
        io.letterbox_resample(1, 1, 1, resample)  # validates
        self.resolution, self.num_targets, self.random_offsets = resolution, num_targets, random_offsets
        self.augment, self.seed, self.resample, self.epoch = augment, seed, resample, 0
        self.hflip_p, self.affine_p, self.scale_range, self.translate = hflip_p, affine_p, scale_range, translate
        self.style_augment, self.style = style_augment, style_config(style_augment)
        self.skipped: list[tuple[str, str]] = []  # (file or sequence, reason)

    # -- what subclasses provide
    def num_frames(self, index: int) -> int:
        raise NotImplementedError

    def meta(self, index: int) -> tuple[str, str]:
        """``(seq, source)`` of item ``index``."""
        raise NotImplementedError

    def frames(self, index: int, which: list[int]) -> list[np.ndarray]:
        """Frames ``which`` of item ``index``, letterboxed: ``uint8 (R, R, 4)`` straight RGBA each."""
        raise NotImplementedError

    # -- shared
    def set_epoch(self, epoch: int) -> None:
        """Selects the random draws of this epoch (call before creating the DataLoader iterator)."""
        self.epoch = int(epoch)

    def _augment(self, x: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Flip, scale/translate and style the whole clip; returns it and ``(flip, scale, tx, ty)`` for motion targets.

        Only the flip and the scale/translate move pixels; the style transforms (``augment.style_transform``) change
        colours, edges and resampling in place, so the fitted motion follows ``(flip, scale, tx, ty)`` alone.
        """
        st = self.style
        affine_p, lo_hi, shift = ((self.affine_p, (1 - self.scale_range, 1 + self.scale_range), self.translate)
                                  if st is None else (st.affine_p, st.scale_range, st.translate))
        flip = rng.random() < self.hflip_p
        if flip:
            x = x.flip(-1)
        s, tx, ty = 1.0, 0.0, 0.0
        if rng.random() < affine_p:
            s = math.exp(rng.uniform(math.log(lo_hi[0]), math.log(lo_hi[1])))
            tx, ty = (float(v) for v in rng.uniform(-shift, shift, size=2))
            mode = "nearest" if st is not None and rng.random() < st.nearest_p else "bilinear"
            # affine_grid maps output to input coordinates: input = (output - t) / s
            x = _resample(x, [[1 / s, 0, -tx / s], [0, 1 / s, -ty / s]], mode)
        if self.squash < 1 and rng.random() < 0.5:
            q = math.exp(rng.uniform(math.log(self.squash), 0.0))
            x = _resample(x, [[1.0, 0, 0], [0, 1 / q, 0]], "bilinear")
        if st is not None:
            x, _ = style_transform(x, rng, st)
        return x, torch.tensor([float(flip), s, tx, ty])

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        for attempt in range(len(self)):  # a sequence whose files broke since preparation is skipped, not fatal
            i = (index + attempt) % len(self)
            try:
                return self._item(i)
            except (OSError, ValueError, SyntaxError) as exc:
                if not any(name == self.meta(i)[0] for name, _ in self.skipped):
                    self.skipped.append((self.meta(i)[0], str(exc)))
                    logger.warning("skipping sequence %s: %s", self.meta(i)[0], exc)
        raise ValueError(f"every sequence failed to load; first: {self.skipped[0]}")

    def _item(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        n = self.num_frames(index)
        k = int(rng.integers(n))
        offsets = sample_offsets(n, self.num_targets, rng, self.random_offsets)
        which = [k] + [int((k + j) % n) for j in offsets]
        x = torch.stack([io.to_tensor(f) for f in self.frames(index, which)])  # (1 + S, 4, R, R)
        augment = torch.tensor([0.0, 1.0, 0.0, 0.0])  # (flip, scale, tx, ty): identity
        if self.augment:
            x, augment = self._augment(x, rng)
        seq, source = self.meta(index)
        return {"input": x[0], "targets": x[1:], "phases": torch.from_numpy(2 * math.pi * offsets / n).float(),
                "offsets": torch.from_numpy(offsets), "num_frames": n, "start": k, "augment": augment,
                "seq": seq, "source": source}


def collate(batch: list[dict]) -> dict:
    """Stacks items (all shapes are fixed by ``R`` and ``S``); ``num_frames`` becomes a long tensor, strings lists."""
    return default_collate(batch)


class PreparedDataset(LoopDataset):
    """A split of a prepared ROOT (``ROOT/<split>/<seq>/0000.png …`` + ``manifest.jsonl``, docs/data-sources.md)."""

    def __init__(self, root: str | Path, split: str = "train", **kw) -> None:
        kw.setdefault("augment", split == "train")
        super().__init__(**kw)
        self.root = Path(root)
        manifest = self.root / "manifest.jsonl"
        if manifest.is_file():
            lines = [json.loads(ln) for ln in manifest.read_text().splitlines() if ln.strip()]
            self.items = [(ln["seq"], ln["character"].split(":")[0], int(ln["n_frames"]))
                          for ln in lines if ln["split"] == split]
        else:  # a bare FOMM-style folder tree
            folders = sorted(p for p in (self.root / split).iterdir() if p.is_dir()) if (self.root / split).is_dir() else []
            self.items = [(p.name, p.name.split(".")[0], len(list(p.glob("*.png")))) for p in folders]
        self.items = [it for it in self.items if it[2] >= 2]
        if not self.items:
            raise ValueError(f"no sequences for split {split!r} in {self.root}")
        self.split = split

    def __len__(self) -> int:
        return len(self.items)

    def num_frames(self, index: int) -> int:
        return self.items[index][2]

    def meta(self, index: int) -> tuple[str, str]:
        return self.items[index][0], self.items[index][1]

    def frames(self, index: int, which: list[int]) -> list[np.ndarray]:
        folder = self.root / self.split / self.items[index][0]
        raw = []
        for i in which:
            with Image.open(folder / f"{i:04d}.png") as im:
                raw.append(np.asarray(im.convert("RGBA")))
        return letterbox_frames(raw, self.resolution, self.resample)


class PackSplitDataset(LoopDataset):
    """A split of either pack format (this module's ``PackDataset``, ``compact_pack.CompactPackDataset``): its items
    are the pack's sequence rows (``seq``, ``source``, ``n_frames``); a subclass reads their frames."""

    items: list[dict]

    def _open_split(self, info: dict, split: str, where: Path, kw: dict) -> None:
        """``LoopDataset.__init__`` at the pack's resolution, once ``split`` is known to be in ``info["splits"]``."""
        kw.setdefault("augment", split == "train")
        kw.setdefault("resolution", info["resolution"])
        if kw["resolution"] != info["resolution"]:
            raise ValueError(f"pack {where} is at {info['resolution']}², asked for {kw['resolution']}²")
        LoopDataset.__init__(self, **kw)
        if split not in info["splits"]:
            raise ValueError(f"no split {split!r} in pack {where}; it has {sorted(info['splits'])}")

    def __len__(self) -> int:
        return len(self.items)

    def num_frames(self, index: int) -> int:
        return self.items[index]["n_frames"]

    def meta(self, index: int) -> tuple[str, str]:
        return self.items[index]["seq"], self.items[index]["source"]


class PackDataset(PackSplitDataset):
    """A split of a pack (``pack.json`` + ``<split>.npz`` of ``uint8 (N, R, R, 4)`` per sequence, no pickle)."""

    def __init__(self, pack: str | Path, split: str = "train", **kw) -> None:
        self.pack = Path(pack)
        info = json.loads((self.pack / "pack.json").read_text())
        if info.get("format") != PACK_FORMAT:
            raise ValueError(f"{self.pack / 'pack.json'} is not a {PACK_FORMAT} (format={info.get('format')!r})")
        self._open_split(info, split, self.pack, kw)
        self.file = self.pack / info["splits"][split]["file"]
        self.items = [s for s in info["splits"][split]["sequences"] if s["n_frames"] >= 2]
        self._npz, self._pid = None, None

    def frames(self, index: int, which: list[int]) -> list[np.ndarray]:
        if self._npz is None or self._pid != os.getpid():  # one open zip per worker process
            self._npz, self._pid = np.load(self.file, allow_pickle=False), os.getpid()
        arr = self._npz[self.items[index]["key"]]  # (N, R, R, 4) uint8
        return [arr[i] for i in which]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_npz": None, "_pid": None}


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _held_out(names: list[str]) -> set[str]:
    """The automatic val split of a user folder, among its usable entries (see ``FolderDataset``)."""
    digest = {n: int(hashlib.sha1(n.encode()).hexdigest(), 16) for n in names}
    held = {n for n, h in digest.items() if h % 10 == 1}
    if (not held or len(held) == len(names)) and len(names) >= 2:  # val and train both non-empty
        held = {max(names, key=digest.__getitem__)}
    return held


class FolderDataset(LoopDataset):
    """A user's folder: animated GIF / APNG / WebP files and sub-folders of frame images, decoded once.

    Files that fail to decode, or hold a single frame, are skipped with one warning each naming the file; they
    are listed in ``skipped`` as ``(path, reason)``.

    A folder has no splits of its own, so one is made by file name among the usable entries (never a still or an
    unreadable file): ``split="val"`` (or ``"test"``) holds those whose ``sha1(name) % 10 == 1`` — or, if none or all
    hash there and there are two or more, the one with the largest hash — and ``split="train"`` holds the rest;
    ``split=None`` or ``"all"`` holds everything. Skipped files are warned about by the ``"train"``/``"all"`` split.

    Raises:
        ValueError: the folder holds no usable animation.
    """

    def __init__(self, folder: str | Path, split: str | None = None, **kw) -> None:
        kw.setdefault("augment", True)
        super().__init__(**kw)
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"no such folder: {self.folder}")
        self.items: list[tuple[str, list[np.ndarray]]] = []
        self.skipped: list[tuple[str, str]] = []
        entries = [p for p in sorted(self.folder.iterdir(), key=_natural_key)
                   if p.is_dir() or p.suffix.lower() in ANIMATION_SUFFIXES]
        for path in entries:
            try:
                if path.is_dir():
                    frames = self._read_frame_folder(path)
                elif path.suffix.lower() in ANIMATION_SUFFIXES:
                    frames = io.read_animation(path).frames
                else:
                    continue
                if frames is None:
                    continue
                if len(frames) < 2:
                    raise ValueError("not an animation (1 frame)")
            except (OSError, ValueError, SyntaxError) as exc:
                self.skipped.append((str(path), str(exc)))
                logger.log(logging.DEBUG if split in ("val", "test") else logging.WARNING, "skipping %s: %s", path, exc)
                continue
            self.items.append((path.name, [np.ascontiguousarray(f) for f in frames]))
        if split not in (None, "all"):
            held_out = _held_out([name for name, _ in self.items])
            self.items = [item for item in self.items if (item[0] in held_out) == (split in ("val", "test"))]
        if not self.items:
            raise ValueError(f"no usable animations in {self.folder}{'' if split in (None, 'all') else f' (split {split!r})'} (GIF, APNG, animated WebP, or sub-folders of "
                             f"frame PNGs); skipped {len(self.skipped)}")

    @staticmethod
    def _read_frame_folder(path: Path) -> list[np.ndarray] | None:
        files = sorted((p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES), key=_natural_key)
        if not files:
            return None
        frames = [io.read_animation(p).frames[0] for p in files]
        h = max(f.shape[0] for f in frames)
        w = max(f.shape[1] for f in frames)
        out = []
        for f in frames:  # pad to the largest frame, centred
            canvas = np.zeros((h, w, 4), np.uint8)
            top, left = (h - f.shape[0]) // 2, (w - f.shape[1]) // 2
            canvas[top : top + f.shape[0], left : left + f.shape[1]] = f
            out.append(canvas)
        return out

    def __len__(self) -> int:
        return len(self.items)

    def num_frames(self, index: int) -> int:
        return len(self.items[index][1])

    def meta(self, index: int) -> tuple[str, str]:
        return self.items[index][0], "folder"

    def frames(self, index: int, which: list[int]) -> list[np.ndarray]:
        frames = self.items[index][1]
        return letterbox_frames([frames[i] for i in which], self.resolution, self.resample)
