"""The rows ``evaluate.py`` scores: one per ``--model`` and one per ``--baseline`` (blind baselines: one per amplitude).

Baselines (``train/evaluate/baseline_rows.py``): ``static``, ``random-motion`` (``--motions``), ``ceiling:today``
(``--fits``: ``fit_motion.py`` on the evaluated split), ``ceiling:coherent`` (``--coherent_fits``:
``coherent_fit.py`` on the evaluated split), ``retrieval`` (``--bank``: ``coherent_fit.py`` on training loops) and
``blind:NAME`` (a ``still2motion.presets`` name, one row per ``--amplitudes`` value) and ``oracle:vocab``
(``--oracle``: each loop's best motion-vocabulary entry, ``research/vocab_oracle.py`` on the evaluated split).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from still2motion import DEFAULT_MODEL
from train.evaluate.design_baselines import load_generator
from still2motion.model import check_noise_scale
from train.evaluate.drawing_metrics import warp_scores
from train.evaluate.blind_curve import blind_row_name
from train.evaluate.baseline_rows import Blind, OwnMotion, RandomMotion, static_frames
from train.fit.motion_targets import MotionTargets
from train.data.sequences import Sequence, list_sequences

Frames = list[np.ndarray]
SIMPLE_BASELINES = ("static", "random-motion", "ceiling:today", "ceiling:coherent", "retrieval", "oracle:vocab")


@dataclass
class Row:
    """One line of the table: a model or a baseline.

    Attributes:
        kind: ``"model"`` or ``"baseline"``.
        model: the --model value, or ``None`` for a baseline.
        animate: ``(input image, num_frames, fps, seq name) -> frames``, straight RGBA uint8 ``(H, W, 4)``.
        extra: ``seq name -> dict`` of keys to add to that sequence's item, or ``None``.
        variants: ``(image, num_frames, fps, seq) -> [frames of seed 1, seed 2, ...]`` for best-of-seeds and seed
            diversity, or ``None``.
        meta: keys copied into the row of ``metrics.json`` (``{"blind": {"preset", "amplitude"}}``).
    """

    kind: str
    model: str | None
    animate: Callable[[Image.Image, int, float, str], Frames]
    extra: Callable[[str], dict] | None = None
    variants: Callable[[Image.Image, int, float, str], list[Frames]] | None = None
    meta: dict = field(default_factory=dict)
    warp: Callable[[Image.Image, int], dict] | None = None  # (image, num_frames) -> fold / distortion shares


def model_name(model: str) -> str:
    """Row name of a --model value: the folder name (``checkpoint-100/generator`` keeps its parent), or the Hub id."""
    path = Path(model)
    if model == "default":
        return "default"
    if path.exists():
        resolved = path.resolve()
        return f"{resolved.parent.name}/{resolved.name}" if resolved.name == "generator" else resolved.name
    return model


def check_baseline(value: str) -> str:
    """``argparse`` type of ``--baseline``: a simple baseline or ``blind:NAME``."""
    if value in SIMPLE_BASELINES or (value.startswith("blind:") and len(value) > len("blind:")):
        return value
    known = ", ".join((*SIMPLE_BASELINES, "blind:NAME"))
    raise argparse.ArgumentTypeError(f"unknown baseline {value!r}; choose from {known}")


def _needs(args: argparse.Namespace, flag: str, baseline: str) -> Path:
    path = getattr(args, flag)
    if path is None:
        raise ValueError(f"--baseline {baseline} needs --{flag} FILE")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{flag} file '{path}' does not exist")
    return Path(path)


def build_rows(args: argparse.Namespace, train_seqs: Callable[[], list[str]], evaluated: list[str]) -> dict[str, Row]:
    """``{row name: Row}`` in table order: models, then baselines."""
    rows: dict[str, Row] = {}
    for value in args.model:
        model = load_generator(DEFAULT_MODEL if value == "default" else value).to(args.device)
        if args.noise_scale is not None:
            if not hasattr(model, "noise_scale"):
                raise ValueError(f"--noise_scale applies to still2motion models, {value} holds {type(model).__name__}")
            try:
                model.noise_scale = check_noise_scale(args.noise_scale)  # the model's own check, as its config gets
            except ValueError as exc:
                raise ValueError(f"--noise_scale: {exc}") from None
        name = base = model_name(value)
        for k in range(2, 100):
            if name not in rows:
                break
            name = f"{base}-{k}"

        def animate(image, num_frames, fps, seq, model=model, seed=args.seed):
            anim = model.animate(image, num_frames=num_frames, fps=fps, seed=seed, strength=args.strength)
            return [np.asarray(f.convert("RGBA")) for f in anim.frames]

        def variants(image, num_frames, fps, seq, animate=animate):
            return [animate(image, num_frames, fps, seq, seed=args.seed + k) for k in range(1, args.seeds)]

        def warp(image, num_frames, model=model):  # issue 33: the warp animate applies (learned motion only)
            if not hasattr(model, "auto_motion"):
                return {}
            return warp_scores(model, image.convert("RGBA"), num_frames=num_frames, seed=args.seed, strength=args.strength)

        rows[name] = Row("model", value, animate, variants=variants if args.seeds > 1 else None, warp=warp)
    for baseline in dict.fromkeys(args.baseline):  # repeated flags give one row
        if baseline == "static":
            rows["static"] = Row("baseline", None, lambda image, num_frames, fps, seq: static_frames(image, num_frames))
        elif baseline == "random-motion":
            if args.motions is None:
                raise ValueError("--baseline random-motion needs --motions FILE (a train/fit/fit_motion.py output)")
            if not args.motions.is_file():
                raise FileNotFoundError(f"motions file '{args.motions}' does not exist")
            borrowed = RandomMotion(args.motions, train_seqs(), seed=args.seed)
            rows["random-motion"] = Row(
                "baseline", None, lambda image, num_frames, fps, seq: borrowed(image, num_frames, seq),
                extra=lambda seq: {"motion_from": borrowed.pick(seq)},
            )
        elif baseline.startswith("ceiling:"):
            own = OwnMotion(_needs(args, "fits" if baseline == "ceiling:today" else "coherent_fits", baseline))
            rows[baseline] = Row("baseline", None, lambda image, num_frames, fps, seq, f=own: f(image, num_frames, seq))
        elif baseline == "retrieval":
            from train.evaluate.retrieval import Retrieval

            nearest = Retrieval(_needs(args, "bank", baseline), exclude=set(evaluated))
            rows["retrieval"] = Row(
                "baseline", None, lambda image, num_frames, fps, seq: nearest(image, num_frames, seq),
                extra=lambda seq: {"motion_from": nearest.pick(seq)},
            )
        elif baseline == "oracle:vocab":
            from train.evaluate.oracle_row import VocabOracle

            oracle = VocabOracle(_needs(args, "oracle", baseline))
            rows["oracle:vocab"] = Row(
                "baseline", None, lambda image, num_frames, fps, seq: oracle(image, num_frames, seq),
                extra=oracle.extra,
            )
        else:  # blind:NAME, one row per amplitude
            preset = baseline.split(":", 1)[1]
            for amplitude in args.amplitudes:
                blind = Blind(preset, amplitude)
                rows[blind_row_name(preset, amplitude)] = Row(
                    "baseline", None, lambda image, num_frames, fps, seq, blind=blind: blind(image, num_frames, seq),
                    meta={"blind": {"preset": preset, "amplitude": amplitude}},
                )
    return rows


def training_sequences(args: argparse.Namespace, evaluated: list[Sequence]) -> list[str]:
    """Sequences whose fitted motion ``random-motion`` may borrow: the train split, else anything not evaluated."""
    try:
        train = [s.seq for s in list_sequences(args.data_dir, "train") if s.split == "train"]
    except (FileNotFoundError, ValueError):
        train = []
    if train:
        return train
    names = {s.seq for s in evaluated}
    return [s for s in MotionTargets(args.motions).seqs if s not in names]
