"""Score generators and baselines against held-out real loops, side by side in one run.

    python train/evaluate/evaluate.py --model M [--model M2 ...] --data_dir ROOT --split {val,test,unseen-val,...} \\
        --output_dir OUT [--sources supertux] [--baseline static] [--baseline random-motion --motions FILE] \\
        [--baseline ceiling:today --fits F] [--baseline ceiling:coherent --coherent_fits F] \\
        [--baseline retrieval --bank F] [--baseline blind:bob --amplitudes 0.02,0.06,0.1] [--seeds 4] \\
        [--bootstrap 1000] [--max_sequences N] [--seed 0] [--contact_sheets 16] [--strength 1.0] [--noise_scale S] \\
        [--realism [LOOPS]]

The unseen-style protocol (docs/evaluation.md): ``--sources supertux --split unseen-val`` (iterate) or
``unseen-test`` (once per shipped model); ``--split train --max_sequences N`` scores every k-th training loop.

For every sequence of the split (a prepared ROOT, docs/data-sources.md, or a plain folder of GIF / APNG / WebP files) the first
frame is animated with ``num_frames = N``, the real loop's own length, at the sequence's native size and fps
(``model.animate(frame0, num_frames=N, fps=fps, seed=seed)``), and scored against the real loop with
``train/evaluate/metrics.py``. ``--model`` takes a folder or Hub id of any generator (pix2pix and STN too)
(``default`` is the bundled model); it may be repeated, or left out when only baselines are asked for.

Outputs, in ``OUT``:

- ``metrics.json``::

    {"model": [the --model values], "split": "val", "data_dir": ROOT, "seed": 0, "strength": 1.0,
     "noise_scale": null (each model's own) or the --noise_scale value, "n": sequences scored,
     "rows": {row name: {                      # one per --model (named by its folder) and per --baseline
         "kind": "model" | "baseline", "model": the --model value or null, "n": sequences,
         "overall":    {metric: {"mean": float, "median": float}},
         "per_source": {source: {metric: {"mean", "median"}}}, "per_source_n": {source: sequences},
         "items": [{"seq", "source", "num_frames", "size": [w, h], "seconds", <metric>: value, ...}]}},
     "real": {"n", "overall": {"seam_ratio" | "motion_energy": {"mean", "median"}}, "per_source", "per_source_n",
              "items": [{"seq", "source", "seam_ratio", "motion_energy"}]},
     "realism": with --realism only: two-sample test accuracies per row (train/evaluate/realism.py's measure_realism)}

  Metrics are ``train.evaluate.metrics.METRICS`` (l1, psnr, phase_l1, motion_energy, motion_ratio, alive, seam_ratio,
  first_frame_l1, first_frame_exact, sharpness_ratio, alpha_iou) plus ``seconds`` (generation time per sequence).
  Bools aggregate as 0/1 (their mean is a fraction); non-finite values (a motion ratio against a static real
  loop) are ``null``. ``random-motion`` and ``retrieval`` items also name the training sequence whose motion they
  borrowed (``motion_from``). Items carry ``character`` and, when ``--fits`` / ``--coherent_fits`` are given, the
  loop's ``kind`` (``train/fit/loop_kinds.py``); model rows with ``--seeds`` > 1 add ``best_phase_l1`` and ``diversity``.
  Every item also has the keeping-the-drawing measures (``train/evaluate/drawing_metrics.py``, issue 33): ``outline_kept_min``,
  ``outline_kept_max`` and ``off_palette`` (worst frame), and for still2motion rows ``fold`` and ``distortion``
  (worst frame's share of the silhouette); ``metrics.md`` ends with their table.
  ``"protocol"``: the summary with character-bootstrap intervals, per source and per kind, and the blind-curve
  verdicts (``train/evaluate/protocol_report.py``).
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
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from still2motion import io  # noqa: E402
from still2motion.config import LIMIT_ENV  # noqa: E402
from train.evaluate.blind_curve import AMPLITUDES  # noqa: E402
from train.evaluate.eval_report import build_report, eval_contact_sheet, slug, write_report  # noqa: E402
from train.evaluate.eval_rows import Row, build_rows, check_baseline, training_sequences  # noqa: E402
from train.fit.loop_kinds import loop_kinds  # noqa: E402
from train.evaluate.metrics import best_of, score_clip, score_real, seed_diversity  # noqa: E402
from train.evaluate.realism import loops_arg, realism_for_rows, write_realism  # noqa: E402
from train.data.sequences import SPLITS, Sequence, list_sequences, select  # noqa: E402
from train.evaluate.drawing_metrics import drawing_scores  # noqa: E402

logger = logging.getLogger("evaluate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", default=[],
                   help="model folder or Hub id ('default': the bundled one); repeatable")
    p.add_argument("--data_dir", type=Path, required=True, help="prepared ROOT or a plain folder of animations")
    p.add_argument("--split", choices=SPLITS, default="val",
                   help="unseen-val / unseen-test: the held-out sources (docs/evaluation.md); train: fitting checks")
    p.add_argument("--sources", type=lambda v: [s for s in v.split(",") if s],
                   help="comma-separated sources to keep (e.g. supertux); default all")
    p.add_argument("--output_dir", type=Path, required=True)
    p.add_argument("--baseline", action="append", default=[], type=check_baseline,
                   help="static, random-motion, ceiling:today, ceiling:coherent, retrieval, oracle:vocab or "
                        "blind:NAME; repeatable")
    p.add_argument("--motions", type=Path,
                   help="motion-targets file (train/fit/fit_motion.py) for --baseline random-motion")
    p.add_argument("--fits", type=Path,
                   help="fit_motion.py fits of the evaluated loops: ceiling:today, and the kind of each loop")
    p.add_argument("--coherent_fits", type=Path,
                   help="coherent_fit.py fits of the evaluated loops: ceiling:coherent (and loop kinds)")
    p.add_argument("--bank", type=Path, help="coherent_fit.py fits of training loops for --baseline retrieval")
    p.add_argument("--oracle", type=Path,
                   help="vocab_oracle.py choices on the evaluated split for --baseline oracle:vocab")
    p.add_argument("--amplitudes", type=lambda v: [float(a) for a in v.split(",")], default=list(AMPLITUDES),
                   help="blind:NAME amplitudes, fractions of the silhouette height (default 0.02,...,0.1)")
    p.add_argument("--seeds", type=int, default=1,
                   help="seeds per model row (seed, seed+1, ...): best-of-seeds L1 and seed diversity when > 1")
    p.add_argument("--bootstrap", type=int, default=1000, help="character-bootstrap draws (0: no protocol summary)")
    p.add_argument("--max_sequences", type=int,
                   help="evaluate every k-th sequence of the split (sorted by name), at most N")
    p.add_argument("--seed", type=int, default=0,
                   help="noise seed of every animate() call, and the random-motion draws")
    p.add_argument("--contact_sheets", type=int, default=16, help="sequences drawn per row (0: none)")
    p.add_argument("--device", default="cpu", help="device the models run on")
    p.add_argument("--strength", type=float, default=1.0,
                   help="motion strength of every --model row (animate's strength; 1 = the model's own motion_scale)")
    p.add_argument("--noise_scale", type=float, default=None,
                   help="spread of every --model row's seed noise (default: each model's own config noise_scale)")
    p.add_argument("--realism", type=loops_arg, nargs="?", const=120, metavar="LOOPS",
                   help="also run the realism tests (train/evaluate/realism.py) on LOOPS sequences per row (default 120)")
    return p.parse_args(argv)


def to_clip(frames: list[np.ndarray]) -> torch.Tensor:
    """Straight RGBA uint8 frames -> ``(T, 4, H, W)`` premultiplied float."""
    return torch.stack([io.to_tensor(np.ascontiguousarray(f)) for f in frames])


def check_frames(name: str, seq: str, frames: list[np.ndarray], num_frames: int, shape: tuple[int, ...]) -> None:
    if len(frames) != num_frames or any(f.shape != shape for f in frames):
        got = f"{len(frames)} frames of {sorted({f.shape for f in frames})}"
        raise ValueError(f"{name} on '{seq}' returned {got}, expected {num_frames} of {shape}")


def evaluate(
    rows: dict[str, Row], sequences: list[Sequence], sheets: set[int], contact_dir: Path,
    kinds: dict[str, dict] | None = None,
) -> tuple[dict[str, dict], list[dict]]:
    """Animates and scores every sequence for every row; writes the contact sheets of the indices in ``sheets``.

    ``kinds`` maps a sequence to keys every item of it gets (``{"kind": "warp" | "swap"}``).
    """
    kinds = kinds or {}
    results = {name: {"kind": row.kind, "model": row.model, "items": [], **row.meta} for name, row in rows.items()}
    real_items = []
    for index, seq in enumerate(tqdm(sequences, desc="evaluate", unit="seq")):
        frames, fps = seq.load()
        if len(frames) < 2:
            logger.warning("skipping '%s': %d frame, not a loop", seq.seq, len(frames))
            continue
        num_frames, (h, w) = len(frames), frames[0].shape[:2]
        real = to_clip(frames)
        image = Image.fromarray(frames[0], "RGBA")
        ident = {"seq": seq.seq, "source": seq.source, "character": seq.character, **kinds.get(seq.seq, {})}
        real_items.append({**ident, **score_real(real)})
        for name, row in rows.items():
            start = time.perf_counter()
            generated = row.animate(image, num_frames, fps, seq.seq)
            seconds = time.perf_counter() - start
            check_frames(name, seq.seq, generated, num_frames, frames[0].shape)
            item = {**ident, "num_frames": num_frames, "size": [w, h], "seconds": seconds}
            if row.extra is not None:
                item.update(row.extra(seq.seq))
            clip = to_clip(generated)
            item.update(score_clip(clip, real, real[0]))
            item.update(drawing_scores(clip, real[0]))  # issue 33: outline kept, off-palette share
            if row.warp is not None:
                item.update(row.warp(image, num_frames))  # fold and distortion shares of the applied warp
            if row.variants is not None:
                clips = [clip] + [to_clip(f) for f in row.variants(image, num_frames, fps, seq.seq)]
                item.update(best_phase_l1=best_of(clips, real), diversity=seed_diversity(clips, real[0]))
            results[name]["items"].append(item)
            if index in sheets:
                eval_contact_sheet(frames[0], frames, generated).save(contact_dir / f"{slug(name)}_{index}.png")
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
        if args.seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
        sequences = select(list_sequences(args.data_dir, args.split), sources=args.sources,
                           max_sequences=args.max_sequences)
        if not sequences:
            raise ValueError(f"no sequences in split '{args.split}' of '{args.data_dir}'"
                             + (f" from sources {','.join(args.sources)}" if args.sources else ""))
        fits = [f for f in (args.fits, args.coherent_fits) if f is not None and f.is_file()]
        kinds = {seq: {"kind": kind} for seq, kind in loop_kinds(*fits).items()} if fits else {}
        rows = build_rows(args, lambda: training_sequences(args, sequences), [s.seq for s in sequences])
        count = min(max(args.contact_sheets, 0), len(sequences))
        sheets = {int(i) for i in np.linspace(0, len(sequences) - 1, count).round()} if count else set()
        contact_dir = args.output_dir / "contact"
        contact_dir.mkdir(parents=True, exist_ok=True)
        results, real_items = evaluate(rows, sequences, sheets, contact_dir, kinds)
        realism = realism_for_rows(rows, sequences, args) if args.realism else None
    except (FileNotFoundError, ValueError) as exc:
        print(f"evaluate.py: error: {exc}", file=sys.stderr)
        return 1
    report = build_report(
        results, real_items, models=list(args.model), split=args.split, data_dir=str(args.data_dir), seed=args.seed,
        strength=args.strength, draws=args.bootstrap, sources=args.sources, noise_scale=args.noise_scale,
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
