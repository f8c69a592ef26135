"""Tiny synthetic training data, made in code: folders of short looping APNGs (a sprite that sways or bobs)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from still2motion import io

TINY_TRAIN_CONFIG = {"block_out_channels": [4, 8, 16], "num_layers": 2, "num_harmonics": 2, "flow_downsample": 4, "noise_dim": 4}


def sprite_loop(num_frames: int, seed: int, size: int = 24, amplitude: float = 3.0) -> list[np.ndarray]:
    """A few-colour block on a transparent canvas moving along a closed path: ``num_frames`` uint8 RGBA frames."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 255, size=(3, 4)).astype(np.uint8)
    colours[:, 3] = 255
    block = colours[rng.integers(0, 3, size=(size // 3, size // 3))]  # (b, b, 4)
    b = block.shape[0]
    vertical = bool(seed % 2)
    frames = []
    for t in range(num_frames):
        shift = int(round(amplitude * math.sin(2 * math.pi * t / num_frames)))
        frame = np.zeros((size, size, 4), np.uint8)
        top, left = (size - b) // 2 + (shift if vertical else 0), (size - b) // 2 + (0 if vertical else shift)
        frame[top : top + b, left : left + b] = block
        frames.append(frame)
    return frames


def make_loop_folder(folder: Path, count: int = 6, size: int = 24) -> Path:
    """``count`` APNG loops of 4 to 8 frames in ``folder`` (a user's folder of animations)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        frames = sprite_loop(4 + i % 5, seed=i, size=size)
        io.write_apng(frames, io.durations_for(len(frames), 10.0), folder / f"loop{i:02d}.png")
    return folder


def make_prepared_root(root: Path, per_split: dict[str, int] | None = None, size: int = 24) -> Path:
    """A tiny prepared ROOT: ``ROOT/<split>/<seq>/0000.png ...`` + ``manifest.jsonl`` with sources and licences."""
    import json

    from PIL import Image

    per_split = per_split or {"train": 6, "val": 2}
    lines = []
    i = 0
    for split, count in per_split.items():
        for _ in range(count):
            frames = sprite_loop(4 + i % 5, seed=i, size=size)
            source = "alpha" if i % 2 else "beta"
            seq = f"{source}.char{i}.idle"
            folder = root / split / seq
            folder.mkdir(parents=True)
            for t, frame in enumerate(frames):
                Image.fromarray(frame, "RGBA").save(folder / f"{t:04d}.png")
            lines.append({"seq": seq, "source": source, "character": f"{source}:char{i}", "split": split,
                          "n_frames": len(frames),
                          "license": "CC0-1.0" if source == "alpha" else "GPL-2.0-or-later"})
            i += 1
    (root / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


COLORS = [(220, 40, 40, 255), (40, 200, 60, 255), (30, 30, 220, 255)]


def circling_square(num_frames: int, width: int = 20, height: int = 16, seed: int = 0) -> list[np.ndarray]:
    frames = []
    for t in range(num_frames):
        phi = 2 * math.pi * t / num_frames
        x, y = round(8 + 3 * math.cos(phi)), round(6 + 2 * math.sin(phi))
        frame = np.zeros((height, width, 4), np.uint8)
        frame[y : y + 4, x : x + 4] = COLORS[seed % len(COLORS)]
        frame[y + 1, x + 1] = (250, 250, 250, 255)  # a highlight, so the square has inner detail
        frames.append(frame)
    return frames


def write_circling_root(root: Path, lines: list[dict]) -> Path:
    """A prepared ROOT: for the i-th manifest line the circling square of seed i as ``ROOT/<split>/<seq>/0000.png ...``,
    and ``manifest.jsonl`` holding ``lines`` as given."""
    for i, line in enumerate(lines):
        folder = root / line["split"] / line["seq"]
        folder.mkdir(parents=True)
        for t, frame in enumerate(circling_square(line["n_frames"], seed=i)):
            Image.fromarray(frame, "RGBA").save(folder / f"{t:04d}.png")
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return root
