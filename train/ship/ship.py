"""Ship a trained generator as the bundled default model, with a card whose numbers come from metrics files.

Copies ``config.json`` + ``model.safetensors`` of a training run into ``still2motion/default_model/`` and writes its
README.md (model card): test metrics from ``train/evaluate/evaluate.py``'s ``metrics.json``, plus any further evaluations
(val, leave-one-source-out) as extra tables, the training data's sources and licences, and the run's steps, hardware
and wall time read from its last checkpoint and log. Nothing in the card is typed by hand.

    python train/ship/ship.py --run_dir runs/main --data_dir ~/.cache/still2motion/data \\
        --metrics eval/test/metrics.json --extra "Validation split"=eval/val/metrics.json --license gpl-3.0
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `train` from the repo root (train/train.py would shadow it)
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not this folder

from still2motion import DEFAULT_MODEL, load_model  # noqa: E402
from train.ship import model_card  # noqa: E402
from train.checkpointing import read_state  # noqa: E402

LICENSE_NOTE = (
    "The weights were trained on GPL-2.0-or-later (Widelands, Wesnoth), GPL-3.0-or-later (SuperTux) and "
    "CC-BY-SA-3.0-or-later (Flare) art, so they are released under **GPL-3.0-or-later** (the code of still2motion is "
    "Apache-2.0). Not legal advice: check the terms before redistributing."
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run_dir", required=True, help="train.py --output_dir (config.json + model.safetensors)")
    p.add_argument("--data_dir", required=True, help="the prepared ROOT it was trained on (for sources and licences)")
    p.add_argument("--metrics", required=True, help="metrics.json of the test evaluation")
    p.add_argument("--extra", action="append", default=[], metavar="TITLE=metrics.json", help="further tables")
    p.add_argument("--notes", action="append", default=[], help="Markdown lines to add under 'Notes'")
    p.add_argument("--license", default="gpl-3.0")
    p.add_argument("--dest", default=DEFAULT_MODEL)
    p.add_argument("--motion_scale", type=float, default=None,
                   help="amplitude calibration written into the shipped config.json (chosen on val with evaluate.py "
                        "--strength); every metrics file must have been measured at this effective strength")
    p.add_argument("--noise_scale", type=float, default=None,
                   help="seed-noise spread written into the shipped config.json (chosen on val with evaluate.py "
                        "--noise_scale); every metrics file must have been measured at it")
    return p.parse_args(argv)


def run_info(run_dir: Path) -> dict:
    """Steps from the newest checkpoint (else the run's card); hardware, wall time and command from the run's card."""
    checkpoints = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    info = {"steps": read_state(checkpoints[-1])["global_step"] if checkpoints else None}
    card = (run_dir / "README.md").read_text() if (run_dir / "README.md").is_file() else ""
    for line in card.splitlines():
        for key, prefix in (("hardware", "- hardware: "), ("wall", "- wall time: "), ("command", "- command: "),
                            ("card_steps", "- steps: ")):
            if line.startswith(prefix):
                info[key] = line[len(prefix):].strip("`")
    card_steps = info.pop("card_steps", "")
    if info["steps"] is None and card_steps.isdigit():  # weights copied out of a run without its checkpoints
        info["steps"] = int(card_steps)
    info["wall_time_minutes"] = float(info.pop("wall", "0 min").split()[0])
    if info.get("command"):  # a card written before paths were made portable
        info["command"] = model_card.portable_command(shlex.split(info["command"]))
    return info


def main(argv=None) -> int:
    args = parse_args(argv)
    run_dir, dest = Path(args.run_dir).expanduser(), Path(args.dest)
    try:
        model = load_model(run_dir)  # refuses anything that would not load for users (the pix2pix / STN designs too)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metrics = model_card.read_metrics(Path(args.metrics).expanduser())
    if metrics is None:
        print(f"error: no metrics file {args.metrics}", file=sys.stderr)
        return 1
    extras = [(title, path, model_card.read_metrics(Path(path).expanduser()))
              for title, _, path in (item.partition("=") for item in args.extra)]
    config = json.loads((run_dir / "config.json").read_text())  # valid: the model just loaded from it
    for key in ("motion_scale", "noise_scale"):
        value = getattr(args, key)
        if value is None:
            continue
        config[key] = value
        try:
            type(model)(**config)  # the model's own check of the value, before anything is written
        except ValueError as exc:
            print(f"error: --{key}: {exc}", file=sys.stderr)
            return 1
    run_scale = getattr(model, "motion_scale", 1.0)
    scale = config.get("motion_scale", 1.0)
    for path, measured in [(args.metrics, metrics), *((path, report) for _, path, report in extras)]:
        effective = run_scale * (measured or {}).get("strength", 1.0)
        if abs(effective - scale) > 1e-6:
            print(f"error: {path} was measured at motion scale {effective:g}, the shipped model has {scale:g} "
                  f"(evaluate with --strength {scale / run_scale:g})", file=sys.stderr)
            return 1
        noise = (measured or {}).get("noise_scale")
        noise = getattr(model, "noise_scale", 1.0) if noise is None else noise  # null: the run's own
        shipped_noise = config.get("noise_scale", 1.0)
        if abs(noise - shipped_noise) > 1e-6:
            print(f"error: {path} was measured at noise scale {noise:g}, the shipped model has {shipped_noise:g} "
                  f"(evaluate with --noise_scale {shipped_noise:g})", file=sys.stderr)
            return 1
    extra = []
    for title, _, report in extras:
        extra += [f"### {title}", "", *model_card.metrics_table(report), *model_card.realism_table(report), ""]
    notes = ["## Licence", "", LICENSE_NOTE, ""]
    if args.notes:
        notes += ["## Notes", "", *args.notes, ""]
    info = {**run_info(run_dir), "data_dir": str(args.data_dir)}
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(run_dir / name, dest / name)
    if args.motion_scale is not None or args.noise_scale is not None:
        (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    card = model_card.render_card(
        generator_type=config.get("generator_type", "still2motion"),
        config=config, metrics=metrics, sources=model_card.data_sources(Path(args.data_dir).expanduser()),
        info=info, license=args.license, extra_sections=["## More evaluations", "", *extra, *notes] if extra else notes,
    )
    (dest / "README.md").write_text(card)
    print(f"shipped {run_dir} to {dest} ({info['steps']} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
