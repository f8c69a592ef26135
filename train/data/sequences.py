"""Full-resolution real loops for evaluation: a prepared ROOT (docs/data-sources.md) or a plain folder of animations.

A prepared ROOT is ``ROOT/{train,val,test,unseen-val,unseen-test}/<seq>/0000.png …`` (RGBA) plus ``ROOT/manifest.jsonl``
(a sequence is found through its manifest row, at ``ROOT/<row split>/<seq>``); without a
manifest the split folders alone are listed (fps 10, source from the name before the first "."). A plain folder
holds GIF / APNG / WebP files and sub-folders of PNG frames, each one sequence (named by its file stem, source
``"user"``); it has no splits, so all of it is evaluated whatever split is asked for. (``train.data.datasets`` reads
the same layouts, but letterboxed to the model resolution; evaluation needs the frames at their native size.)
Frames are read only when ``Sequence.load()`` is called.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from still2motion import io

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test", "unseen-val", "unseen-test")  # unseen-*: held-out sources (docs/evaluation.md)
ANIMATION_SUFFIXES = (".gif", ".png", ".apng", ".webp")
DEFAULT_FPS = 10.0


@dataclass
class Sequence:
    """One real loop.

    Attributes:
        seq: unique name (``<src>.<character>#<anim>`` in a prepared ROOT, the file stem in a plain folder).
        source: short source name for per-source tables (``"widelands"``, ``"wesnoth"``, ``"user"``, ...).
        split: ``"train"``, ``"val"``, ``"test"``, or ``"all"`` for a plain folder.
        fps: frames per second from the manifest; ``None`` for a file (``load`` reads it from the durations).
        path: the sequence folder (prepared) or the animation file (plain folder).
        character: the manifest's ``character`` (``"<src>:<path>"``), else the name before ``#``: the unit the
            bootstrap resamples (``train/evaluate/bootstrap.py``), so one character's loops are never split.
    """

    seq: str
    source: str
    split: str
    fps: float | None
    path: Path
    character: str = ""

    def __post_init__(self) -> None:
        self.character = self.character or self.seq.split("#", 1)[0]

    def load(self) -> tuple[list[np.ndarray], float]:
        """The loop's frames (``np.uint8 (H, W, 4)`` straight RGBA, all one size) and its fps.

        Raises:
            ValueError: no frames, frames of different sizes, or an unreadable file (one line naming it).
        """
        fps = self.fps or DEFAULT_FPS
        if self.path.is_dir():
            files = sorted(self.path.glob("*.png"))
            if not files:
                raise ValueError(f"sequence folder '{self.path}' holds no .png frames")
            frames = [np.asarray(io.read_image(f).image) for f in files]
        else:
            data = io.read_animation(self.path)
            frames = list(data.frames)
            durations = [d for d in data.durations_ms if d > 0]
            if self.fps is None and durations:
                fps = 1000.0 * len(durations) / sum(durations)
        sizes = {f.shape for f in frames}
        if len(sizes) != 1:
            raise ValueError(f"frames of '{self.path}' differ in size: {sorted(sizes)}")
        return frames, fps


def short_source(record: dict) -> str:
    """``"widelands"`` from a manifest record: the prefix of ``character`` (``"<src>:<path>"``), else of ``seq``."""
    character = record.get("character")
    if isinstance(character, str) and ":" in character:
        return character.split(":", 1)[0]
    return str(record["seq"]).split(".", 1)[0].split("#", 1)[0]


def manifest_records(root: Path) -> list[dict]:
    """The records of ``root/manifest.jsonl`` (blank lines skipped); one-line errors naming the line."""
    path = root / "manifest.jsonl"
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number} is not valid JSON: {exc}") from None
        if not isinstance(record, dict) or "seq" not in record or "split" not in record:
            raise ValueError(f"{path}:{number} must be a JSON object with 'seq' and 'split'")
        records.append(record)
    return records


def is_prepared(root: Path) -> bool:
    """Whether ``root`` looks like a prepared ROOT (a manifest or any split folder)."""
    return (root / "manifest.jsonl").is_file() or any((root / s).is_dir() for s in SPLITS)


def list_sequences(root: str | Path, split: str) -> list[Sequence]:
    """The sequences of ``split`` under ``root``, sorted by name.

    Args:
        root: a prepared ROOT or a plain folder of animation files.
        split: one of ``SPLITS`` (ignored for a plain folder: all its files).

    Raises:
        FileNotFoundError: ``root`` does not exist, or a manifest names a sequence folder that is missing.
        ValueError: an unknown split, or a manifest line that is not valid.
    """
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"data directory '{root}' does not exist")
    if not is_prepared(root):
        paths = sorted(
            p for p in root.iterdir()
            if (p.is_file() and p.suffix.lower() in ANIMATION_SUFFIXES) or (p.is_dir() and any(p.glob("*.png")))
        )
        if paths:
            logger.info("'%s' is a plain folder (no manifest, no split folders): evaluating all %d", root, len(paths))
        return [Sequence(p.stem if p.is_file() else p.name, "user", "all", None, p) for p in paths]
    if (root / "manifest.jsonl").is_file():
        out = []
        for record in manifest_records(root):
            if record["split"] != split:
                continue
            folder = root / split / record["seq"]
            if not folder.is_dir():
                raise FileNotFoundError(f"manifest names '{record['seq']}' but '{folder}' does not exist")
            fps = float(record.get("fps") or DEFAULT_FPS)
            character = str(record.get("character") or "")
            out.append(Sequence(record["seq"], short_source(record), split, fps, folder, character))
        return sorted(out, key=lambda s: s.seq)
    folder = root / split
    if not folder.is_dir():
        return []
    folders = sorted(p for p in folder.iterdir() if p.is_dir())
    return [Sequence(p.name, short_source({"seq": p.name}), split, DEFAULT_FPS, p) for p in folders]



def select(sequences: list[Sequence], *, sources: list[str] | None = None, max_sequences: int | None = None) -> list[Sequence]:
    """The sequences of ``sources`` (short names; all when ``None``), then every k-th with ``k = ceil(n / N)`` so at
    most ``max_sequences`` remain, spread over sources and names (the order is by name)."""
    if sources:
        sequences = [s for s in sequences if s.source in sources]
    if max_sequences is not None and 0 < max_sequences < len(sequences):
        sequences = sequences[:: -(-len(sequences) // max_sequences)]
    return sequences
