"""The vocabulary's oracle: each evaluated loop gets the table entry (``research/vocabulary.py``) that reproduces it best.

For every loop of a split, every entry is rendered on the loop's own frame 0, placed on its silhouette
(``coherent_fit.to_motion``), in the variants a predicted residual could choose: a phase anchor (where the input sits
in the cycle), a mirror and an amplitude scale (``--scales``, default 0.5 / 1 / 1.5x). Coarse to fine: every entry at
scale 1 on 4 anchors x mirror, then the ``TOP`` 4 entries on 8 anchors x mirror x scales, then the best one's
anchor refined in steps of pi / 32 (up to +- 3 pi / 32). The variant with
the lowest phase-aligned L1 (``train/evaluate/metrics.py``'s metric, batched here) against the real loop is the oracle's choice:
the best a network that classifies over the table (plus that residual) could do. Selection runs at the fits'
resolution (32², letterboxed, loops longer than 32 frames on 32 evenly spaced frames, as ``coherent_fit.py`` sees
them); ``evaluate.py --baseline oracle:vocab --oracle FILE`` renders the choices at the loops' own size and scores
them with every other row.

It also asks whether the chosen motion is one of the hand-made presets (``still2motion/presets.py``): the seed
diversity of the protocol (``metrics.diversity``: phase-aligned L1 between two clips over their mean L1 to the input)
between the chosen clip and the nearest preset clip (``PRESET_AMPLITUDES``); below ``RESEMBLES`` it "resembles" it.

The output is a coherent bank (``retrieval.py``'s format: ``c_masks``, ``c_affine``, ``c_flow`` of each loop's chosen
variant, plus ``entry``, ``anchor``, ``mirror``, ``scale``, ``oracle_l1``, ``static_l1``, ``entry_l1 (N, V)``,
``preset_diversity``; metadata ``seqs``, ``config`` with ``preset`` names).

    python research/vocab_oracle.py --vocabulary V.safetensors --data_dir ROOT --split val --max_sequences 74 \\
        --output oracle_val.safetensors
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])


from still2motion.motion import Motion, layer_images, render  # noqa: E402
from train.fit import silhouette  # noqa: E402
from train.fit.coherent_fit import Coherent, to_motion  # noqa: E402
from train.fit.fit_motion import load_clips, parse_shard, scored_every  # noqa: E402
from train.evaluate.metrics import diversity  # noqa: E402
from train.fit.motion_targets import save_targets  # noqa: E402
from research.vocabulary import load_table, variant  # noqa: E402

logger = logging.getLogger("vocab_oracle")

ANCHORS = tuple(k * math.pi / 2 for k in range(4))  # where the input may sit in an entry's cycle (coarse pass)
FINE_ANCHORS = tuple(k * math.pi / 4 for k in range(8))  # ... and for the TOP entries of the coarse pass
TOP = 4
SCALES = (0.5, 1.0, 1.5)
PRESET_AMPLITUDES = (0.02, 0.04, 0.06, 0.08, 0.1)  # the blind curves' sweep
RESEMBLES = 0.5  # diversity below this: the chosen motion resembles the preset
_CHUNK = 96  # variants rendered at once


def variants(table: Coherent, scales=SCALES, anchors=ANCHORS) -> tuple[Coherent, torch.Tensor]:
    """Every (entry, anchor, mirror, scale) of a table: ``Coherent (V * A * 2 * S, ...)`` and their
    ``(entry, anchor, mirror, scale)`` rows ``(V * A * 2 * S, 4)``."""
    parts, keys = [], []
    for anchor in anchors:
        for mirror in (False, True):
            for scale in scales:
                parts.append(variant(table, anchor=anchor, mirror=mirror, scale=scale))
                V = table.affine.shape[0]
                keys.append(torch.stack((torch.arange(V, dtype=torch.float32), torch.full((V,), anchor),
                                         torch.full((V,), float(mirror)), torch.full((V,), scale)), 1))
    cat = Coherent(*(torch.cat([getattr(p, k) for p in parts]) for k in ("masks", "affine", "flow")))
    return cat, torch.cat(keys)


def phase_l1_batch(clips: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``metrics.phase_aligned_l1`` of each clip ``(G, T, 4, R, R)`` against ``real (T, 4, R, R)``: ``(G,)``."""
    G, T = clips.shape[:2]
    D = torch.cdist(clips.flatten(2), real.flatten(1)[None].expand(G, -1, -1), p=1) / real[0].numel()  # (G, T, T)
    t = torch.arange(T)
    s = torch.arange(T)[:, None]
    order = torch.cat(((s + t) % T, (s - t) % T))  # (2T, T): every shift, forwards and backwards
    return D[:, order, t.expand(2 * T, T)].mean(dim=-1).min(dim=-1).values


