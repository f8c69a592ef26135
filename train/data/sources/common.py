"""Shared pieces of the source parsers: the sequence spec, pixel helpers and the loop statistics.

Every parser turns an extracted Debian package into a list of ``SeqSpec`` (cheap: file names and numbers only) and
loads one spec into a list of straight-RGBA ``uint8 (H, W, 4)`` frames of one size. Player/team colour is applied at
load time with a colour chosen per sequence from ``seq_rng`` (deterministic, so re-runs write the same pixels).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Package:
    """A Debian package: the version verified in docs/data-sources.md, the members worth extracting, and the art licence.

    ``training`` is False for a source held out of training: its art licence does not fit the licence of the trained
    weights (GPL-3.0-or-later), or it is evaluation-only by design (Pekka Kana 2, an unseen-style source); its
    characters go to the evaluation-only splits (``build_dataset.split_of``).
    """

    name: str
    version: str
    members: tuple[str, ...]
    license: str
    training: bool = True


@dataclass(frozen=True)
class NpmPackage:
    """npm registry packages, one source: the tarballs of ``names`` at ``version`` (fetched by
    ``fetch.fetch_npm``, integrity checked against the registry's metadata, unpacked in Python).

    ``members`` are glob patterns of the tarball paths worth extracting (``package/...``); ``license`` is the one
    each tarball's ``package/package.json`` must state.
    """

    names: tuple[str, ...]
    version: str
    members: tuple[str, ...]
    license: str
    training: bool = True


@dataclass
class SeqSpec:
    """One candidate sequence, as found on disk (before loading pixels).

    ``seq`` follows docs/data-sources.md: ``<src>.<character path with / → .>#<anim>``; ``character`` is ``"<src>:<path>"``.
    ``files`` are absolute paths; ``params`` holds what the source's loader needs (cells, rects, masks ...).
    """

    seq: str
    source: str  # short name: widelands, wesnoth, flare, supertux
    character: str
    anim: str
    source_path: str  # package-relative path of the main file, for the manifest
    files: list[str]
    fps: float
    loop: bool  # by name / metadata; the loop filter drops False
    scale: int = 1
    params: dict = field(default_factory=dict)


def seq_rng(seq: str) -> random.Random:
    """A random generator seeded by the sequence name (stable across runs and processes)."""
    return random.Random(int(hashlib.sha1(seq.encode()).hexdigest()[:16], 16))


def open_rgba(path: str | Path) -> np.ndarray:
    """Reads a PNG (P+tRNS, RGB, LA or RGBA) as straight RGBA ``uint8 (H, W, 4)``."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA")).copy()


def clear_transparent(frame: np.ndarray) -> np.ndarray:
    """Zeroes RGB where alpha is 0 (sprite sheets keep junk colours under transparent pixels)."""
    frame = frame.copy()
    frame[frame[..., 3] == 0, :3] = 0
    return frame


