"""Realism of generated loops: two classifier two-sample tests against the real loops of the same inputs.

For a budget of ``loops`` sequences spread over the split, every row (a model or a baseline) animates each
sequence's frame 0 at the real loop's length, and two classifiers try to tell its loops from the real ones:

- **codes**: the stage-1 motion is fitted to both (``train/evaluate/realism_codes.py``) and a ridge logistic regression reads
  the phase- and direction-invariant codes. It sees motion only, so resampling artefacts cannot give a row away.
- **pixels**: a small 3D-conv critic (``train/evaluate/realism_critic.py``) reads the loops themselves (64², T = 8).

Both are cross-validated by character (``train/evaluate/realism_cv.py``): held-out accuracy, mean over fold seeds ± spread;
0.5 = indistinguishable, 1.0 = trivially told apart. Each row also gets its alive rate and median sharpness ratio on
the same loops (the critic can key on blur), and the seconds each stage took. ``evaluate.py --realism`` calls
``measure_realism`` and stores its result under ``"realism"`` in metrics.json, and ``realism.md`` beside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from still2motion import io
from train.evaluate import metrics
from train.evaluate.realism_codes import fit_clip, fit_codes, fitter_args
from train.evaluate.realism_critic import CriticConfig, critic_clip, critic_fit_predict
from train.evaluate.realism_cv import cross_validate, logistic_fit_predict
from train.data.sequences import Sequence, manifest_records

logger = logging.getLogger(__name__)

Animate = Callable[[Image.Image, int, float, str], list[np.ndarray]]  # evaluate.Row.animate


@dataclass(kw_only=True)
class RealismConfig:
    loops: int = 120  # sequences per row (both tests); the fit of generated loops dominates the cost
    folds: int = 5
    repeats: int = 3  # fold seeds of the codes test
    pixel_repeats: int = 2  # fold seeds of the pixel critic (each trains `folds` critics)
    pixels: bool = True
    seed: int = 0
    fit_steps: int = 150  # fit_motion.py's default
    fit_resolution: int = 32
    ridge: float = 1.0
    critic: CriticConfig = field(default_factory=CriticConfig)


@dataclass
class Loop:
    seq: str
    character: str
    frames: list[np.ndarray]  # straight RGBA uint8 (H, W, 4)
    fps: float


def characters_of(data_dir: str | Path, seqs: list[str]) -> dict[str, str]:
    """``seq -> character`` from the manifest of a prepared ROOT; otherwise the name before ``#`` (one per file)."""
    manifest = Path(data_dir) / "manifest.jsonl"
    known = {}
    if manifest.is_file():
        known = {r["seq"]: r.get("character") for r in manifest_records(Path(data_dir))}
    return {s: known.get(s) or s.split("#", 1)[0] for s in seqs}


