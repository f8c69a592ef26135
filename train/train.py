"""Train a still2motion generator, or one of the two baselines, with Accelerate (1 CPU to N GPUs, same script).

    accelerate launch train/train.py --data_dir ROOT --output_dir OUT --mixed_precision bf16 --use_ema \\
        --checkpointing_steps 500 --resume_from_checkpoint latest [--push_to_hub --hub_model_id owner/name]

Flags: ``train/args.py``. Steps: ``train/steps.py``. Checkpoints: ``train/checkpointing.py``. A configuration error
is one line, ``train.py: error: ...`` (exit 2), found by ``train/preflight.py`` before any output folder is made or
any data read (``accelerate launch -q`` keeps accelerate from adding a traceback of its own). Each step is one D
update then one G update; ``OUT/checkpoint-<step>/`` are complete training states and loadable models
(``generator/``); at the end ``OUT`` holds the (EMA) generator, ``metrics.json`` of the val split and a model card.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train` and `still2motion` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from accelerate import Accelerator  # noqa: E402
from accelerate.logging import get_logger  # noqa: E402
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed, str_to_bool  # noqa: E402
from huggingface_hub import HfApi  # noqa: E402
from safetensors import SafetensorError  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from train.data.datasets import collate  # noqa: E402
from train.data.any_dataset import open_dataset  # noqa: E402
from still2motion.hub import load_weights  # noqa: E402
from train.evaluate.design_baselines import GENERATORS, load_generator  # noqa: E402
from train import checkpointing, preflight, validation  # noqa: E402
from train.ship import model_card  # noqa: E402
from train.data import source_balance  # noqa: E402
from train.data.workers import loader_context  # noqa: E402
from train.args import ConfigError, model_config, parse_args  # noqa: E402
from train.discriminator import Discriminators  # noqa: E402
from train.ema import EMA  # noqa: E402
from train.losses import group_scales  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402
from train.hooks import Hooks  # noqa: E402
from train.steps import Run, TrainingGenerator, discriminator_step, generator_forward, generator_step  # noqa: E402

logger = get_logger(__name__, log_level="INFO")

FINAL_VAL_SEQUENCES = 64  # val sequences scored for metrics.json at the end
STEP_VAL_SEQUENCES = 8  # ... and at each --validation_steps
UPLOADED = ["config.json", "model.safetensors", "README.md", "metrics.json"]


def build_accelerator(args) -> Accelerator:
    """The run's ``Accelerator``; a multi-process launch on a machine without GPUs trains multi-CPU (gloo).

    ``accelerate launch --multi_gpu --num_processes N`` without a GPU starts N processes that would otherwise each
    train alone, silently; here they join one CPU process group, and the count is checked.
    """
    output_dir = Path(args.output_dir)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    force_cpu = str_to_bool(os.environ.get("ACCELERATE_USE_CPU", "0")) or (world_size > 1 and not torch.accelerator.is_available())
    accelerator = Accelerator(
        cpu=bool(force_cpu),
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=None if args.report_to == "none" else args.report_to,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / args.logging_dir)),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),  # same order on resume
    )
    if accelerator.num_processes != world_size:
        raise RuntimeError(
            f"launched {world_size} processes but Accelerate runs {accelerator.num_processes}: on CPU use "
            "`accelerate launch --multi_gpu --num_processes N` (with `--cpu` it silently runs one)"
        )
    logger.info(accelerator.state, main_process_only=False)
    return accelerator


def build_datasets(args, hooks: Hooks):
    """``(train, val or None)``; a user folder's own val split is whatever ``open_dataset`` gives for ``"val"``."""
    kw = {"resolution": args.resolution, "num_targets": args.frames_per_clip, "seed": args.seed}
    try:
        train = open_dataset(args.data_dir, "train", **kw, style_augment=args.style_augment,
                             **hooks.dataset_options(args))
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"--data_dir {args.data_dir}: {exc}") from None
    try:
        val = open_dataset(args.data_dir, "val", **{**kw, "augment": False})
    except (FileNotFoundError, ValueError) as exc:
        logger.warning(f"no validation split: {exc}")
        return train, None
    shared = {train.meta(i)[0] for i in range(len(train))} & {val.meta(i)[0] for i in range(len(val))}
    if shared:
        logger.warning(f"the val split shares {len(shared)} of {len(val)} sequences with train: val metrics are not held out")
    return train, val


