"""The renderer before depth-ordered layers (issue 17), kept only to measure against: layers summed, not composited.

Each layer was ``image * mask_k``, warped and **summed**: where a warped layer moves over another the two add up
(doubled edges, alpha clamped at 1) and where they part the seam leaves a see-through gap. ``summed_renderer()``
swaps it into ``Still2Motion.animate`` for a before/after comparison with the same weights
(``train/ship/occlusion_sheet.py``, ``benchmarks/occlusion.py``); nothing else uses it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from still2motion import rendering as rendering_module
from still2motion.motion import Box, Motion, canvas_to_grid, frame_phases, layer_weights, pixel_canvas_coords, source_coords

_CHUNK_FLOATS = 16_000_000


def summed_render(layers, motion: Motion, phases, *, box: Box, canvas_size: int, out_size, mode: str, align_corners: bool):
    """The old ``motion.render``: ``layers (B, K, 4, H, W) = image * mask_k`` warped and summed -> ``(B, T, 4, h, w)``."""
    B, K, C, H, W = layers.shape
    out_w, out_h = out_size
    out_coords = pixel_canvas_coords(out_w, out_h, box, canvas_size, device=layers.device)
    src = source_coords(motion, phases, out_coords, align_corners)  # (B, T, K, h, w, 2)
    T = src.shape[1]
    grid = canvas_to_grid(src, box, canvas_size).to(layers.dtype).transpose(1, 2).reshape(B * K, T * out_h, out_w, 2)
    warped = F.grid_sample(layers.reshape(B * K, C, H, W), grid, mode=mode, padding_mode="zeros", align_corners=align_corners)
    frames = warped.view(B, K, C, T, out_h, out_w).sum(dim=1).transpose(1, 2)  # (B, T, 4, h, w)
    alpha = frames[:, :, 3:].clamp(0, 1)
    return torch.cat((torch.minimum(frames[:, :, :3].clamp(min=0), alpha), alpha), dim=2)


def summed_render_loop(image, motion: Motion, num_frames: int, *, box: Box, canvas_size: int, out_size, mode="bilinear",
                       align_corners=False, hard_layers=False, phases=None) -> Iterator[torch.Tensor]:
    """The old ``motion.render_loop`` (same signature): ``(t, 4, h, w)`` chunks."""
    weights = layer_weights(image, motion.masks, box, canvas_size, align_corners, hard=hard_layers)  # (1, K, H, W)
    layers = image.unsqueeze(1) * weights.unsqueeze(2)
    out_w, out_h = out_size
    chunk = max(1, min(8, _CHUNK_FLOATS // (layers.shape[1] * 4 * out_w * out_h)))
    if phases is None:
        phases = frame_phases(num_frames, device=image.device)
    for start in range(0, num_frames, chunk):
        yield summed_render(layers, motion, phases[start : start + chunk], box=box, canvas_size=canvas_size,
                            out_size=out_size, mode=mode, align_corners=align_corners)[0]


@contextlib.contextmanager
def summed_renderer():
    """Within the block, ``Still2Motion.animate`` renders with the old summed layers."""
    original = rendering_module.render_loop  # what animate() renders a loop with (rendering.render_motion)
    rendering_module.render_loop = summed_render_loop
    try:
        yield
    finally:
        rendering_module.render_loop = original