def render_coherent(c: Coherent, source: torch.Tensor, phases: torch.Tensor, canvas_grid: int) -> torch.Tensor:
    """Coherent motions ``(G, ...)`` placed on one letterboxed frame ``(4, R, R)``: clips ``(G, T, 4, R, R)``."""
    G, R = c.affine.shape[0], source.shape[-1]
    box = silhouette.alpha_box(source[None]).expand(G, 4)
    motion = to_motion(c, box, canvas_grid)
    image = source[None].expand(G, -1, -1, -1)
    return render(layer_images(image, motion.masks, (0, 0, R, R), R, False), motion, phases,
                  box=(0, 0, R, R), canvas_size=R)


def _scores(cands: Coherent, frames: torch.Tensor, phases: torch.Tensor, canvas_grid: int) -> torch.Tensor:
    """Phase-aligned L1 of every candidate rendered on the loop's frame 0: ``(G,)``."""
    return torch.cat([
        phase_l1_batch(render_coherent(Coherent(cands.masks[i:i + _CHUNK], cands.affine[i:i + _CHUNK],
                                                cands.flow[i:i + _CHUNK]), frames[0], phases, canvas_grid), frames)
        for i in range(0, cands.affine.shape[0], _CHUNK)])


@torch.no_grad()
def choose(table: Coherent, frames: torch.Tensor, phases: torch.Tensor, canvas_grid: int, scales=SCALES,
           coarse_scale: float = 1.0):
    """The oracle on one loop ``frames (T, 4, R, R)``, coarse to fine: every entry at ``coarse_scale`` on ``ANCHORS``
    x mirror, then the ``TOP`` best entries on ``FINE_ANCHORS`` x mirror x ``scales``, then the best one's anchor
    refined.

    Returns ``(best variant Coherent (1, ...), its (entry, anchor, mirror, scale) (4,), its phase-L1, the coarse
    phase-L1 of each entry (V,))``.
    """
    V = table.affine.shape[0]
    cands, keys = variants(table, (coarse_scale,), ANCHORS)
    scores = _scores(cands, frames, phases, canvas_grid)
    per_entry = torch.full((V,), math.inf).scatter_reduce(0, keys[:, 0].long(), scores, "amin")
    top = per_entry.argsort()[:TOP]
    sub = Coherent(table.masks[top], table.affine[top], table.flow[top])
    cands, keys = variants(sub, scales, FINE_ANCHORS)
    keys[:, 0] = top[keys[:, 0].long()].float()
    scores = _scores(cands, frames, phases, canvas_grid)
    entry, anchor, mirror, scale = keys[int(scores.argmin())].tolist()
    # refine the anchor around the best: a motion of large amplitude is sensitive to where the input sits in it
    one = Coherent(table.masks[int(entry):int(entry) + 1], table.affine[int(entry):int(entry) + 1],
                   table.flow[int(entry):int(entry) + 1])
    anchors = [anchor + k * math.pi / 32 for k in range(-3, 4)]
    fine = [variant(one, anchor=a, mirror=bool(mirror), scale=scale) for a in anchors]
    fine = Coherent(*(torch.cat([getattr(f, k) for f in fine]) for k in ("masks", "affine", "flow")))
    scores = _scores(fine, frames, phases, canvas_grid)
    best = int(scores.argmin())
    pick = Coherent(fine.masks[best:best + 1], fine.affine[best:best + 1], fine.flow[best:best + 1])
    return pick, torch.tensor([entry, anchors[best] % (2 * math.pi), mirror, scale]), float(scores[best]), per_entry


