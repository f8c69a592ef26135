"""Command-line flags of ``train/train.py``, in the diffusers vocabulary (see STYLE.md, "Training script")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

GENERATOR_CHOICES = ("still2motion", "pix2pix", "stn")


class ConfigError(ValueError):
    """A training configuration that cannot work; ``train.py`` prints it as one line, ``train.py: error: ...``."""


def _channels(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--block_out_channels must be comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"--block_out_channels needs at least one width, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train a still2motion generator (or a baseline) with Accelerate.")
    g = p.add_argument_group("data and model")
    g.add_argument("--data_dir", required=True, help="a prepared ROOT, a pack, or a folder of your own GIF/APNG/WebP loops")
    g.add_argument("--output_dir", default="still2motion-model", help="checkpoints, logs, samples and the final model")
    g.add_argument("--generator", choices=GENERATOR_CHOICES, default="still2motion", help="the model, or a baseline")
    g.add_argument("--init_generator", default=None, help="start from a saved generator (folder or Hub id) instead of random")
    g.add_argument("--model_config", default=None, help="generator __init__ kwargs: a JSON file or inline JSON object")
    g.add_argument("--num_layers", type=int, default=None, help="K (still2motion only); overrides --model_config")
    g.add_argument("--num_harmonics", type=int, default=None, help="M (still2motion only); overrides --model_config")
    g.add_argument("--block_out_channels", type=_channels, default=None, help="U-Net widths, e.g. 32,64,128,256")
    g.add_argument("--resolution", type=int, default=64, help="model resolution R (the canvas side)")
    g.add_argument("--frames_per_clip", type=int, default=4, help="S, target frames rendered per clip")
    g.add_argument("--source_balance", type=float, default=1.0,
                   help="draws per source per epoch ~ size**P: 1 = the data as it is, 0.5 = square root, 0 = equal")
    g.add_argument("--style_augment", choices=("none", "default", "strong"), default="default",
                   help="colour / outline / blur / pixelate changes and a wider scale+shift on every frame of a clip "
                        "alike (train/data/augment.py; 'none' = flip and a small scale/shift only)")


    t = p.add_argument_group("optimisation")
    t.add_argument("--train_batch_size", type=int, default=8, help="clips per process per micro-batch")
    t.add_argument("--max_train_steps", type=int, default=10_000)
    t.add_argument("--max_train_time_minutes", type=float, default=None,
                   help="wall-clock budget of this run; when spent, checkpoint, save the model and stop cleanly")
    t.add_argument("--learning_rate", type=float, default=2e-4)
    t.add_argument("--discr_learning_rate", type=float, default=2e-4)
    t.add_argument("--temporal_discr_learning_rate", type=float, default=None, help="default: --discr_learning_rate")
    t.add_argument("--gradient_accumulation_steps", type=int, default=1)
    t.add_argument("--max_grad_norm", type=float, default=5.0)
    t.add_argument("--mixed_precision", choices=("no", "fp16", "bf16"), default=None,
                   help="default: accelerate config's choice (fp16 needs a GPU; bf16 also runs on CPU)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dataloader_num_workers", type=int, default=0)
    t.add_argument("--use_ema", action="store_true", help="keep an EMA of the generator; it is what gets saved")
    t.add_argument("--ema_decay", type=float, default=0.999)

    lo = p.add_argument_group("losses")
    lo.add_argument("--gan_loss", choices=("hinge", "lsgan"), default="hinge")
    lo.add_argument("--lambda_l1", type=float, default=1.0, help="multi-scale L1 on premultiplied RGBA")
    lo.add_argument("--lambda_gan", type=float, default=0.05, help="conditional PatchGAN")
    lo.add_argument("--lambda_temporal", type=float, default=0.05, help="temporal (3D) discriminator; 0 disables it")
    lo.add_argument("--lambda_feature_matching", type=float, default=1.0)
    lo.add_argument("--lambda_flow_smooth", type=float, default=0.1, help="still2motion only")
    lo.add_argument("--lambda_mask_entropy", type=float, default=0.01, help="still2motion only")
    lo.add_argument("--lambda_front_share", type=float, default=0.05,
                    help="still2motion only: hinge on front layers (1..K-1) covering more than half the silhouette; "
                         "layer 0 is the back, the front layers are parts in front of it")
    lo.add_argument("--lambda_energy", type=float, default=0.0,
                    help="match each clip's motion energy to the real loop's (log ratio), for every noise draw")
    lo.add_argument("--energy_floor", type=float, default=None,
                    help="make the energy term one-sided: only clips moving less than this share (0..1] of their real "
                         "loop pay (default: two-sided)")
    lo.add_argument("--energy_ceiling", type=float, default=None,
                    help="with --energy_floor: clips moving more than this multiple (>= 1) of their real loop pay too "
                         "(a two-sided hinge with a free band)")
    lo.add_argument("--energy_pool", type=int, default=1,
                    help="measure the energy term on frames averaged over N x N blocks: coarse motion only (default 1)")
    lo.add_argument("--motion_targets", nargs="+", default=None,
                    help="fitted motions (train/fit/fit_motion.py or coherent_fit.py; shards read together) to regress onto")
    lo.add_argument("--lambda_motion", type=float, default=1.0, help="coefficient regression (needs --motion_targets)")
    lo.add_argument("--best_of_k", type=int, default=1, help="noise draws per clip; the best one is trained")
    lo.add_argument("--reversal_invariant", action="store_true",
                    help="still2motion only: score each prediction forwards and played backwards and train the better "
                         "(a loop's direction is as ambiguous from one still as its phase; evaluation forgives both)")

    lo.add_argument("--phase_shifts", type=int, default=1,
                    help="still2motion only: score each prediction at this many evenly spaced phase shifts (the input "
                         "frame compared at the shifted phase) and train the best; 1 = the input's own phase only")

    c = p.add_argument_group("checkpoints, logging, Hub")
    c.add_argument("--checkpointing_steps", type=int, default=500)
    c.add_argument("--checkpoints_total_limit", type=int, default=None)
    c.add_argument("--resume_from_checkpoint", default=None, help="a checkpoint folder, or 'latest'")
    c.add_argument("--validation_steps", type=int, default=None, help="val metrics and sample animations every N steps")
    c.add_argument("--report_to", default="tensorboard", help="'tensorboard', or 'none'")
    c.add_argument("--logging_dir", default="logs", help="under --output_dir")
    c.add_argument("--push_to_hub", action="store_true")
    c.add_argument("--hub_model_id", default=None)
    c.add_argument("--hub_token", default=None)
    return p


def parse_args(argv: list[str] | None = None, hooks=None) -> argparse.Namespace:
    """The flags, checked; ``hooks`` (``train/hooks.py``) add and check an experiment's own."""
    parser = build_parser()
    if hooks is not None:
        hooks.add_flags(parser)
    args = parser.parse_args(argv)
    check_args(args)
    if hooks is not None:
        hooks.check(args)
    return args


