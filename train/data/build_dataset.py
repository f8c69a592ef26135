"""The steps of ``prepare_data.py`` after fetching: analyse, dedupe, filter, split, write (docs/data-sources.md).

Workers get a ``SeqSpec`` (picklable) and reload its pixels themselves, so nothing large crosses process
boundaries. Writing goes to ``ROOT/.tmp/<seq>`` and is renamed into place, so a folder under a split is either
complete or absent, and a re-run skips every complete one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from train.data.sequences import manifest_records
from train.data.sources import SOURCES, SeqSpec
from train.data.sources.common import loop_stats

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass
class Filters:
    """The default filters of issue 5, each switchable from the command line."""

    loops_only: bool = True
    min_frames: int = 4
    min_motion: float = 0.5  # largest mean |Δ| between consecutive frames, premultiplied 0..255
    max_seam: float = 3.0  # |last − first| over the mean step; > 3 is not a loop


@dataclass
class Report:
    """Counts of what each step dropped, per source."""

    found: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def drop(self, source: str, reason: str) -> None:
        self.dropped.setdefault(source, {}).setdefault(reason, 0)
        self.dropped[source][reason] += 1


# Sources held out of training entirely: the unseen-style protocol (docs/evaluation.md). Their characters go to
# unseen-val (iterate on it) or unseen-test (report once per shipped model), never to train/val/test. Besides
# SuperTux, every source whose art licence does not fit the weights' (``PACKAGE.training = False``) is held out.
HELD_OUT_SOURCES = ("supertux",) + tuple(name for name, module in SOURCES.items() if not module.PACKAGE.training)
UNSEEN_SPLITS = ("unseen-val", "unseen-test")


def unseen_split(character: str) -> str:
    """``sha1(character) % 2``: 1 -> ``"unseen-val"``, 0 -> ``"unseen-test"``."""
    return "unseen-val" if int(hashlib.sha1(character.encode()).hexdigest(), 16) % 2 else "unseen-test"


def split_of(character: str) -> str:
    """docs/data-sources.md: ``h = int(sha1(character).hexdigest(), 16) % 10``; test iff h == 0, val iff h == 1, else train.

    ``character`` is ``"<source>:<path>"``; characters of a ``HELD_OUT_SOURCES`` source get ``unseen_split``.
    """
    if character.split(":", 1)[0] in HELD_OUT_SOURCES:
        return unseen_split(character)
    h = int(hashlib.sha1(character.encode()).hexdigest(), 16) % 10
    return "test" if h == 0 else "val" if h == 1 else "train"


def spec_key(spec: SeqSpec, source_version: str) -> str:
    """Cache key of a spec's analysis: everything that changes its pixels."""
    blob = json.dumps([spec.seq, spec.files, spec.params, source_version], sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()


def analyse(spec: SeqSpec) -> dict:
    """Loads a spec and measures it: ``{"md5", "n_frames", "size", "motion", "seam"}`` or ``{"error"}``."""
    try:
        frames, md5 = SOURCES[spec.source].load(spec)
    except (OSError, ValueError) as exc:
        return {"error": f"{spec.source_path}: {exc}"}
    energy, seam = loop_stats(frames)
    h, w = frames[0].shape[:2]
    return {"md5": md5, "n_frames": len(frames), "size": [w, h], "motion": round(energy, 4), "seam": round(seam, 4)}


def select(specs: list[SeqSpec], stats: dict[str, dict], filters: Filters, report: Report) -> list[SeqSpec]:
    """Dedupes (md5, first seq name wins) then filters; the survivors in seq order. Counts go to ``report``."""
    kept, seen = [], set()
    for spec in sorted(specs, key=lambda s: s.seq):
        st = stats[spec.seq]
        if "error" in st:
            report.drop(spec.source, "unreadable")
        elif st["md5"] in seen:
            report.drop(spec.source, "duplicate")
        elif filters.loops_only and not spec.loop:
            report.drop(spec.source, "not a loop (name)")
        elif st["n_frames"] < filters.min_frames:
            report.drop(spec.source, f"< {filters.min_frames} frames")
        elif st["motion"] < filters.min_motion:
            report.drop(spec.source, "near static")
        elif filters.max_seam > 0 and st["seam"] > filters.max_seam:
            report.drop(spec.source, f"seam ratio > {filters.max_seam:g}")
        else:
            kept.append(spec)
        if "md5" in st:
            seen.add(st["md5"])
    return kept


def manifest_line(spec: SeqSpec, st: dict, source: str, license: str) -> dict:
    """One ``manifest.jsonl`` record (docs/data-sources.md keys, plus ``motion`` and ``seam`` for the statistics)."""
    return {"seq": spec.seq, "split": split_of(spec.character), "source": source, "source_path": spec.source_path,
            "character": spec.character, "anim": spec.anim, "fps": spec.fps, "n_frames": st["n_frames"],
            "size": st["size"], "scale": spec.scale, "loop": spec.loop, "license": license,
            "motion": st["motion"], "seam": st["seam"]}


def is_complete(folder: Path, n_frames: int) -> bool:
    """A sequence folder counts as written when it holds exactly frames ``0000 … n−1`` as PNG."""
    if not folder.is_dir():
        return False
    names = sorted(p.name for p in folder.iterdir())
    return names == [f"{i:04d}.png" for i in range(n_frames)]


def write_sequence(job: tuple[SeqSpec, str, int]) -> tuple[str, int, str | None]:
    """Writes one sequence to ``root/<split>/<seq>/`` via a temp folder; returns ``(seq, bytes, error)``."""
    spec, dest, n_frames = job
    dest_path = Path(dest)
    if is_complete(dest_path, n_frames):
        return spec.seq, sum(p.stat().st_size for p in dest_path.iterdir()), None
    try:
        frames, _ = SOURCES[spec.source].load(spec)
    except (OSError, ValueError) as exc:
        return spec.seq, 0, f"{spec.source_path}: {exc}"
    tmp = dest_path.parent.parent / ".tmp" / dest_path.name
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    size = 0
    for i, frame in enumerate(frames):
        path = tmp / f"{i:04d}.png"
        Image.fromarray(np.ascontiguousarray(frame), "RGBA").save(path, compress_level=6)
        size += path.stat().st_size
    shutil.rmtree(dest_path, ignore_errors=True)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest_path)
    return spec.seq, size, None


