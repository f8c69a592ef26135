"""Checkpoints that are never half-written, ``latest`` that never picks a broken one, pruning, and fault injection.

A checkpoint is ``OUTPUT/checkpoint-<step>/`` holding what ``accelerator.save_state`` writes (models, optimizers,
RNG states), ``generator/`` (``save_pretrained`` of the EMA generator when there is one, so every checkpoint is a
loadable model) and ``training_state.json`` (global step and data position: ``save_state`` does not store them).
Everything is written under ``OUTPUT/.tmp-checkpoint-<step>/`` first and renamed into place last, so a crash leaves
either a complete checkpoint or a temp folder that nothing ever reads (and the next run deletes).

Fault injection (for the reliability tests): ``STILL2MOTION_FAULT=<point>`` or ``<point>@<step>`` raises
``InjectedFault`` at that point (at the first step ``>= <step>``). Points: ``mid_save_state`` (after ``save_state``,
before ``generator/`` and the JSON), ``before_rename`` (everything written, not renamed), ``mid_step`` (after the D
update, before the G update) and ``nan_loss`` (the generator loss becomes NaN).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

FAULT_ENV = "STILL2MOTION_FAULT"
FAULT_POINTS = ("mid_save_state", "before_rename", "mid_step", "nan_loss")
STATE_NAME = "training_state.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_TEMP_PREFIX = ".tmp-checkpoint-"


class InjectedFault(RuntimeError):
    """Raised at a fault point selected by ``STILL2MOTION_FAULT``."""


def fault_armed(point: str, step: int) -> bool:
    """Whether ``STILL2MOTION_FAULT`` selects ``point`` at ``step``."""
    raw = os.environ.get(FAULT_ENV, "")
    if not raw:
        return False
    name, _, at = raw.partition("@")
    if name not in FAULT_POINTS:
        raise ValueError(f"{FAULT_ENV}={raw!r}: unknown fault point {name!r}; known: {', '.join(FAULT_POINTS)}")
    return name == point and (not at or step >= int(at))


def maybe_fault(point: str, step: int) -> None:
    if fault_armed(point, step):
        raise InjectedFault(f"injected fault {point!r} at step {step} ({FAULT_ENV})")


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (named ``checkpoint-<step>`` and holding ``training_state.json``), oldest first."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = []
    for path in output_dir.iterdir():
        match = _CHECKPOINT.match(path.name)
        if match and path.is_dir() and (path / STATE_NAME).is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1][1] if checkpoints else None


def resolve_resume(output_dir: str | Path, resume_from_checkpoint: str | None) -> Path | None:
    """The folder ``--resume_from_checkpoint`` names: ``latest`` (``None`` when there is none yet) or a path.

    Raises:
        FileNotFoundError: a named checkpoint that does not exist or is incomplete.
    """
    if not resume_from_checkpoint:
        return None
    if resume_from_checkpoint == "latest":
        return latest_checkpoint(output_dir)
    path = Path(resume_from_checkpoint)
    if not path.is_dir() and (Path(output_dir) / path).is_dir():
        path = Path(output_dir) / path
    if not (path / STATE_NAME).is_file():
        raise FileNotFoundError(f"--resume_from_checkpoint {resume_from_checkpoint}: not a complete checkpoint ({path})")
    return path


def read_state(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / STATE_NAME).read_text())


def remove_temp_folders(output_dir: str | Path) -> None:
    """Deletes what interrupted saves left behind (call on the main process before training)."""
    output_dir = Path(output_dir)
    if output_dir.is_dir():
        for path in output_dir.glob(_TEMP_PREFIX + "*"):
            logger.warning("removing incomplete checkpoint %s", path)
            shutil.rmtree(path, ignore_errors=True)


def prune_checkpoints(output_dir: str | Path, limit: int | None) -> list[Path]:
    """Deletes the oldest complete checkpoints beyond ``limit``; returns what it deleted."""
    if not limit:
        return []
    checkpoints = list_checkpoints(output_dir)
    doomed = checkpoints[: max(len(checkpoints) - limit, 0)]
    for step, path in doomed:
        logger.info("removing old checkpoint %s", path)
        trash = path.with_name(f"{_TEMP_PREFIX}{step}.old")  # out of the listing at once: a crash mid-delete
        os.replace(path, trash)  # leaves a temp folder (removed at the next start), never a half-deleted checkpoint
        shutil.rmtree(trash)
    return [path for _, path in doomed]


def save_checkpoint(accelerator, output_dir: str | Path, step: int, state: dict, export, limit: int | None = None) -> Path:
    """Writes ``checkpoint-<step>`` atomically. Every process calls it (``save_state`` saves per-rank RNG states).

    Args:
        accelerator: the run's ``Accelerator``.
        output_dir: where checkpoints live.
        step: the global step (optimizer updates so far).
        state: JSON-able training state (step, epoch, data position, ...), written last.
        export: the generator to ``save_pretrained`` into ``generator/`` (the EMA one when there is one).
        limit: ``--checkpoints_total_limit``: prune older ones once the new one is in place.

    Returns:
        The checkpoint folder.
    """
    output_dir = Path(output_dir)
    final = output_dir / f"checkpoint-{step}"
    temp = output_dir / f"{_TEMP_PREFIX}{step}"
    if accelerator.is_main_process:
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(temp))
    maybe_fault("mid_save_state", step)
    if accelerator.is_main_process:
        export.save_pretrained(temp / "generator")
        (temp / STATE_NAME).write_text(json.dumps({**state, "global_step": step}, indent=2))
        maybe_fault("before_rename", step)
        if final.exists():  # a complete checkpoint of the same step (e.g. re-saved at the end): replace it
            shutil.rmtree(final)
        os.replace(temp, final)
        prune_checkpoints(output_dir, limit)
    accelerator.wait_for_everyone()
    return final