def check_args(args: argparse.Namespace) -> None:
    """Raises ``ConfigError`` naming the first inconsistent flag (the flags alone: ``train/preflight.py`` checks more)."""
    positive = ("resolution", "frames_per_clip", "train_batch_size", "max_train_steps", "gradient_accumulation_steps",
                "checkpointing_steps", "best_of_k")
    for name in positive:
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    rates = ("learning_rate", "discr_learning_rate", "temporal_discr_learning_rate", "max_grad_norm")
    for name in rates:
        value = getattr(args, name)
        if value is not None and not value > 0:  # also refuses nan
            raise ConfigError(f"--{name} must be > 0, got {value}")
    for name in [n for n in vars(args) if n.startswith("lambda_")]:
        if not getattr(args, name) >= 0:
            raise ConfigError(f"--{name} must be >= 0, got {getattr(args, name)}")
    if not 0 <= args.ema_decay < 1:
        raise ConfigError(f"--ema_decay must be in [0, 1), got {args.ema_decay}")
    if args.dataloader_num_workers < 0:
        raise ConfigError(f"--dataloader_num_workers must be >= 0, got {args.dataloader_num_workers}")
    if args.checkpoints_total_limit is not None and args.checkpoints_total_limit < 1:
        raise ConfigError(f"--checkpoints_total_limit must be >= 1, got {args.checkpoints_total_limit}")
    if args.validation_steps is not None and args.validation_steps < 1:
        raise ConfigError(f"--validation_steps must be >= 1, got {args.validation_steps}")
    if args.max_train_time_minutes is not None and args.max_train_time_minutes <= 0:
        raise ConfigError(f"--max_train_time_minutes must be > 0, got {args.max_train_time_minutes}")
    if args.generator != "still2motion":
        for name in ("num_layers", "num_harmonics", "motion_targets"):
            if getattr(args, name) is not None:
                raise ConfigError(f"--{name} only applies to --generator still2motion, not {args.generator}")
        if args.reversal_invariant:
            raise ConfigError(f"--reversal_invariant only applies to --generator still2motion, not {args.generator}")
        if args.phase_shifts != 1:
            raise ConfigError(f"--phase_shifts only applies to --generator still2motion, not {args.generator}")
    if not 0 <= args.source_balance <= 1:
        raise ConfigError(f"--source_balance must be in [0, 1], got {args.source_balance}")
    if args.phase_shifts < 1:
        raise ConfigError(f"--phase_shifts must be >= 1, got {args.phase_shifts}")
    if args.phase_shifts > 1 and args.motion_targets:
        raise ConfigError("--phase_shifts > 1 cannot be combined with --motion_targets "
                          "(their targets are anchored at the input frame's own phase)")
    if args.energy_floor is not None and not 0 < args.energy_floor <= 1:
        raise ConfigError(f"--energy_floor must be in (0, 1], got {args.energy_floor}")
    if args.energy_ceiling is not None and (args.energy_floor is None or args.energy_ceiling < 1):
        raise ConfigError(f"--energy_ceiling needs --energy_floor and must be >= 1, got {args.energy_ceiling}")
    if args.energy_pool < 1:
        raise ConfigError(f"--energy_pool must be >= 1, got {args.energy_pool}")
    if args.energy_floor is not None and not args.lambda_energy:
        raise ConfigError("--energy_floor needs --lambda_energy > 0 (it shapes that term)")
    if args.push_to_hub and not args.hub_model_id:
        raise ConfigError("--push_to_hub needs --hub_model_id")
    if args.report_to not in ("tensorboard", "none"):
        raise ConfigError(f"--report_to must be 'tensorboard' or 'none', got {args.report_to!r}")


def model_config(args: argparse.Namespace) -> dict:
    """Generator kwargs: ``--model_config`` (file or inline JSON), then the flat flags, then ``--resolution``."""
    config: dict = {}
    if args.model_config:
        text = args.model_config
        source = Path(text)
        if not text.lstrip().startswith("{") and source.is_file():
            text = source.read_text()
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--model_config is neither a JSON file nor a JSON object: {exc}") from None
        if not isinstance(config, dict):
            raise ConfigError(f"--model_config must be a JSON object, got {type(config).__name__}")
    for name in ("num_layers", "num_harmonics", "block_out_channels"):
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    config["resolution"] = args.resolution
    config["generator_type"] = args.generator
    return config