def remove_stale(root: Path, keep: set[str]) -> int:
    """Deletes sequence folders under the splits that the new manifest does not list (filters changed)."""
    removed = 0
    for split in SPLITS + UNSEEN_SPLITS:
        d = root / split
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if f"{split}/{p.name}" not in keep:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
                removed += 1
    shutil.rmtree(root / ".tmp", ignore_errors=True)
    return removed


def write_manifest(root: Path, lines: list[dict]) -> Path:
    """Writes ``manifest.jsonl`` atomically, one JSON object per line, in seq order."""
    path = root / "manifest.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w") as f:
        for line in sorted(lines, key=lambda x: x["seq"]):
            f.write(json.dumps(line) + "\n")
    os.replace(tmp, path)
    return path


def read_manifest(root: Path) -> list[dict]:
    """Reads ``root/manifest.jsonl``.

    Raises:
        FileNotFoundError: no manifest (not a prepared ROOT).
    """
    path = Path(root) / "manifest.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest.jsonl in {root}: run train/data/prepare_data.py first")
    return manifest_records(Path(root))


def summary_table(lines: list[dict], sizes: dict[str, int]) -> str:
    """Sequences / frames / characters / MB per source and split, as an aligned text table."""
    rows: dict[tuple[str, str], list[int]] = {}
    chars: dict[tuple[str, str], set[str]] = {}
    for ln in lines:
        src = ln["character"].split(":")[0]
        for key in ((src, ln["split"]), (src, "all"), ("all", ln["split"]), ("all", "all")):
            r = rows.setdefault(key, [0, 0, 0])
            r[0] += 1
            r[1] += ln["n_frames"]
            r[2] += sizes.get(ln["seq"], 0)
            chars.setdefault(key, set()).add(ln["character"])
    out = [f"{'source':<10} {'split':<6} {'seqs':>7} {'frames':>8} {'chars':>6} {'MB':>8}"]
    for key in sorted(rows, key=lambda k: (k[0] == "all", k[0], SPLITS.index(k[1]) if k[1] in SPLITS else 9)):
        seqs, frames, size = rows[key]
        out.append(f"{key[0]:<10} {key[1]:<6} {seqs:>7} {frames:>8} {len(chars[key]):>6} {size / 1e6:>8.1f}")
    return "\n".join(out)