def build_models(args, hooks: Hooks):
    """``(generator, discriminators or None)``: a fresh generator of ``--generator``, or ``--init_generator``'s
    (resolved, and checked against ``--generator`` and ``--resolution``, by ``preflight.check_config``), as the
    hooks leave it."""
    generator = None
    if args.init_generator:
        generator = load_generator(args.init_generator)
    elif hooks.needs_fresh_generator(args):
        generator = GENERATORS[args.generator](**model_config(args))
    generator = hooks.build(args, generator)
    generator.train()
    discriminators = None
    if args.lambda_gan > 0 or args.lambda_temporal > 0:
        discriminators = Discriminators(patch=args.lambda_gan > 0, temporal=args.lambda_temporal > 0)
    return generator, discriminators


def build_optimizers(args, generator, discriminators):
    g_opt = torch.optim.Adam(generator.parameters(), lr=args.learning_rate, betas=(0.5, 0.999))
    if discriminators is None:
        return g_opt, None
    groups = []
    if discriminators.patch is not None:
        groups.append({"params": discriminators.patch.parameters(), "lr": args.discr_learning_rate})
    if discriminators.temporal is not None:
        groups.append({"params": discriminators.temporal.parameters(),
                       "lr": args.temporal_discr_learning_rate or args.discr_learning_rate})
    return g_opt, torch.optim.Adam(groups, betas=(0.5, 0.999))


def load_targets(args, run: Run) -> None:
    if args.motion_targets:
        try:
            run.targets = MotionTargets(args.motion_targets)
        except (OSError, ValueError, SafetensorError) as exc:
            raise ConfigError(f"--motion_targets: {exc}") from None
        run.target_scales = group_scales(run.targets.motion(list(range(len(run.targets)))))
        logger.info(f"motion targets: {len(run.targets)} sequences, group scales {run.target_scales}")


def export_model(run: Run, ema: EMA | None):
    """The generator to save and sample: the EMA copy when there is one."""
    return ema.model if ema is not None else run.accelerator.unwrap_model(run.generator).generator


def save_checkpoint(run: Run, ema: EMA | None, step: int, position: dict) -> Path:
    state = {**position, "ema_updates": ema.num_updates if ema else 0}
    path = checkpointing.save_checkpoint(
        run.accelerator, run.args.output_dir, step, state, export_model(run, ema), run.args.checkpoints_total_limit
    )
    logger.info(f"saved {path}")
    return path


def resume(run: Run, ema: EMA | None) -> dict:
    """Loads ``--resume_from_checkpoint``; returns the data position ``{"global_step", "epoch", "batch_in_epoch"}``."""
    position = {"global_step": 0, "epoch": 0, "batch_in_epoch": 0}
    path = checkpointing.resolve_resume(run.args.output_dir, run.args.resume_from_checkpoint)
    if path is None:
        if run.args.resume_from_checkpoint:
            logger.info("no complete checkpoint to resume from: starting a new run")
        return position
    run.accelerator.load_state(str(path))
    state = checkpointing.read_state(path)
    if ema is not None:
        load_weights(ema.model, path / "generator")
        ema.num_updates = int(state.get("ema_updates", 0))
    logger.info(f"resumed from {path} at step {state['global_step']}")
    return {k: int(state[k]) for k in position}


def finite_checker(run: Run, step_of):
    """``check(name, loss)``: raises ``FloatingPointError`` naming the step if the loss is non-finite on any rank."""

    def check(name: str, loss: torch.Tensor) -> None:
        bad = torch.tensor([0.0 if torch.isfinite(loss.detach()).all() else 1.0], device=loss.device)
        if run.accelerator.reduce(bad, "sum").item() > 0:
            latest = checkpointing.latest_checkpoint(run.args.output_dir)
            raise FloatingPointError(
                f"non-finite {name} loss ({loss.item()}) at step {step_of()}: stopping. "
                f"Last complete checkpoint: {latest or 'none'} (resume with --resume_from_checkpoint latest)"
            )

    return check


