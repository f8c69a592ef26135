"""Every check of a training configuration that needs no data: run before an output folder exists or data is read.

``check_config(args, hooks)`` raises ``ConfigError`` (a one-line ``ValueError`` naming the flag and its value) for a
flag combination that could only fail later: a generator config the model refuses (``--block_out_channels 16,32`` with
the default ``flow_downsample`` 4), an ``--init_generator`` that is missing or does not match ``--generator`` /
``--resolution``, a missing ``--data_dir``, ``--motion_targets`` file or ``--resume_from_checkpoint``, fp16 without a
GPU, and whatever the hooks' ``check`` refuses (``train/hooks.py``).
It resolves ``args.init_generator`` in place (see ``resolve_init_generator``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from still2motion.config import DEFAULT_MODEL
from still2motion.hub import CONFIG_NAME, WEIGHTS_NAME, fetch_file, read_config
from train.evaluate.design_baselines import GENERATORS
from train.args import ConfigError, check_args, model_config
from train.checkpointing import resolve_resume
from train.hooks import Hooks

PACKAGE_PARENT = Path(DEFAULT_MODEL).parents[1]  # the checkout (or site-packages) that holds still2motion/
ARCHITECTURE_FLAGS = ("model_config", "num_layers", "num_harmonics", "block_out_channels")


def check_config(args: argparse.Namespace, hooks: Hooks) -> None:
    """Raises ``ConfigError`` naming the first flag that cannot work; reads no data and writes nothing."""
    check_args(args)
    hooks.check(args)
    check_paths(args)
    if args.init_generator:
        args.init_generator = resolve_init_generator(args.init_generator)
        check_init_generator(args)
    else:
        check_model_config(args)
    if args.mixed_precision == "fp16" and not torch.accelerator.is_available():
        raise ConfigError("--mixed_precision fp16 needs a GPU; on CPU use bf16 or no")


def check_paths(args: argparse.Namespace) -> None:
    data = Path(args.data_dir).expanduser()
    if data.is_file() and data.suffix != ".s2mpack":  # a compact pack is a file (train/data/pack.py --compact_pack)
        raise ConfigError(f"--data_dir {args.data_dir}: not a folder or a compact pack (.s2mpack)")
    if not data.exists():
        raise ConfigError(f"--data_dir {args.data_dir}: no such folder")
    out = Path(args.output_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--output_dir {args.output_dir} is a file, not a folder")
    check_files(motion_targets=args.motion_targets or [])
    if args.resume_from_checkpoint and args.resume_from_checkpoint != "latest":
        try:
            resolve_resume(out, args.resume_from_checkpoint)
        except FileNotFoundError as exc:
            raise ConfigError(str(exc)) from None


def check_files(**paths: list[str]) -> None:
    """Raises ``ConfigError`` for the first path of a flag (``flag=[paths]``) that is not a file."""
    for flag, values in paths.items():
        for path in values:
            if not Path(path).expanduser().is_file():
                raise ConfigError(f"--{flag} {path}: no such file")


def resolve_init_generator(value: str) -> str:
    """The model ``--init_generator`` names: ``default`` or a relative path that names the bundled model
    (``still2motion/default_model``) from any working directory, an existing folder as given, else a Hub id.

    Raises:
        ConfigError: an existing path that is not a folder, or a missing one that cannot be a Hub id (``./x``,
        ``a/b/c``, ``/x``, ``~/x``).
    """
    if value == "default":
        return DEFAULT_MODEL
    path = Path(value).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"--init_generator {value} is a file, not a model folder")
        return str(path)
    bundled = PACKAGE_PARENT / value
    if not path.is_absolute() and bundled.is_dir():
        return str(bundled)
    if not looks_like_hub_id(value):
        raise ConfigError(f"--init_generator {value}: no such folder")
    return value


def looks_like_hub_id(value: str) -> bool:
    """``owner/name`` or ``name``: what may be a Hub id when no such folder exists."""
    parts = value.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and "\\" not in value and not value.startswith((".", "~"))


def check_init_generator(args: argparse.Namespace) -> None:
    """The saved model must exist, be of ``--generator``'s type and ``--resolution``; architecture flags are refused."""
    given = [f"--{n}" for n in ARCHITECTURE_FLAGS if getattr(args, n) is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} cannot be combined with --init_generator (its config.json sets the architecture)")
    folder = Path(args.init_generator)
    missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME) if folder.is_dir() and not (folder / n).is_file()]
    if missing:
        raise ConfigError(f"--init_generator {args.init_generator} is not a saved model: it has no {' or '.join(missing)}")
    try:
        config = read_config(args.init_generator)
        fetch_file(args.init_generator, WEIGHTS_NAME)
    except (FileNotFoundError, ValueError) as exc:
        where = "" if Path(args.init_generator).is_dir() else f"{args.init_generator} is no folder here, and as a Hub id: "
        raise ConfigError(f"--init_generator {where}{exc}") from None
    kind = config.get("generator_type", "still2motion")
    if kind != args.generator:
        raise ConfigError(f"--init_generator {args.init_generator} holds a {kind} generator, not --generator {args.generator}")
    if config.get("resolution") != args.resolution:
        raise ConfigError(f"--init_generator is at resolution {config.get('resolution')}, --resolution is {args.resolution}")


def check_model_config(args: argparse.Namespace) -> None:
    """Builds the generator on the meta device (no memory, no time): the model's own checks, in flag terms."""
    config = model_config(args)  # ConfigError for a --model_config that is not a JSON object
    try:
        with torch.device("meta"):
            GENERATORS[args.generator](**config)
    except (TypeError, ValueError) as exc:
        flags = [f"--{n}" for n in ("resolution", *ARCHITECTURE_FLAGS) if n == "resolution" or getattr(args, n) is not None]
        shown = json.dumps({k: v for k, v in config.items() if k != "generator_type"}, sort_keys=True)
        raise ConfigError(f"generator config {shown} (from {', '.join(flags)}) is invalid: {exc}") from None
