"""The one seam between the training core and ``research/``: the points where an experiment may change a run.

The core (``args.py``, ``preflight.py``, ``train.py``, ``steps.py``) calls a ``Hooks`` at the points below and imports
nothing from ``research/``. The base class does nothing, so a shipped recipe trains exactly as it would without it.
``research/train.py`` builds its hooks (the motion vocabulary, per-loop weights, colour dropout, squash) and runs
``train.main(args, hooks)``.

To try a new training idea without touching the core: subclass ``Hooks`` in ``research/``, override the points it
needs, and give it its own flags in ``add_flags``. Once a shipped recipe uses it, it moves into the core.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn


class Hooks:
    """Every hook of a training run; each default leaves the run as the core makes it."""

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        """Adds the experiment's flags to ``train/args.py``'s parser."""

    def check(self, args: argparse.Namespace) -> None:
        """Raises ``train.args.ConfigError`` for flags that cannot work together (after the core's own checks,
        before any output folder exists or data is read)."""

    def build(self, args: argparse.Namespace, generator: nn.Module | None) -> nn.Module:
        """The generator to train: ``generator`` as the core built it (``None`` when ``needs_fresh_generator`` said
        the hook builds its own)."""
        return generator

    def dataset_options(self, args: argparse.Namespace) -> dict:
        """Extra keyword arguments of the training split's ``open_dataset`` (e.g. ``squash``)."""
        return {}

    def needs_fresh_generator(self, args: argparse.Namespace) -> bool:
        """False when ``build`` makes the generator itself, so the core does not build one first."""
        return True

    def attach(self, args: argparse.Namespace, run, train_set) -> None:
        """Loads what the step will need (targets, weights) once the data and models are ready."""

    def inputs(self, run, batch: dict, logs: dict) -> dict:
        """Per step, before the generator forward: ``{"classes": (B,) or None, "sees": (B, 4, R, R) or None}``
        passed to ``steps.TrainingGenerator`` (repeated for best-of-k), plus anything ``loss`` will read back."""
        return {}

    def loss(self, run, batch: dict, inputs: dict, vocab, logs: dict) -> torch.Tensor | None:
        """A term added to the generator's regularisers: ``vocab`` is ``(logits (B, 2V), residual (B, 6))`` of a
        vocabulary model's first noise draw, else ``None``; ``inputs`` is what ``inputs`` returned."""
        return None

    def weigh(self, run, batch: dict, per_sample: torch.Tensor, logs: dict) -> torch.Tensor:
        """The reconstruction term per item ``(k*B,)`` (the k draws stacked), reweighted before the best is picked."""
        return per_sample
