"""Score generators and baselines against held-out real loops, side by side in one run.

    python train/evaluate.py --model M [--model M2 ...] --data_dir ROOT --split {val,test} --output_dir OUT \\
        [--baseline static] [--baseline random-motion --motions FILE] [--max_sequences N] [--seed 0] \\
        [--contact_sheets 16] [--strength 1.0] [--realism [LOOPS]]

For every sequence of the split (a prepared ROOT, DATA.md §6, or a plain folder of GIF / APNG / WebP files) the first
frame is animated with ``num_frames = N``, the real loop's own length, at the sequence's native size and fps
(``model.animate(frame0, num_frames=N, fps=fps, seed=seed)``), and scored against the real loop with
``train/metrics.py``. ``--model`` takes a folder or Hub id of any generator type ``still2motion.load_model`` knows
(``default`` is the bundled model); it may be repeated, or left out when only baselines are asked for.

Outputs, in ``OUT``:

- ``metrics.json``::

    {"model": [the --model values], "split": "val", "data_dir": ROOT, "seed": 0, "strength": 1.0,
     "n": sequences scored,
     "rows": {row name: {                      # one per --model (named by its folder) and per --baseline
         "kind": "model" | "baseline", "model": the --model value or null, "n": sequences,
         "overall":    {metric: {"mean": float, "median": float}},
         "per_source": {source: {metric: {"mean", "median"}}}, "per_source_n": {source: sequences},
         "items": [{"seq", "source", "num_frames", "size": [w, h], "seconds", <metric>: value, ...}]}},
     "real": {"n", "overall": {"seam_ratio" | "motion_energy": {"mean", "median"}}, "per_source", "per_source_n",
              "items": [{"seq", "source", "seam_ratio", "motion_energy"}]},
     "realism": with --realism only: two-sample test accuracies per row (train/realism.py's measure_realism)}

  Metrics are ``train.metrics.METRICS`` (l1, psnr, phase_l1, motion_energy, motion_ratio, alive, seam_ratio,
  first_frame_l1, first_frame_exact, sharpness_ratio, alpha_iou) plus ``seconds`` (generation time per sequence).
  Bools aggregate as 0/1 (their mean is a fraction); non-finite values (a motion ratio against a static real
  loop) are ``null``. ``random-motion`` items also name the training sequence whose motion they borrowed
  (``motion_from``).
- ``realism.md`` (with ``--realism``): the realism table.
- ``metrics.md``: the same numbers as a Markdown table, rows = models and baselines, plus the real loops' seam ratio.
- ``contact/<row>_<i>.png``: for ``--contact_sheets`` sequences spread over the split (``i`` is the sequence's
  index), the input and the real loop above the generated loop, upscaled with NEAREST.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from still2motion import DEFAULT_MODEL, io, load_model  # noqa: E402
from still2motion.config import LIMIT_ENV  # noqa: E402
from train.eval_baselines import BASELINES, RandomMotion, static_frames  # noqa: E402
from train.eval_report import build_report, contact_sheet, slug, write_report  # noqa: E402
from train.metrics import score_clip, score_real  # noqa: E402
from train.realism import loops_arg, realism_for_rows, write_realism  # noqa: E402
from train.sequences import Sequence, list_sequences  # noqa: E402

logger = logging.getLogger("evaluate")



@dataclass
class Row:
    """One line of the table: a model or a baseline.

    Attributes:
        kind: ``"model"`` or ``"baseline"``.
        model: the --model value, or ``None`` for a baseline.
        animate: ``(input image, num_frames, fps, seq name) -> frames``, straight RGBA uint8 ``(H, W, 4)``.
        extra: ``seq name -> dict`` of keys to add to that sequence's item, or ``None``.
    """

    kind: str
    model: str | None
    animate: Callable[[Image.Image, int, float, str], list[np.ndarray]]
    extra: Callable[[str], dict] | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", default=[],
                   help="model folder or Hub id ('default': the bundled one); repeatable")
    p.add_argument("--data_dir", type=Path, required=True, help="prepared ROOT or a plain folder of animations")
    p.add_argument("--split", choices=("val", "test"), default="val")
    p.add_argument("--output_dir", type=Path, required=True)
    p.add_argument("--baseline", action="append", default=[], choices=BASELINES,
                   help="built-in baseline row; repeatable")
    p.add_argument("--motions", type=Path,
                   help="motion-targets file (train/fit_motion.py) for --baseline random-motion")
    p.add_argument("--max_sequences", type=int,
                   help="evaluate N sequences spread evenly over the split (sorted by name)")
    p.add_argument("--seed", type=int, default=0,
                   help="noise seed of every animate() call, and the random-motion draws")
    p.add_argument("--contact_sheets", type=int, default=16, help="sequences drawn per row (0: none)")
    p.add_argument("--device", default="cpu", help="device the models run on")
    p.add_argument("--strength", type=float, default=1.0,
                   help="motion strength of every --model row (animate's strength; 1 = the model's own motion_scale)")
    p.add_argument("--realism", type=loops_arg, nargs="?", const=120, metavar="LOOPS",
                   help="also run the realism tests (train/realism.py) on LOOPS sequences per row (default 120)")
    return p.parse_args(argv)


def model_name(model: str) -> str:
    """Row name of a --model value: the folder name (``checkpoint-100/generator`` keeps its parent), or the Hub id."""
    path = Path(model)
    if model == "default":
        return "default"
    if path.exists():
        resolved = path.resolve()
        return f"{resolved.parent.name}/{resolved.name}" if resolved.name == "generator" else resolved.name
    return model


def build_rows(args: argparse.Namespace, train_seqs: Callable[[], list[str]]) -> dict[str, Row]:
    """``{row name: Row}`` in table order: models, then baselines."""
    rows: dict[str, Row] = {}
    for value in args.model:
        model = load_model(DEFAULT_MODEL if value == "default" else value).to(args.device)
        name = base = model_name(value)
        for k in range(2, 100):
            if name not in rows:
                break
            name = f"{base}-{k}"

        def animate(image, num_frames, fps, seq, model=model):
            anim = model.animate(image, num_frames=num_frames, fps=fps, seed=args.seed, strength=args.strength)
            return [np.asarray(f.convert("RGBA")) for f in anim.frames]

        rows[name] = Row("model", value, animate)
    for baseline in dict.fromkeys(args.baseline):  # repeated flags give one row
        if baseline == "static":
            rows["static"] = Row("baseline", None, lambda image, num_frames, fps, seq: static_frames(image, num_frames))
        elif baseline == "random-motion":
            if args.motions is None:
                raise ValueError("--baseline random-motion needs --motions FILE (a train/fit_motion.py output)")
            if not args.motions.is_file():
                raise FileNotFoundError(f"motions file '{args.motions}' does not exist")
            borrowed = RandomMotion(args.motions, train_seqs(), seed=args.seed)
            rows["random-motion"] = Row(
                "baseline", None, lambda image, num_frames, fps, seq: borrowed(image, num_frames, seq),
                extra=lambda seq: {"motion_from": borrowed.pick(seq)},
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
    from train.motion_targets import MotionTargets

    names = {s.seq for s in evaluated}
    return [s for s in MotionTargets(args.motions).seqs if s not in names]


def to_clip(frames: list[np.ndarray]) -> torch.Tensor:
    """Straight RGBA uint8 frames -> ``(T, 4, H, W)`` premultiplied float."""
    return torch.stack([io.to_tensor(np.ascontiguousarray(f)) for f in frames])


def check_frames(name: str, seq: str, frames: list[np.ndarray], num_frames: int, shape: tuple[int, ...]) -> None:
    if len(frames) != num_frames or any(f.shape != shape for f in frames):
        got = f"{len(frames)} frames of {sorted({f.shape for f in frames})}"
        raise ValueError(f"{name} on '{seq}' returned {got}, expected {num_frames} of {shape}")


def evaluate(
    rows: dict[str, Row], sequences: list[Sequence], sheets: set[int], contact_dir: Path
) -> tuple[dict[str, dict], list[dict]]:
    """Animates and scores every sequence for every row; writes the contact sheets of the indices in ``sheets``."""
    results = {name: {"kind": row.kind, "model": row.model, "items": []} for name, row in rows.items()}
    real_items = []
    for index, seq in enumerate(tqdm(sequences, desc="evaluate", unit="seq")):
        frames, fps = seq.load()
        if len(frames) < 2:
            logger.warning("skipping '%s': %d frame, not a loop", seq.seq, len(frames))
            continue
        num_frames, (h, w) = len(frames), frames[0].shape[:2]
        real = to_clip(frames)
        image = Image.fromarray(frames[0], "RGBA")
        real_items.append({"seq": seq.seq, "source": seq.source, **score_real(real)})
        for name, row in rows.items():
            start = time.perf_counter()
            generated = row.animate(image, num_frames, fps, seq.seq)
            seconds = time.perf_counter() - start
            check_frames(name, seq.seq, generated, num_frames, frames[0].shape)
            item = {"seq": seq.seq, "source": seq.source, "num_frames": num_frames, "size": [w, h], "seconds": seconds}
            if row.extra is not None:
                item.update(row.extra(seq.seq))
            item.update(score_clip(to_clip(generated), real, real[0]))
            results[name]["items"].append(item)
            if index in sheets:
                contact_sheet(frames[0], frames, generated).save(contact_dir / f"{slug(name)}_{index}.png")
    return results, real_items


@contextlib.contextmanager
def lifted_frame_limits():
    """Real loops are evaluated at their own length (SuperTux has one of 241 frames): the per-request frame limits
    guard the CLI and the app against hostile requests, not this offline script, so they are lifted unless set."""
    names = [LIMIT_ENV[n] for n in ("max_frames", "max_total_pixels") if LIMIT_ENV[n] not in os.environ]
    os.environ.update({name: str(10**9) for name in names})
    try:
        yield
    finally:
        for name in names:
            os.environ.pop(name, None)


def main(argv: list[str] | None = None) -> int:
    with lifted_frame_limits():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if not args.model and not args.baseline:
            raise ValueError("nothing to evaluate: give --model and/or --baseline")
        if args.max_sequences is not None and args.max_sequences < 1:
            raise ValueError(f"--max_sequences must be >= 1, got {args.max_sequences}")
        sequences = list_sequences(args.data_dir, args.split)
        if not sequences:
            raise ValueError(f"no sequences in split '{args.split}' of '{args.data_dir}'")
        if args.max_sequences is not None and args.max_sequences < len(sequences):  # spread over sources and names
            keep = np.linspace(0, len(sequences) - 1, args.max_sequences).round().astype(int)
            sequences = [sequences[i] for i in sorted(set(keep.tolist()))]
        rows = build_rows(args, lambda: training_sequences(args, sequences))
        count = min(max(args.contact_sheets, 0), len(sequences))
        sheets = {int(i) for i in np.linspace(0, len(sequences) - 1, count).round()} if count else set()
        contact_dir = args.output_dir / "contact"
        contact_dir.mkdir(parents=True, exist_ok=True)
        results, real_items = evaluate(rows, sequences, sheets, contact_dir)
        realism = realism_for_rows(rows, sequences, args) if args.realism else None
    except (FileNotFoundError, ValueError) as exc:
        print(f"evaluate.py: error: {exc}", file=sys.stderr)
        return 1
    report = build_report(
        results, real_items, models=list(args.model), split=args.split, data_dir=str(args.data_dir), seed=args.seed,
        strength=args.strength,
    )
    if realism is not None:
        report["realism"] = realism
    json_path, md_path = write_report(report, args.output_dir)
    print(md_path.read_text())
    if realism is not None:
        print(write_realism(realism, args.output_dir).read_text())
    print(f"wrote {json_path}, {md_path} and {len(sheets) * len(rows)} contact sheets in {contact_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
