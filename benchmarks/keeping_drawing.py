"""Does auto keep the drawing? The measures of issue 33 on the sticker check set, auto against every preset.

    python benchmarks/keeping_drawing.py [--model default] [--frames 8] [--seeds 0,1,2,3] [--strengths 0.5,1,2]
                                         [--only sticker00,sprite_slime] [--json OUT.json]

Rows: ``auto`` (what ``animate`` renders: the learned motion kept a drawing, ``drawing.keep_drawing``), ``auto-raw``
(the learned layers rendered as predicted, no guard: what v2.1 did before issue 33, with today's framing and
padding), ``auto+mask`` (a brush on the right-hand fifth of the silhouette: an arm), and every preset. Each loop is
rendered exactly as the request renders it (``rendering.plan_motion`` + ``render_motion``) at the input's size, and
scored with ``train/evaluate/drawing_metrics.py``: fold and distortion shares from the warp, outline kept and off-palette share
(flat inputs), ghost share (transparent inputs), motion energy (``train/metrics.py``) and the peak motion in output
pixels. Prints one table per row and the acceptance verdicts; ``--json`` keeps every item.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from still2motion import DEFAULT_MODEL, io, load_model  # noqa: E402
from still2motion.motion import render_loop  # noqa: E402
from still2motion.presets import PRESET_NAMES  # noqa: E402
from still2motion.rendering import plan_motion, render_motion  # noqa: E402
from train.evaluate.drawing_metrics import ghost_share, off_palette_share, outline_kept, warp_shares  # noqa: E402
from train.evaluate.metrics import motion_energy  # noqa: E402
from train.evaluate.sticker_set import check_set  # noqa: E402


def brush(image: torch.Tensor) -> torch.Tensor:
    """``(1, 1, H, W)``: 1 on the right-hand fifth of the silhouette's bounding box (an arm or an ear), else 0."""
    cols = torch.nonzero((image[0, 3] >= 0.5).any(dim=0))[:, 0]
    left, right = int(cols.min()), int(cols.max())
    mask = torch.zeros_like(image[:, 3:])
    mask[..., int(right - 0.2 * (right - left)) :] = 1
    return mask


def render_case(model, item, row: str, seed: int, strength: float, frames: int) -> dict:
    img = item.image
    canvas, box = io.letterbox(img, model.resolution)
    x, image = io.to_tensor(canvas)[None], io.to_tensor(img)[None]
    mode = io.auto_resample(img)
    hard = mode == "nearest" and io.is_pixel_art(img)
    has_alpha = img.getextrema()[3][0] < 255
    out_size, R = img.size, model.resolution
    kw = dict(strength=strength, noise=model.sample_noise(seed), out_size=out_size, has_alpha=has_alpha,
              hard_layers=hard)
    front = brush(image) if row == "auto+mask" else None
    if row == "auto":
        mo, framing = model.auto_motion(x, box, num_frames=frames, **kw), True
    elif row == "auto-raw":
        mo, framing = model.predict_motion(x, kw["noise"], has_alpha).scaled(strength), True
    else:
        mo, framing = model.controlled_motion(x, box, motion="auto" if row == "auto+mask" else row, front=front,
                                              num_frames=frames, **kw)
    common = dict(canvas_size=R, num_frames=frames, out_size=out_size, align_corners=model.align_corners,
                  front=front, keep_framing=framing)
    planned, phases = plan_motion(image, x, mo, box, **common)
    clip = torch.stack([io.to_tensor(f) for f in render_motion(image, x, mo, box, mode=mode, hard_layers=hard, **common)])
    moving_image = image if front is None else image * front
    warp = warp_shares(planned, phases, moving_image, box, R, align_corners=model.align_corners)
    out = {"image": item.name, "kind": item.kind, "flat": item.flat, "row": row, "seed": seed, "strength": strength,
           "fold": max(warp["fold"]), "distortion": max(warp["distortion"]), "peak_px": warp["peak_px"],
           "energy": motion_energy(clip)}
    if item.flat:
        kept = outline_kept(clip, image[0])
        out.update(outline_min=min(kept), outline_max=max(kept), off_palette=max(off_palette_share(clip, image[0])))
    if item.kind != "opaque":
        moving = moving_image[0, 3] >= 0.5
        if planned.masks.shape[1] == 1:  # where the motion carries the moving part (its alpha, warped the same way)
            sil = moving_image[:, 3:].expand(1, 4, *moving.shape).contiguous()
            warped = torch.cat(list(render_loop(sil, planned, frames, box=box, canvas_size=R, out_size=out_size,
                                                mode=mode, align_corners=model.align_corners, hard_layers=hard,
                                                phases=phases)))[:, 3] >= 0.25  # its anti-aliased rim included
            out["ghost"] = max(ghost_share(clip, image[0], moving, warped))
    return out


