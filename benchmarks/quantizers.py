"""Compares palette quantizers on the CC0 example sprites (not a test): libimagequant vs Pillow's.

Error is the RMSE over opaque pixels (alpha thresholded at 128, as in GIF output), with one
palette shared by a montage of all the examples. Run: python benchmarks/quantizers.py
"""

import time
from pathlib import Path

import imagequant
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def montage() -> np.ndarray:
    arrays = []
    for path in sorted((ROOT / "examples").glob("*.png")):
        a = np.asarray(Image.open(path).convert("RGBA").resize((68, 106), Image.NEAREST)).copy()
        opaque = a[..., 3] >= 128
        a[opaque, 3] = 255
        a[~opaque] = 0
        arrays.append(a)
    return np.concatenate(arrays, axis=0)


def rmse(original: np.ndarray, quantized: Image.Image) -> float:
    rgba = np.asarray(quantized.convert("RGBA")).astype(float)
    mask = original[..., 3] == 255
    return float(np.sqrt(((rgba[mask, :3] - original[mask, :3]) ** 2).mean()))


def main() -> None:
    m = montage()
    image = Image.fromarray(m, "RGBA")
    rgb = image.convert("RGB")
    print(f"montage {m.shape}, {len(np.unique(m.reshape(-1, 4)[m[..., 3].ravel() == 255].view(np.uint32)))} opaque colours")
    for colors in (255, 64, 32, 16):
        t = time.perf_counter()
        results = {"imagequant": rmse(m, imagequant.quantize_pil_image(image, dithering_level=0.0, max_colors=colors))}
        for name, method in [("MEDIANCUT", Image.Quantize.MEDIANCUT), ("MAXCOVERAGE", Image.Quantize.MAXCOVERAGE),
                             ("FASTOCTREE", Image.Quantize.FASTOCTREE)]:
            results[name] = rmse(m, rgb.quantize(colors, method=method, dither=Image.Dither.NONE))
        print(f"{colors:3d} colours  " + "  ".join(f"{k} {v:5.2f}" for k, v in results.items()) + f"  ({time.perf_counter() - t:.2f} s)")


if __name__ == "__main__":
    main()
