"""Exponential moving average of the generator's weights, for sampling and for the saved model."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A frozen copy of ``model`` whose weights follow ``model``'s: ``w_ema <- decay * w_ema + (1 - decay) * w``.

    The effective decay is ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so early averages are not
    dominated by the random initialisation. ``state_dict`` / ``load_state_dict`` let
    ``accelerator.register_for_checkpointing`` save and restore it with the rest of the training state.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema decay must be in [0, 1), got {decay}")
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.num_updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.num_updates += 1
        decay = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach().to(ema_p.dtype), 1 - decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "decay": self.decay, "num_updates": self.num_updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.decay = state["decay"]
        self.num_updates = int(state["num_updates"])
