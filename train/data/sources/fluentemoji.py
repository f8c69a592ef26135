"""Fluent Emoji Animated (Microsoft; npm ``@lobehub/fluent-emoji-anim-1`` … ``-4`` 1.0.0): 3D-rendered emoji.

Each tarball holds ``package/assets/<codepoints>.webp``: 256² RGBA WebP, lossy colour plus alpha; the animated ones
(a VP8X header with the animation flag, an ``ANIM`` chunk) loop forever at 42 ms per frame, 13–97 frames; the stills
are skipped. Licence: each ``package.json`` states MIT (``npm.extract`` checks it); the upstream repository
``microsoft/fluentui-emoji-animated`` carries an MIT LICENSE, "Copyright (c) Microsoft Corporation".

- **Character** = the codepoints without the skin-tone modifiers ``1f3fb``–``1f3ff``, so an emoji and its tone
  variants (``1f44b``, ``1f44b-1f3fb`` … ``1f44b-1f3ff``) share one character and therefore one split. All tones are
  kept as sequences: the same motion over five skin colours is colour augmentation the renderer already did, and
  each tone is a real picture a user may animate (docs/data-sources.md also gives the counts with one tone).
- **Frames**: a loop of ``N > MAX_FRAMES`` frames keeps ``MAX_FRAMES`` evenly spaced over the cycle
  (``round(i N / M)``), so the step back to frame 0 stays one step and the loop stays closed; fps follows
  (``1000 / 42 · M / N``). 12 is about the clip the training sees: the loader predicts ``S = 4`` consecutive target
  frames, i.e. a third of a 12-frame cycle, like the 10-frame walks of the game sources (at 72 frames they would
  cover 1/18 of the cycle and hardly move).
- **Pixels**: downscaled by ``DOWNSCALE`` (256 → 128, box filter on premultiplied colour: Pillow resizes RGBA as
  RGBa) and cropped to the union of the frames' alpha boxes; the pack letterboxes to 64² anyway.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from .common import NpmPackage, SeqSpec, clear_transparent, frames_md5

PACKAGE = NpmPackage(tuple(f"@lobehub/fluent-emoji-anim-{i}" for i in range(1, 5)), "1.0.0",
                     ("package/assets/*.webp", "package/package.json"), "MIT")
ASSETS = "package/assets"
MAX_FRAMES = 12
DOWNSCALE = 2
DEFAULT_DURATION_MS = 42.0
TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")
_CODEPOINTS = re.compile(r"^[0-9a-f]{2,6}(-[0-9a-f]{2,6})*$")


def is_animated_webp(path: Path) -> bool:
    """True for an extended WebP (``RIFF….WEBPVP8X``) whose header sets the animation flag (bit 1)."""
    with open(path, "rb") as f:
        head = f.read(21)
    return len(head) == 21 and head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and bool(head[20] & 0x02)


def character_of(stem: str) -> str:
    """The codepoints without skin tones: ``1f44b-1f3fd`` → ``1f44b``;
    ``1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff`` → ``1f9d1-200d-1f91d-200d-1f9d1``."""
    return "-".join(cp for cp in stem.split("-") if cp not in TONES)


def keep_indices(n_frames: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """``max_frames`` indices evenly spaced over a cycle of ``n_frames`` (all of them if it is short)."""
    if n_frames <= max_frames:
        return list(range(n_frames))
    return sorted({round(i * n_frames / max_frames) % n_frames for i in range(max_frames)})


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per animated WebP of every unpacked tarball (``<root>/<package>/package/assets/*.webp``)."""
    folders = sorted(p for p in Path(extract_root).glob(f"*/{ASSETS}") if p.is_dir())
    if not folders:
        raise FileNotFoundError(f"no Fluent Emoji assets under {extract_root}/*/{ASSETS}")
    specs, seen = [], set()
    for folder in folders:
        package = folder.parent.parent.name
        for path in sorted(folder.glob("*.webp")):
            stem = path.stem
            if stem in seen or not _CODEPOINTS.match(stem) or not is_animated_webp(path):
                continue
            seen.add(stem)
            with Image.open(path) as im:
                n = getattr(im, "n_frames", 1)
                duration = float(im.info.get("duration") or DEFAULT_DURATION_MS)
            if n < 2:
                continue
            keep = len(keep_indices(n))
            character = character_of(stem)
            specs.append(SeqSpec(
                seq=f"fluentemoji.{character}#{stem}", source="fluentemoji", character=f"fluentemoji:{character}",
                anim=stem, source_path=f"@lobehub/{package}/{ASSETS}/{path.name}", files=[str(path)],
                fps=round(1000.0 / duration * keep / n, 3), loop=True, params={"n_frames": n}))
    return specs


def decode_webp(path: str | Path, keep: list[int]) -> list[np.ndarray]:
    """Decodes an animated WebP in order and returns the frames at ``keep`` as straight RGBA ``uint8``."""
    wanted, frames = set(keep), {}
    with Image.open(path) as im:
        for i in range(max(keep) + 1):
            im.seek(i)
            if i in wanted:
                frames[i] = im.convert("RGBA")
    return [np.asarray(frames[i]).copy() for i in keep]


def shrink_and_crop(frames: list[np.ndarray], factor: int = DOWNSCALE) -> list[np.ndarray]:
    """Downscales every frame by ``factor`` (box filter, premultiplied) and crops all to the union alpha box."""
    if factor > 1:
        h, w = frames[0].shape[:2]
        size = (max(1, w // factor), max(1, h // factor))
        frames = [np.asarray(Image.fromarray(f, "RGBA").resize(size, Image.BOX)) for f in frames]
    alpha = np.stack([f[..., 3] for f in frames]).max(axis=0)
    ys, xs = np.nonzero(alpha)
    if len(xs) == 0:
        raise ValueError("every frame is fully transparent")
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return [clear_transparent(np.ascontiguousarray(f[top:bottom, left:right])) for f in frames]


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Decodes the kept frames, shrinks and crops them (see the module docstring)."""
    keep = keep_indices(int(spec.params["n_frames"]))
    frames = shrink_and_crop(decode_webp(spec.files[0], keep))
    return frames, frames_md5(frames)