def run_validation(run: Run, ema: EMA | None, val, step: int) -> None:
    """Val metrics to the trackers, sample animations as APNG, real/generated grids as TensorBoard images."""
    if val is None or not run.accelerator.is_main_process:
        return
    report, samples = validation.validate(export_model(run, ema), val, max_sequences=STEP_VAL_SEQUENCES)
    run.accelerator.log(validation.summary(report), step=step)
    validation.write_samples(samples, Path(run.args.output_dir) / "samples" / f"step-{step}")
    if run.args.report_to == "tensorboard":
        tracker = run.accelerator.get_tracker("tensorboard")
        tracker.log_images({"val/samples": validation.sample_grid(samples)}, step=step, dataformats="NHWC")


def time_is_up(run: Run, started: float) -> bool:
    """Whether the wall-clock budget is spent, decided the same on every rank."""
    if run.args.max_train_time_minutes is None:
        return False
    over = torch.tensor([float(time.time() - started > 60 * run.args.max_train_time_minutes)])
    return run.accelerator.reduce(over.to(run.accelerator.device), "sum").item() > 0


def finish(run: Run, ema: EMA | None, val, step: int, started: float) -> Path:
    """Saves the (EMA) generator, ``metrics.json`` and the model card to ``--output_dir``; pushes with ``--push_to_hub``."""
    args, accelerator = run.args, run.accelerator
    out = Path(args.output_dir)
    if accelerator.is_main_process:
        model = export_model(run, ema)
        model.save_pretrained(out)
        if val is not None:
            report, _ = validation.validate(model, val, max_sequences=FINAL_VAL_SEQUENCES,
                                            data_dir=model_card.portable_path(args.data_dir))
            report["model"] = [model_card.portable_path(out)]
            validation.write_report(report, out / "metrics.json")
        info = {
            "steps": step,
            "hardware": model_card.hardware(accelerator.num_processes, accelerator.mixed_precision),
            "wall_time_minutes": (time.time() - started) / 60,
            "data_dir": args.data_dir,
            "command": model_card.portable_command(sys.argv) if sys.argv and sys.argv[0].endswith("train.py") else None,
        }
        model_card.write_model_card(
            out, generator_type=args.generator, config=dict(model._hub_mixin_config), info=info,
            metrics=model_card.read_metrics(out / "metrics.json"), sources=model_card.data_sources(args.data_dir),
        )
        if args.push_to_hub:
            push_to_hub(args, out, step)
    accelerator.wait_for_everyone()
    return out


def push_to_hub(args, folder: Path, step: int) -> None:
    api = HfApi(token=args.hub_token)
    repo_id = api.create_repo(args.hub_model_id, exist_ok=True, token=args.hub_token).repo_id
    api.upload_folder(
        repo_id=repo_id, folder_path=str(folder), allow_patterns=UPLOADED, token=args.hub_token,
        commit_message=f"still2motion {args.generator} generator after {step} steps",
    )
    logger.info(f"pushed {folder} to {repo_id}")


def prepare(args, accelerator, hooks: Hooks):
    """Data, models, optimizers through one ``accelerator.prepare``, targets, EMA, then ``--output_dir`` and the
    resumed state (so that a data error leaves no empty output folder)."""
    train_set, val = build_datasets(args, hooks)
    if args.source_balance != 1:
        train_set = source_balance.balanced(train_set, args.source_balance, args.seed)
        logger.info(f"--source_balance {args.source_balance:g}: draws per epoch {source_balance.source_counts(train_set)}")
    generator, discriminators = build_models(args, hooks)
    g_opt, d_opt = build_optimizers(args, generator, discriminators)
    loader = torch.utils.data.DataLoader(
        train_set, batch_size=args.train_batch_size, shuffle=True, drop_last=len(train_set) >= args.train_batch_size,
        num_workers=args.dataloader_num_workers, collate_fn=collate,
        multiprocessing_context=loader_context(args.dataloader_num_workers),
    )
    wrapped = TrainingGenerator(generator)
    if discriminators is None:
        wrapped, g_opt, loader = accelerator.prepare(wrapped, g_opt, loader)
    else:
        wrapped, discriminators, g_opt, d_opt, loader = accelerator.prepare(wrapped, discriminators, g_opt, d_opt, loader)
    run = Run(args, accelerator, wrapped, discriminators, g_opt, d_opt, noise_dim=generator.noise_dim, hooks=hooks)
    load_targets(args, run)
    hooks.attach(args, run, train_set)
    ema = EMA(accelerator.unwrap_model(wrapped).generator, args.ema_decay) if args.use_ema else None
    if accelerator.is_main_process:
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
        checkpointing.remove_temp_folders(args.output_dir)
    accelerator.wait_for_everyone()
    position = resume(run, ema)
    logger.info(f"{len(train_set)} training clips, {accelerator.num_processes} process(es), "
                f"{sum(p.numel() for p in generator.parameters()):,} generator parameters, from step {position['global_step']}")
    return run, ema, loader, val, position