def pad_centered(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pads a frame with transparent pixels to ``(height, width)``, centred (Wesnoth centres units on the hex)."""
    h, w = frame.shape[:2]
    if h > height or w > width:
        raise ValueError(f"frame {w}x{h} is larger than the canvas {width}x{height}")
    out = np.zeros((height, width, 4), np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    out[top : top + h, left : left + w] = frame
    return out


def premultiplied(frames: list[np.ndarray]) -> np.ndarray:
    """Stacks frames as premultiplied float32 ``(T, H, W, 4)`` in 0..255 (for the motion statistics)."""
    x = np.stack(frames).astype(np.float32)
    x[..., :3] *= x[..., 3:] / 255.0
    return x


def loop_stats(frames: list[np.ndarray]) -> tuple[float, float]:
    """Motion energy and seam ratio of a loop (docs/data-sources.md).

    Returns:
        ``(energy, seam)``: energy = the largest mean |Δ| between consecutive frames (premultiplied, 0..255);
        seam = mean |last − first| over the mean consecutive |Δ| (≈ 1 for a smooth loop; 0 if static).
    """
    if len(frames) < 2:
        return 0.0, 0.0
    x = premultiplied(frames)
    steps = np.abs(np.diff(x, axis=0)).mean(axis=(1, 2, 3))  # (T-1,)
    seam = float(np.abs(x[0] - x[-1]).mean())
    mean_step = float(steps.mean())
    return float(steps.max()), (seam / mean_step if mean_step > 0 else 0.0)


def frames_md5(frames: list[np.ndarray]) -> str:
    """md5 of the raw frames (shape + bytes), before any colouring: the dedupe key."""
    h = hashlib.md5()
    for f in frames:
        h.update(str(f.shape).encode())
        h.update(np.ascontiguousarray(f).tobytes())
    return h.hexdigest()


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of float RGB in 0..1, ``(..., 3) -> (...)``."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def apply_player_color(frame: np.ndarray, mask: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    """Widelands' ``blit.fp``: ``rgb = mix(rgb, pc * luma(rgb), mask.r * mask.a)`` (all in 0..1)."""
    rgb = frame[..., :3].astype(np.float32) / 255.0
    m = mask[..., 0].astype(np.float32) / 255.0 * (mask[..., 3].astype(np.float32) / 255.0)
    pc = np.asarray(color, np.float32) / 255.0
    tinted = pc * luma(rgb)[..., None]
    out = frame.copy()
    out[..., :3] = np.clip(np.rint((rgb * (1 - m[..., None]) + tinted * m[..., None]) * 255), 0, 255).astype(np.uint8)
    return out


def color_key(frame: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """Makes every pixel of exactly colour ``rgb`` transparent (and black), as colour-keyed engines draw them."""
    out = frame.copy()
    hit = (out[..., :3] == np.asarray(rgb, np.uint8)).all(axis=-1)
    out[hit] = 0
    return out


def paste_at(crops: list[np.ndarray], corners: list[tuple[int, int]]) -> list[np.ndarray]:
    """Pastes each crop with its top-left corner at ``corners[i] = (x, y)`` of one shared coordinate system.

    Returns one frame per crop, all on the smallest canvas holding every crop (straight RGBA ``uint8``); a sprite
    drawn at ``position + offset`` by its engine keeps its position from frame to frame.
    """
    if not crops or len(crops) != len(corners):
        raise ValueError(f"need one corner per crop, got {len(crops)} crops and {len(corners)} corners")
    left = min(x for x, _ in corners)
    top = min(y for _, y in corners)
    width = max(x + c.shape[1] for c, (x, _) in zip(crops, corners)) - left
    height = max(y + c.shape[0] for c, (_, y) in zip(crops, corners)) - top
    frames = []
    for crop, (x, y) in zip(crops, corners):
        canvas = np.zeros((height, width, 4), np.uint8)
        canvas[y - top : y - top + crop.shape[0], x - left : x - left + crop.shape[1]] = crop
        frames.append(clear_transparent(canvas))
    return frames


def grid_cells(sheet: np.ndarray, cell_w: int, cell_h: int, column_major: bool = False) -> list[np.ndarray]:
    """Cuts a sheet into ``cell_w x cell_h`` cells, row by row (or column by column); partial cells are dropped."""
    rows, cols = sheet.shape[0] // cell_h, sheet.shape[1] // cell_w
    order = [(r, c) for c in range(cols) for r in range(rows)] if column_major else [
        (r, c) for r in range(rows) for c in range(cols)]
    return [sheet[r * cell_h : (r + 1) * cell_h, c * cell_w : (c + 1) * cell_w] for r, c in order]


def safe_name(text: str) -> str:
    """Makes a path piece shell-safe: keeps ``[A-Za-z0-9._+-]``, maps everything else to ``_``."""
    return re.sub(r"[^A-Za-z0-9._+\-]", "_", text)
