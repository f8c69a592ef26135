"""Seed corpora for the fuzz harnesses, generated at run time by still2motion's own writers and by Pillow.

Nothing third-party is stored: every seed is a small image drawn here (a few pixels to 16x16) and encoded as a PNG in
each colour type, an APNG with every dispose/blend op and sub-rectangles, a GIF with local palettes, transparency and
each disposal, and the other formats Pillow writes (JPEG, WebP, BMP, TIFF). Small seeds keep the fuzzer fast; its
mutations grow them.

    python -m fuzz.seeds OUT_DIR [HARNESS]     # writes the seeds for HARNESS (default: all) into OUT_DIR
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from still2motion.io.apng_write import encode_apng
from still2motion.io.gif_write import encode_gif


def _frames(n: int, size: int = 8, seed: int = 0) -> list[np.ndarray]:
    """``n`` straight-RGBA frames: a coloured square sliding over a transparent ground, alpha edges included."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        arr = np.zeros((size, size, 4), np.uint8)
        x = i % max(1, size // 2)
        arr[2 : size - 2, x : x + size // 2, :3] = rng.integers(0, 256, 3, dtype=np.uint8)
        arr[2 : size - 2, x : x + size // 2, 3] = 255
        arr[1, :, 3] = 128  # a half-transparent row
        out.append(arr)
    return out


def _pillow(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def png_seeds() -> dict[str, bytes]:
    """Still PNGs in every colour type and bit depth, interlaced, with tRNS; APNGs from our writer and Pillow."""
    rgba = Image.fromarray(_frames(1)[0], "RGBA")
    seeds = {
        "rgba.png": _pillow(rgba, "PNG"),
        "rgb.png": _pillow(rgba.convert("RGB"), "PNG"),
        "rgb_trns.png": _pillow(rgba.convert("RGB"), "PNG", transparency=(0, 0, 0)),
        "l.png": _pillow(rgba.convert("L"), "PNG"),
        "l_trns.png": _pillow(rgba.convert("L"), "PNG", transparency=0),
        "la.png": _pillow(rgba.convert("LA"), "PNG"),
        "one_bit.png": _pillow(rgba.convert("1"), "PNG"),
        "i16.png": _pillow(Image.fromarray((np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)), "PNG"),
        "interlaced.png": _pillow(rgba, "PNG", interlace=1) if _interlace_supported() else _pillow(rgba, "PNG"),
        "p_trns.png": _pillow(rgba.convert("P", palette=Image.Palette.ADAPTIVE, colors=4), "PNG", transparency=0),
        "p_one_entry.png": _pillow(Image.new("P", (3, 3), 0), "PNG", transparency=0),
        "tiny.png": _pillow(Image.new("RGBA", (1, 1), (1, 2, 3, 4)), "PNG"),
        "apng_ours.png": encode_apng(_frames(3), [40, 50, 60], loop=2, optimize="none"),
        "apng_ours_one.png": encode_apng(_frames(1), [100], optimize="none"),
    }
    frames = [Image.fromarray(f, "RGBA") for f in _frames(3, seed=1)]
    for dispose in (0, 1, 2):
        for blend in (0, 1):
            seeds[f"apng_pillow_d{dispose}_b{blend}.png"] = _pillow(
                frames[0], "PNG", save_all=True, append_images=frames[1:], duration=[30, 40, 50], loop=0,
                disposal=dispose, blend=blend, default_image=False,
            )
    seeds["apng_default_image.png"] = _pillow(frames[0], "PNG", save_all=True, append_images=frames[1:],
                                              duration=50, default_image=True)
    palette_frames = [f.convert("P", palette=Image.Palette.ADAPTIVE, colors=8) for f in frames]
    seeds["apng_palette.png"] = _pillow(palette_frames[0], "PNG", save_all=True, append_images=palette_frames[1:],
                                        duration=50)
    return seeds


def _interlace_supported() -> bool:
    try:
        _pillow(Image.new("RGB", (2, 2)), "PNG", interlace=1)
    except (TypeError, ValueError, OSError):
        return False
    return True


def gif_seeds() -> dict[str, bytes]:
    """GIFs from our writer and from Pillow: local palettes, transparency, each disposal, interlace, loop counts."""
    seeds = {
        "gif_ours.gif": encode_gif(_frames(3), [40, 50, 60], loop=0),
        "gif_ours_once.gif": encode_gif(_frames(2), [100, 100], loop=1),
        "gif_ours_still.gif": encode_gif(_frames(1), [100]),
    }
    frames = [Image.fromarray(f, "RGBA").convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
              for f in _frames(3, seed=2)]
    for disposal in (0, 1, 2, 3):
        seeds[f"gif_pillow_d{disposal}.gif"] = _pillow(
            frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[20, 30, 40], loop=3,
            disposal=disposal, transparency=0, optimize=False,
        )
    seeds["gif_interlaced.gif"] = _pillow(frames[0], "GIF", interlace=True)
    seeds["gif87a_still.gif"] = _pillow(Image.new("P", (4, 4), 1), "GIF")
    seeds["gif_comment.gif"] = _pillow(frames[0], "GIF", comment=b"x" * 300)  # a comment over two sub-blocks
    return seeds


def other_seeds() -> dict[str, bytes]:
    """The other formats ``read_image`` takes through Pillow."""
    rgba = Image.fromarray(_frames(1, seed=3)[0], "RGBA")
    seeds = {
        "still.jpg": _pillow(rgba.convert("RGB"), "JPEG", quality=50),
        "still.bmp": _pillow(rgba.convert("RGB"), "BMP"),
        "still.tiff": _pillow(rgba, "TIFF"),
    }
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the reader swaps the sides
    seeds["rotated.jpg"] = _pillow(Image.new("RGB", (6, 4), (200, 10, 10)), "JPEG", exif=exif)
    try:
        seeds["still.webp"] = _pillow(rgba, "WEBP", lossless=True)
        frames = [Image.fromarray(f, "RGBA") for f in _frames(2, seed=4)]
        seeds["animated.webp"] = _pillow(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50,
                                         lossless=True)
    except (OSError, KeyError):  # a Pillow built without WebP
        pass
    return seeds


def mask_seeds() -> dict[str, bytes]:
    """Masks as users paint them: grey, painted alpha over nothing, black and white, and in a few formats."""
    yy, xx = np.mgrid[:8, :8]
    gray = Image.fromarray(((xx + yy) * 18).astype(np.uint8), "L")
    painted = np.zeros((8, 8, 4), np.uint8)
    painted[2:6, 2:6] = (255, 48, 112, 255)
    return {
        "mask_gray.png": _pillow(gray, "PNG"),
        "mask_painted.png": _pillow(Image.fromarray(painted, "RGBA"), "PNG"),
        "mask_bw.png": _pillow(gray.point(lambda v: 255 if v > 128 else 0).convert("1"), "PNG"),
        "mask_gray.jpg": _pillow(gray, "JPEG"),
        "mask.gif": _pillow(gray.convert("P"), "GIF"),
        "mask_16x8.png": _pillow(gray.resize((16, 8)), "PNG"),
    }


def corpus(harness: str) -> dict[str, bytes]:
    """The seeds for one harness (``name -> bytes``)."""
    if harness in ("apng", "png_chunks"):
        return png_seeds()
    if harness == "gif":
        return gif_seeds()
    if harness == "mask":
        return {**mask_seeds(), **{k: v for k, v in png_seeds().items() if not k.startswith("apng_pillow")}}
    if harness == "e2e":
        seeds = {**png_seeds(), **gif_seeds(), **other_seeds(), **mask_seeds()}
        return {k: v for k, v in seeds.items() if not k.startswith("apng_pillow_d1")}
    raise ValueError(f"no seeds for harness {harness!r}")


def write_corpus(harness: str, out_dir: str | Path) -> int:
    """Writes the seeds of ``harness`` into ``out_dir`` (kept if already there); returns how many."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = corpus(harness)
    for name, data in seeds.items():
        (out / f"seed_{name}").write_bytes(data)
    return len(seeds)


if __name__ == "__main__":
    from fuzz.harnesses import HARNESSES

    names = sys.argv[2:] or list(HARNESSES)
    for name in names:
        print(f"{name}: {write_corpus(name, Path(sys.argv[1]) / name)} seeds")