def train_loop(run: Run, ema: EMA | None, loader, val, position: dict, started: float) -> int:
    """Steps until ``--max_train_steps`` or the time budget; checkpoints and validates on the way. Returns the step."""
    args, accelerator = run.args, run.accelerator
    step, epoch, batch_in_epoch = position["global_step"], position["epoch"], position["batch_in_epoch"]
    check = finite_checker(run, lambda: step + 1)
    models = tuple(m for m in (run.generator, run.discriminators) if m is not None)
    progress = tqdm(total=args.max_train_steps, initial=step, disable=not accelerator.is_local_main_process, desc="steps")
    saved_at, stop = step if step else -1, False
    while step < args.max_train_steps and not stop:
        loader.set_epoch(epoch)
        batches = accelerator.skip_first_batches(loader, batch_in_epoch) if batch_in_epoch else loader
        for batch in batches:
            batch_in_epoch += 1
            with accelerator.accumulate(*models):
                with accelerator.autocast():
                    out = generator_forward(run, batch)
                logs = discriminator_step(run, out, check)
                checkpointing.maybe_fault("mid_step", step + 1)
                logs.update(generator_step(run, out, step + 1, check))
            if not accelerator.sync_gradients:
                continue
            step += 1
            if ema is not None:
                ema.update(accelerator.unwrap_model(run.generator).generator)
            progress.update(1)
            progress.set_postfix(g=f"{logs['g_loss']:.3f}", d=f"{logs.get('d_loss', 0.0):.3f}")
            accelerator.log(logs, step=step)
            stop = step >= args.max_train_steps or time_is_up(run, started)
            if step % args.checkpointing_steps == 0 or (stop and saved_at != step):
                save_checkpoint(run, ema, step, {"epoch": epoch, "batch_in_epoch": batch_in_epoch})
                saved_at = step
            if args.validation_steps and step % args.validation_steps == 0:
                run_validation(run, ema, val, step)
            if stop:
                break
        else:
            epoch, batch_in_epoch = epoch + 1, 0
    progress.close()
    if step < args.max_train_steps:
        logger.info(f"time budget of {args.max_train_time_minutes} min spent at step {step}: stopped cleanly")
    return step


def main(args, hooks: Hooks | None = None) -> dict:
    """Trains; returns ``{"global_step", "output_dir", "generator", "process_index", "num_processes"}``.

    ``hooks`` (``train/hooks.py``) is where ``research/`` changes a run; ``None`` trains as the shipped recipes do.

    Raises:
        ConfigError: a configuration that cannot work (``preflight.check_config``), or a ``--data_dir`` without a
            usable training split; both before ``--output_dir`` is created.
    """
    started = time.time()
    hooks = Hooks() if hooks is None else hooks
    preflight.check_config(args, hooks)
    accelerator = build_accelerator(args)
    set_seed(args.seed, device_specific=True)  # noise differs per rank; DDP broadcasts rank 0's initial weights
    run, ema, loader, val, position = prepare(args, accelerator, hooks)
    if args.report_to != "none":
        hparams = {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool)) and k != "hub_token"}
        accelerator.init_trackers("still2motion", config=hparams)  # the token never reaches the logs
    step = train_loop(run, ema, loader, val, position, started)
    out = finish(run, ema, val, step, started)
    accelerator.end_training()
    return {"global_step": step, "output_dir": out, "generator": export_model(run, ema),
            "process_index": accelerator.process_index, "num_processes": accelerator.num_processes}


def cli(argv: list[str] | None = None, hooks: Hooks | None = None) -> int:
    """The script: trains, or prints a configuration error as one line (``train.py: error: ...``) and returns 2."""
    try:
        main(parse_args(argv, hooks), hooks)
    except ConfigError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    import logging

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    sys.exit(cli())