@torch.no_grad()
def nearest_preset(clip: torch.Tensor, source: torch.Tensor, phases: torch.Tensor) -> tuple[str, float]:
    """The preset (``still2motion.presets``, spin excepted) whose clip is nearest to ``clip (T, 4, R, R)`` on the same
    input, by the protocol's diversity, over ``PRESET_AMPLITUDES``: ``(name@amplitude, diversity)``."""
    from still2motion import presets

    R = source.shape[-1]
    best = ("", math.inf)
    for name in presets.PRESET_NAMES:
        if not presets.PRESETS[name].scalable:
            continue
        for amplitude in PRESET_AMPLITUDES:
            motion = presets.preset_motion(name, source[None], amplitude=amplitude, box=(0, 0, R, R))
            other = render(layer_images(source[None], motion.masks, (0, 0, R, R), R, False), motion, phases,
                           box=(0, 0, R, R), canvas_size=R)[0]
            d = diversity(clip, other, source)
            if d < best[1]:
                best = (f"{name}@{amplitude:g}", d)
    return best


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vocabulary", type=Path, required=True, help="research/vocabulary.py table")
    p.add_argument("--data_dir", required=True, help="prepared ROOT or a pack")
    p.add_argument("--split", default="val")
    p.add_argument("--max_sequences", type=int, default=None,
                   help="every k-th loop, at most N (the ones evaluate.py --max_sequences N scores)")
    p.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="K/N",
                   help="keep the K-th of every N selected loops (run N processes; vocab_loss.OracleTargets reads "
                        "the N files together)")
    p.add_argument("--scales", type=lambda v: [float(s) for s in v.split(",")], default=list(SCALES))
    p.add_argument("--coarse_scale", type=float, default=1.0, help="scale of every entry in the coarse pass")
    p.add_argument("--no_presets", action="store_true", help="skip the nearest-preset comparison")
    p.add_argument("--output", type=Path, required=True)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.time()
    try:
        table, _, config = load_table(args.vocabulary)
        R = int(config.get("resolution", 32))
        every = scored_every(args.data_dir, args.split, R, args.max_sequences)
        clips = load_clips(args.data_dir, args.split, R, args.max_sequences, 32, every, args.shard)
        if not clips:
            raise ValueError(f"split {args.split!r} of {args.data_dir} has no sequences")
    except (FileNotFoundError, ValueError) as exc:
        print(f"vocab_oracle.py: error: {exc}", file=sys.stderr)
        return 1
    rows: dict[str, list] = {k: [] for k in ("masks", "affine", "flow", "key", "l1", "static", "per_entry", "div")}
    names = []
    for n, (seq, source, frames, phases) in enumerate(clips):
        pick, key, l1, per_entry = choose(table, frames, phases, int(config.get("canvas_grid", 16)), args.scales,
                                          args.coarse_scale)
        rows["masks"].append(pick.masks)
        rows["affine"].append(pick.affine)
        rows["flow"].append(pick.flow)
        rows["key"].append(key)
        rows["l1"].append(l1)
        rows["static"].append(float((frames - frames[:1]).abs().mean()))
        rows["per_entry"].append(per_entry)
        if not args.no_presets:
            clip = render_coherent(pick, frames[0], phases, int(config.get("canvas_grid", 16)))[0]
            name, div = nearest_preset(clip, frames[0], phases)
            names.append(name)
            rows["div"].append(div)
        if n % 20 == 0:
            logger.info("%d/%d loops, %.0f s", n + 1, len(clips), time.time() - started)
    keys = torch.stack(rows["key"])
    l1, static = torch.tensor(rows["l1"]), torch.tensor(rows["static"])
    extra = {"c_masks": torch.cat(rows["masks"]), "c_affine": torch.cat(rows["affine"]),
             "c_flow": torch.cat(rows["flow"]), "entry": keys[:, 0], "anchor": keys[:, 1], "mirror": keys[:, 2],
             "scale": keys[:, 3], "oracle_l1": l1, "static_l1": static, "entry_l1": torch.stack(rows["per_entry"])}
    if rows["div"]:
        extra["preset_diversity"] = torch.tensor(rows["div"])
    seqs = [c[0] for c in clips]
    out_config = {"kind": "vocab-oracle", "vocabulary": str(args.vocabulary), "split": args.split,
                  "resolution": R, "canvas_grid": int(config.get("canvas_grid", 16)), "scales": args.scales,
                  "coarse_scale": args.coarse_scale,
                  "anchors": list(FINE_ANCHORS), "top": TOP, "sources": [c[1] for c in clips], "preset": names,
                  "seconds": round(time.time() - started, 1)}
    empty = Motion(torch.zeros(len(seqs), 1, 1, 1), torch.zeros(len(seqs), 1, 6, 1, 2),
                   torch.zeros(len(seqs), 1, 2, 1, 2, 1, 1))  # the canvas motion depends on the input: none here
    save_targets(args.output, seqs, empty, out_config, extra=extra)
    ratio = (l1 / static.clamp_min(1e-9)).median().item()
    summary = (f"{args.split}: {len(seqs)} loops, oracle phase-L1 {l1.mean():.5f} vs static {static.mean():.5f} "
               f"(median ratio {ratio:.3f}) at {R}²")
    if rows["div"]:
        share = (extra["preset_diversity"] < RESEMBLES).float().mean().item()
        summary += f"; {share:.0%} resemble a preset (diversity < {RESEMBLES})"
    logger.info("%s; %.0f s -> %s", summary, time.time() - started, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
