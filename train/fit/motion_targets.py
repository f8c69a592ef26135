"""Fitted motion targets on disk: one safetensors file of per-sequence ``Motion`` coefficients.

Written by ``train/fit/fit_motion.py``, read by ``train/train.py`` (coefficient regression) and ``train/evaluate/evaluate.py``
(the ``random-motion`` baseline). Keys ``masks (N, K, Hm, Wm)``, ``affine (N, K, 6, M, 2)``,
``flow (N, K, 2, M, 2, Hf, Wf)`` and ``l1`` / ``static_l1`` ``(N,)``; metadata ``seqs`` (JSON list, row order) and
``config`` (JSON: resolution, num_layers, num_harmonics, flow size, steps). Each trajectory is anchored at frame 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from still2motion.motion import Motion


def _read(path: str | Path) -> tuple[list[str], dict, dict[str, torch.Tensor]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "seqs" not in meta:
        raise ValueError(f"{path} is not a motion-targets file (no 'seqs' metadata)")
    return json.loads(meta["seqs"]), json.loads(meta.get("config", "{}")), load_file(str(path))


def save_targets(path: str | Path, seqs: list[str], motion: Motion, config: dict, extra: dict[str, torch.Tensor] | None = None) -> None:
    """Writes the targets atomically (temp file + rename)."""
    path = Path(path)
    tensors = {"masks": motion.masks, "affine": motion.affine, "flow": motion.flow, **(extra or {})}
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"seqs": json.dumps(seqs), "config": json.dumps(config)})
    tmp.replace(path)


class MotionTargets:
    """Fitted motions by sequence name, from one file or from the shards of one fit (``--shard K/N``) read together.

    Raises:
        ValueError: a file is not a motion-targets file, shards disagree on their tensors, or a sequence is in two.
    """

    def __init__(self, path: str | Path | list | tuple) -> None:
        paths = list(path) if isinstance(path, (list, tuple)) else [path]
        parts = [_read(p) for p in paths]
        self.seqs: list[str] = [s for seqs, _, _ in parts for s in seqs]
        self.config: dict = parts[0][1]
        keys = set(parts[0][2])
        if any(set(tensors) != keys for _, _, tensors in parts):
            raise ValueError(f"motion-targets files {[str(p) for p in paths]} hold different tensors")
        self.tensors = {k: torch.cat([tensors[k] for _, _, tensors in parts]) for k in parts[0][2]}
        self.index = {s: i for i, s in enumerate(self.seqs)}
        if len(self.index) < len(self.seqs):
            raise ValueError(f"motion-targets files {[str(p) for p in paths]} fit some sequence twice")

    def __len__(self) -> int:
        return len(self.seqs)

    def __contains__(self, seq: str) -> bool:
        return seq in self.index

    def motion(self, rows: list[int] | torch.Tensor) -> Motion:
        rows = torch.as_tensor(rows, dtype=torch.long)
        return Motion(self.tensors["masks"][rows], self.tensors["affine"][rows], self.tensors["flow"][rows])

    def for_seqs(self, seqs: list[str]) -> tuple[Motion, torch.Tensor]:
        """Motions for ``seqs`` (rows of unknown sequences are zero) and a ``(B,)`` bool mask of which were known."""
        known = torch.tensor([s in self.index for s in seqs])
        rows = [self.index.get(s, 0) for s in seqs]
        motion = self.motion(rows)
        keep = known.to(motion.affine.dtype)
        return Motion(motion.masks, motion.affine * keep.view(-1, 1, 1, 1, 1), motion.flow * keep.view(-1, 1, 1, 1, 1, 1, 1)), known