def spread(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (sorted by name: all sources and characters get a share)."""
    if count >= len(items):
        return list(items)
    keep = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in sorted(set(keep.tolist()))]


def load_loops(sequences: list[Sequence], characters: dict[str, str], count: int) -> list[Loop]:
    loops = []
    for seq in spread(sequences, count):
        frames, fps = seq.load()
        if len(frames) >= 2:
            loops.append(Loop(seq.seq, characters[seq.seq], frames, fps))
    return loops


class RealSide:
    """The real loops of the budget, with their codes and critic clips computed once for every row."""

    def __init__(self, loops: list[Loop], config: RealismConfig) -> None:
        self.loops, self.config = loops, config
        self.fit_args = fitter_args(steps=config.fit_steps, fit_resolution=config.fit_resolution)
        start, cpu = time.perf_counter(), time.process_time()
        self.codes = codes_of([lp.frames for lp in loops], self.fit_args)
        self.fit_seconds, self.fit_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        c = config.critic
        self.clips = None  # (N, 4, T, S, S)
        if config.pixels:
            self.clips = torch.stack([critic_clip(lp.frames, c.size, c.num_frames) for lp in loops])
        self.groups = [lp.character for lp in loops]


def codes_of(loops: list[list[np.ndarray]], fit_args) -> np.ndarray:
    return fit_codes([fit_clip(f, fit_args.fit_resolution, fit_args.max_frames) for f in loops], fit_args)


def two_sample_tests(real: RealSide, fake_frames: list[list[np.ndarray]]) -> dict:
    """Both tests of one row's loops (``fake_frames[i]`` animates ``real.loops[i]``) against the real ones."""
    config = real.config
    n = len(real.loops)
    labels = np.r_[np.ones(n), np.zeros(n)]
    groups = real.groups * 2  # a generated loop belongs to the character it animates
    out: dict = {"seconds": {}}
    start = time.perf_counter()
    codes = codes_of(fake_frames, real.fit_args)
    out["seconds"]["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    x = np.concatenate([real.codes, codes])
    out["codes"] = cross_validate(labels, groups, logistic_fit_predict(x, labels, ridge=config.ridge),
                                  folds=config.folds, repeats=config.repeats, seed=config.seed)
    out["seconds"]["codes"] = time.perf_counter() - start
    if config.pixels:
        start = time.perf_counter()
        c = config.critic
        clips = torch.cat([real.clips, torch.stack([critic_clip(f, c.size, c.num_frames) for f in fake_frames])])
        out["pixels"] = cross_validate(labels, groups, critic_fit_predict(clips, labels, c, seed=config.seed),
                                       folds=config.folds, repeats=config.pixel_repeats, seed=config.seed)
        out["seconds"]["pixels"] = time.perf_counter() - start
    return out


def score_row(real: RealSide, animate: Animate) -> dict:
    """Generates the row's loops, then its alive rate, median sharpness ratio and both tests."""
    start, cpu = time.perf_counter(), time.process_time()
    fakes = [animate(Image.fromarray(lp.frames[0], "RGBA"), len(lp.frames), lp.fps, lp.seq) for lp in real.loops]
    generate = time.perf_counter() - start
    alive, sharp = [], []
    for lp, fake in zip(real.loops, fakes):
        r, g = _clip(lp.frames), _clip(fake)
        alive.append(metrics.is_alive(metrics.motion_ratio(g, r)))
        sharp.append(metrics.sharpness_ratio(g, r[0]))
    out = two_sample_tests(real, fakes)
    out["seconds"]["generate"] = generate
    out["seconds"]["total"] = sum(out["seconds"].values())
    out["cpu_seconds"] = time.process_time() - cpu  # of this process: on a shared machine wall time overstates cost
    return {"alive": float(np.mean(alive)), "sharpness_ratio": float(np.median(sharp)), **out}


def _clip(frames: list[np.ndarray]) -> torch.Tensor:
    return torch.stack([io.to_tensor(np.ascontiguousarray(f)) for f in frames])  # (T, 4, H, W)


Blind = Callable[[list[Loop], float], dict[str, Animate]]  # (loops, alive rate to match) -> more rows


def measure_realism(rows: dict[str, Animate], sequences: list[Sequence], *, data_dir: str | Path,
                    config: RealismConfig | None = None, blind: Blind | None = None) -> dict:
    """Both realism tests for every row; the ``"realism"`` block of metrics.json.

    Args:
        rows: ``{row name: animate}`` in table order (``evaluate.Row.animate``).
        sequences: the evaluated split; ``config.loops`` of them are used.
        data_dir: where the manifest names each sequence's character (the fold groups).
        blind: given the loops and the first row's alive rate on them, more rows to score (the image-blind presets at
            a matched amplitude).

    Returns:
        ``{"config", "n", "characters", "real_fit_seconds", "rows": {name: {"alive", "sharpness_ratio",
        "codes": cross_validate's dict, "pixels": the same (when on), "seconds": {stage: wall s},
        "cpu_seconds": this process's CPU time for the row}}}``.
    """
    config = config or RealismConfig()
    characters = characters_of(data_dir, [s.seq for s in sequences])
    characters.update({s.seq: s.character for s in sequences if getattr(s, "character", "")})  # the split's own
    loops = load_loops(sequences, characters, config.loops)
    count = len({lp.character for lp in loops})
    if count < 2:
        raise ValueError(f"realism needs loops of at least 2 characters (the folds are by character), got {count}")
    if count < config.folds:
        logger.warning("realism: %d characters, so %d folds instead of %d", count, count, config.folds)
        config = replace(config, folds=count)
    logger.info("realism: fitting %d real loops (%d characters)", len(loops), len({lp.character for lp in loops}))
    real = RealSide(loops, config)
    result = {"config": asdict(config), "n": len(loops), "characters": len(set(real.groups)),
              "real_fit_seconds": real.fit_seconds, "real_fit_cpu_seconds": real.fit_cpu_seconds, "rows": {}}
    for name, animate in rows.items():
        result["rows"][name] = _logged(name, score_row(real, animate))
    if blind is not None and rows:
        first = next(iter(result["rows"].values()))
        for name, animate in blind(real.loops, first["alive"]).items():
            result["rows"][name] = _logged(name, score_row(real, animate))
    return result


def _logged(name: str, row: dict) -> dict:
    pixels = f", pixels {row['pixels']['acc']:.3f} ± {row['pixels']['std']:.3f}" if "pixels" in row else ""
    logger.info("realism: %s: codes %.3f ± %.3f%s, alive %.3f, %.0f s", name, row["codes"]["acc"], row["codes"]["std"],
                pixels, row["alive"], row["seconds"]["total"])
    return row


def loops_arg(value: str) -> int:
    """``--realism LOOPS``: a positive number of sequences."""
    loops = int(value)
    if loops < 1:
        raise ValueError(f"--realism needs at least 1 loop, got {value}")
    return loops


def realism_for_rows(rows: dict, sequences: list[Sequence], args) -> dict:
    """``evaluate.py --realism``: every row of the table, then the image-blind presets matched to the first model."""
    from train.evaluate.realism_blind import blind_rows  # None until still2motion.presets exists

    config = RealismConfig(loops=args.realism, seed=args.seed)
    has_model = any(row.kind == "model" for row in rows.values())
    blind = blind_rows() if has_model else None
    return measure_realism({name: row.animate for name, row in rows.items()}, sequences, data_dir=args.data_dir,
                           config=config, blind=blind)


def write_realism(realism: dict, output_dir: Path) -> Path:
    path = Path(output_dir) / "realism.md"
    path.write_text(realism_markdown(realism))
    return path


def realism_markdown(realism: dict) -> str:
    """The realism block as a Markdown table (accuracy: 0.5 = indistinguishable from real, 1.0 = told apart)."""
    lines = [
        f"Realism: {realism['n']} loops of {realism['characters']} characters, {realism['config']['folds']}-fold "
        "cross-validation by character; held-out accuracy, mean ± spread over fold seeds (0.5 = looks real).",
        "",
        "| row | codes acc ↓ | pixels acc ↓ | alive % | median sharpness | s/row (CPU s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in realism["rows"].items():
        cells = [f"{row[k]['acc']:.3f} ± {row[k]['std']:.3f}" if k in row else "-" for k in ("codes", "pixels")]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {100 * row['alive']:.1f} | {row['sharpness_ratio']:.2f} "
                     f"| {row['seconds']['total']:.0f} ({row.get('cpu_seconds', 0):.0f}) |")
    lines.append(f"\nReal loops: fitted once in {realism['real_fit_seconds']:.0f} s "
                 f"({realism.get('real_fit_cpu_seconds', 0):.0f} CPU s). Pixel accuracies vary a lot with a few "
                 "hundred clips: read them with their spread, and beside sharpness (the critic can key on blur).")
    return "\n".join(lines) + "\n"