def summarise(items: list[dict]) -> dict:
    by = {}
    for it in items:
        by.setdefault(it["row"], []).append(it)
    bob = {(it["image"], it["strength"]): it for it in items if it["row"] == "bob"}
    breathe = [it["energy"] for it in items if it["row"] == "breathe" and it["strength"] == 1]
    table = {}
    for row, rows in by.items():
        flat = [r for r in rows if r["flat"] and r["kind"] != "opaque"]
        ratios = [r["off_palette"] / max(bob[(r["image"], r["strength"])]["off_palette"], 1e-9)
                  for r in flat if (r["image"], r["strength"]) in bob]
        at1 = [r for r in rows if r["strength"] == 1]
        table[row] = {
            "n": len(rows),
            "fold_max": max(r["fold"] for r in rows),
            "distortion_max": max(r["distortion"] for r in rows),
            "outline_min": min((r["outline_min"] for r in flat), default=None),
            "outline_max": max((r["outline_max"] for r in flat), default=None),
            "off_palette_median": statistics.median([r["off_palette"] for r in flat]) if flat else None,
            "off_palette_vs_bob_max": max(ratios, default=None),
            "ghost_max": max((r["ghost"] for r in rows if "ghost" in r), default=None),
            "energy_median_s1": statistics.median([r["energy"] for r in at1]) if at1 else None,
            "breathe_energy_median": statistics.median(breathe) if breathe else None,
            "peak_px_min_s1": min((r["peak_px"] for r in at1), default=None),
        }
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--seeds", default="0,1,2,3")
    p.add_argument("--strengths", default="0.5,1,2")
    p.add_argument("--rows", default="auto,auto-raw,auto+mask," + ",".join(PRESET_NAMES))
    p.add_argument("--only", default="", help="comma-separated check-image names (default all)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    model = load_model(DEFAULT_MODEL if args.model == "default" else args.model)
    seeds = [int(s) for s in args.seeds.split(",")]
    strengths = [float(s) for s in args.strengths.split(",")]
    only = {s for s in args.only.split(",") if s}
    items = [it for it in check_set() if not only or it.name in only]
    print(f"torch {torch.__version__}, model {args.model}, {len(items)} check images, {args.frames} frames")
    results, start = [], time.perf_counter()
    for item in items:
        for row in args.rows.split(","):
            if row == "auto+mask" and item.kind == "opaque":
                continue
            learned = row.startswith("auto")
            for seed in seeds if learned else [0]:
                for strength in strengths if (learned or row in ("bob", "breathe")) else [1.0]:
                    if row == "auto-raw" and strength != 1:
                        continue
                    results.append(render_case(model, item, row, seed, strength, args.frames))
        print(f"{item.name}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    table = summarise(results)
    keys = list(next(iter(table.values())))
    print("| row | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for row, vals in table.items():
        cells = [("—" if v is None else f"{v:.4g}") for v in vals.values()]
        print(f"| {row} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"items": results, "summary": table}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
