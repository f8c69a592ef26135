"""Validation during and after training: loop metrics on val sequences, sample animations, image grids.

Each val sequence's frame 0 is animated at the model resolution (``forward_frames`` at the phases ``2 pi t / N`` of
the real loop's own ``N`` frames, seed 0), made what ``Generator.animate`` returns at the input's own size (8-bit
frames, frame 0 the input verbatim; so ``first_frame_exact`` reads as in ``train/evaluate/evaluate.py``), and scored against
the real loop with ``train.evaluate.metrics.score_clip``. The
report has the schema of ``train/evaluate/evaluate.py``'s ``metrics.json`` (one row, named ``model``), so the model card reads
either file the same way.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from still2motion import io
from still2motion.motion import frame_phases
from train.evaluate.eval_report import build_report
from train.evaluate.metrics import METRICS, score_clip, score_real

MAX_FRAMES = 32  # longer val loops are scored on their first 32 frames' phases


def real_loop(dataset, index: int) -> torch.Tensor:
    """The whole letterboxed loop of val item ``index``: ``(N, 4, R, R)`` premultiplied."""
    n = min(dataset.num_frames(index), MAX_FRAMES)
    return torch.stack([io.to_tensor(f) for f in dataset.frames(index, list(range(n)))])


@torch.no_grad()
def animate_canvas(generator, image: torch.Tensor, num_frames: int, seed: int = 0) -> torch.Tensor:
    """``image (4, R, R)`` -> ``(N, 4, R, R)``: the loop a generator makes of it, frame ``t`` at ``2 pi t / N``."""
    device = next(generator.parameters()).device
    noise = generator.sample_noise(seed).to(device)
    phases = frame_phases(num_frames, device=device)[None]  # (1, N)
    frames = generator.forward_frames(image[None].to(device), phases, noise)[0].float().cpu()
    return frames.clamp(0, 1)


def as_output(generated: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """``(N, 4, R, R)`` float frames as an output file holds them (``Generator.animate``'s contract at the input's
    size): rounded to straight 8-bit RGBA and back, frame 0 the input ``(4, R, R)`` itself."""
    frames = torch.stack([io.to_tensor(io.from_tensor(f)) for f in generated])
    frames[0] = image
    return frames


def validate(generator, dataset, *, max_sequences: int = 16, seed: int = 0, data_dir: str | None = None) -> tuple[dict, list[tuple]]:
    """Scores ``generator`` on the first ``max_sequences`` items of ``dataset``; ``data_dir`` is what the report
    names as its data (default: the dataset's folder).

    Returns:
        ``(report, samples)``: the ``metrics.json`` dict, and ``(seq, input, real, generated)`` tensors per item.
    """
    was_training = generator.training
    generator.eval()
    items, real_items, samples = [], [], []
    for index in range(min(len(dataset), max_sequences)):
        seq, source = dataset.meta(index)
        real = real_loop(dataset, index)
        start = time.perf_counter()
        generated = as_output(animate_canvas(generator, real[0], real.shape[0], seed), real[0])
        seconds = time.perf_counter() - start
        scores = score_clip(generated, real, real[0])
        items.append({"seq": seq, "source": source, "num_frames": real.shape[0], "seconds": seconds, **scores})
        real_items.append({"seq": seq, "source": source, **score_real(real)})
        samples.append((seq, real[0], real, generated))
    generator.train(was_training)
    rows = {"model": {"kind": "model", "model": None, "items": items}}
    if data_dir is None:
        data_dir = str(next((getattr(dataset, k) for k in ("root", "pack", "folder") if hasattr(dataset, k)), ""))
    report = build_report(rows, real_items, models=["model"], split="val", data_dir=data_dir, seed=seed)
    return report, samples


def summary(report: dict) -> dict[str, float]:
    """Flat ``{"val/<metric>": mean}`` of the model row, for the trackers (finite values only)."""
    overall = report["rows"]["model"]["overall"]
    out = {}
    for metric in METRICS:
        value = (overall.get(metric) or {}).get("mean")
        if value is not None and math.isfinite(value):
            out[f"val/{metric}"] = float(value)
    return out


def write_samples(samples: list[tuple], folder: Path, fps: float = 10.0) -> list[Path]:
    """Each generated loop as an APNG (straight RGBA uint8), ``folder/<i>.apng``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (_, _, _, generated) in enumerate(samples):
        frames = [io.from_tensor(f) for f in generated]
        paths.append(io.write_apng(frames, io.durations_for(len(frames), fps), folder / f"{i}.apng"))
    return paths


def _on_white(frames: torch.Tensor) -> torch.Tensor:
    """Premultiplied RGBA ``(..., 4, H, W)`` composited over white: RGB ``(..., 3, H, W)``."""
    return frames[..., :3, :, :] + (1 - frames[..., 3:, :, :])


def sample_grid(samples: list[tuple], max_frames: int = 8) -> np.ndarray:
    """One image per sample, two rows (real loop above, generated below), over white: ``(N, H, W, 3)`` uint8."""
    if not samples:
        return np.zeros((0, 1, 1, 3), np.uint8)
    grids = []
    for _, _, real, generated in samples:
        T = min(real.shape[0], max_frames)
        idx = torch.linspace(0, real.shape[0] - 1, T).round().long()
        top = torch.cat(list(_on_white(real[idx])), dim=-1)  # (3, R, T*R)
        bottom = torch.cat(list(_on_white(generated[idx])), dim=-1)
        grid = torch.cat((top, bottom), dim=-2)
        if max_frames > T:  # pad to one width, so the grids stack
            grid = torch.nn.functional.pad(grid, (0, (max_frames - T) * real.shape[-1]), value=1.0)
        grids.append(grid)
    batch = torch.stack(grids).clamp(0, 1).permute(0, 2, 3, 1)  # (N, H, W, 3)
    return (batch * 255).round().to(torch.uint8).numpy()


def write_report(report: dict, path: Path) -> Path:
    """Writes ``metrics.json`` atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, allow_nan=False))
    tmp.replace(path)
    return path
