"""What the style augmentation presets do to one source's frames: numbers per preset, and a contact sheet to look at.

    python train/data/style_stats.py ROOT --sources fluentemoji,pekkakana2 [--items 200] [--sheet OUT.png]

For each source (its items from every split of the prepared ROOT, letterboxed to ``--resolution``) and each preset
``none`` / ``default`` / ``strong`` (``train.data.augment.STYLE_PRESETS``), the style transforms alone are drawn
for every item's clip (seeded by the item) and measured on the input frame, premultiplied, 0..255:

- ``changed``: share of items with at least one transform applied;
- ``|d|``: mean absolute change over the pixels visible before or after;
- ``colours``: distinct RGBA colours after over before (posterise and pixelate cut them; blur and outline add);
- ``cover``: visible pixels (alpha > 0.5) after over before (outline grows it, erosion shrinks it);
- ``pixel-art``: share of items pixelated or posterised (the transforms that push smooth art towards pixel art).

``--sheet`` writes one image: per source and preset a row of training inputs exactly as the loader makes them
(flip, scale/shift, then the style), on grey; third-party art, so never commit it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `train` and `still2motion` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[2])

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from train.data.augment import STYLE_PRESETS, style_transform  # noqa: E402
from train.data.datasets import PreparedDataset  # noqa: E402
from train.data.build_dataset import SPLITS, UNSEEN_SPLITS  # noqa: E402

PRESETS = ("none", "default", "strong")


def source_items(root: Path, source: str, resolution: int, preset: str, augment: bool) -> list[PreparedDataset]:
    """One dataset per split holding only ``source``'s items (empty splits left out)."""
    out = []
    for split in SPLITS + UNSEEN_SPLITS:
        try:
            ds = PreparedDataset(root, split, resolution=resolution, augment=augment, style_augment=preset)
        except ValueError:  # no sequences in this split
            continue
        ds.items = [it for it in ds.items if it[1] == source]
        if ds.items:
            out.append(ds)
    return out


def _visible_colours(frame: np.ndarray) -> int:
    q = np.clip(np.rint(frame * 255), 0, 255).astype(np.uint8).reshape(4, -1).T
    q = q[q[:, 3] > 0]
    return len(np.unique(q.view(np.uint32))) if len(q) else 0


def measure(root: Path, source: str, items: int, resolution: int, seed: int = 0) -> dict[str, dict]:
    """The statistics of the module docstring per preset, over up to ``items`` items spread over the source."""
    sets = source_items(root, source, resolution, "none", augment=False)
    refs = [(ds, i) for ds in sets for i in range(len(ds))]
    if not refs:
        raise ValueError(f"no items of source '{source}' in {root}")
    refs = refs[:: max(1, len(refs) // items)][:items]
    clips = [ds[i] for ds, i in refs]
    rows = {}
    for preset in PRESETS:
        cfg = STYLE_PRESETS[preset]
        d, colours, cover, changed, pixel_art, used = [], [], [], 0, 0, Counter()
        for k, item in enumerate(clips):
            x = torch.cat([item["input"][None], item["targets"]])
            y, applied = (x, []) if cfg is None else style_transform(x, np.random.default_rng([seed, k]), cfg)
            a, b = x[0].numpy(), y[0].numpy()
            vis = (a[3] > 0) | (b[3] > 0)
            d.append(float(np.abs(b - a)[:, vis].mean() * 255) if vis.any() else 0.0)
            colours.append(_visible_colours(b) / max(_visible_colours(a), 1))
            cover.append(float((b[3] > 0.5).sum()) / max(float((a[3] > 0.5).sum()), 1.0))
            changed += bool(applied)
            pixel_art += bool({"pixelate", "posterize"} & set(applied))
            used.update(applied)
        n = len(clips)
        rows[preset] = {"items": n, "changed": changed / n, "|d|": float(np.mean(d)),
                        "colours": float(np.median(colours)), "cover": float(np.median(cover)),
                        "pixel-art": pixel_art / n, "applied": dict(used.most_common())}
    return rows


def contact_sheet(root: Path, sources: list[str], resolution: int, per_row: int = 10) -> Image.Image:
    """Rows of loader inputs: per source, ``none`` / ``default`` / ``strong`` on the same items, on grey."""
    rows = []
    for source in sources:
        for preset in PRESETS:
            sets = source_items(root, source, resolution, preset, augment=True)
            refs = [(ds, i) for ds in sets for i in range(len(ds))]
            refs = refs[:: max(1, len(refs) // per_row)][:per_row]
            row = np.full((resolution, per_row * resolution, 3), 128.0)
            for j, (ds, i) in enumerate(refs):
                f = ds[i]["input"].numpy().transpose(1, 2, 0)  # premultiplied
                row[:, j * resolution : (j + 1) * resolution] = f[..., :3] * 255 + 128.0 * (1 - f[..., 3:])
            rows.append(row)
    return Image.fromarray(np.clip(np.rint(np.concatenate(rows)), 0, 255).astype(np.uint8))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="a prepared ROOT (prepare_data.py --out)")
    p.add_argument("--sources", default="fluentemoji,pekkakana2")
    p.add_argument("--items", type=int, default=200)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet here (do not commit it)")
    args = p.parse_args(argv)
    sources = [s for s in args.sources.split(",") if s]
    try:
        print(f"{'source':<12} {'preset':<8} {'items':>5} {'changed':>8} {'|d|':>6} {'colours':>8} {'cover':>6} "
              f"{'pixel-art':>9}  applied")
        for source in sources:
            for preset, r in measure(args.root, source, args.items, args.resolution).items():
                print(f"{source:<12} {preset:<8} {r['items']:>5} {r['changed']:>8.2f} {r['|d|']:>6.1f} "
                      f"{r['colours']:>8.2f} {r['cover']:>6.2f} {r['pixel-art']:>9.2f}  "
                      + ", ".join(f"{k} {v}" for k, v in r["applied"].items()))
        if args.sheet is not None:
            contact_sheet(args.root, sources, args.resolution).save(args.sheet)
            print(f"contact sheet: {args.sheet}")
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
