"""From a ``Motion`` to the uint8 frames of a loop, the way ``animate`` renders every motion (learned or preset).

1. ``framing.keep_in_frame``: the motion is scaled down if it would carry the input out of its own frame.
2. ``timing.seam_phases``: frames are sampled so the loop keeps moving through its seam.
3. A note is logged when the motion moves no pixel by a whole output pixel (tiny pixel art barely moves).
4. The whole image moves, or, with a ``front`` mask, the masked region moves over the static rest: pixels the moving
   layer never reaches are the input's own bytes in every frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import torch

from . import io
from .framing import clearly_inside, keep_in_frame
from .motion import Box, Motion, fill_behind, output_px_per_unit, render_chunks, render_loop
from .timing import displacements, motion_points, peak_displacement, seam_phases

logger = logging.getLogger(__name__)

_CHUNK = 4  # frames per rendering chunk in the masked path


def _pixels(peak: float, box: Box, canvas_size: int, out_size: tuple[int, int]) -> float:
    return peak * output_px_per_unit(box, canvas_size, out_size)


def _note_small_motion(peak: float, box: Box, canvas_size: int, out_size: tuple[int, int]) -> None:
    px = _pixels(peak, box, canvas_size, out_size)
    if 0 < px < 1:
        logger.warning(
            "note: at %dx%d the motion moves pixels by at most %.2f px, so it barely shows; render larger "
            "(%s) or raise %s", out_size[0], out_size[1], px, "size", "strength",  # the CLI spells these as its flags
        )


def plan_motion(
    image: torch.Tensor,
    canvas: torch.Tensor,
    motion: Motion,
    box: Box,
    *,
    canvas_size: int,
    num_frames: int,
    out_size: tuple[int, int],
    align_corners: bool,
    front: torch.Tensor | None = None,
    keep_framing: bool = True,
) -> tuple[Motion, torch.Tensor]:
    """The motion as it will be rendered (scaled to stay in the frame) and the frames' phases ``(T,)``.

    Arguments as in ``render_motion``. The phases do not depend on the sampling mode (skipping the sub-pixel stretch
    of a whole-pixel motion near the wrap was measured and made the val phase-L1 worse, docs/keeping-the-drawing.md).
    Raises ``ValueError`` (with a suggestion) when a motion that moves could only stay in
    the frame by standing still: a still is never written silently.
    """
    weights = canvas[0, 3]
    if front is not None:  # the silhouette of the moving region, in the canvas
        weights = weights * torch.nn.functional.interpolate(front, size=canvas.shape[-2:], mode="area")[0, 0]
    points = motion_points(weights, box, canvas_size)
    disp = displacements(motion, points, align_corners=align_corners)  # (G + 1, K * P, 2), linear in the motion
    peak = peak_displacement(disp)
    if keep_framing and not clearly_inside(weights, box, canvas_size, peak):
        moving = image if front is None else image * front
        motion, factor = keep_in_frame(moving, motion, box, canvas_size, align_corners=align_corners)
        if factor < 1:
            logger.info("motion scaled by %.2f to stay inside the image's frame", factor)
            before, after = (_pixels(p, box, canvas_size, out_size) for p in (peak, peak * factor))
            if before >= 1 and after < 0.5:
                raise ValueError(
                    f"this motion cannot move the {out_size[0]}x{out_size[1]} picture without leaving its frame "
                    "(it would be a still); try a preset such as motion='sway' or a mask of the part to move"
                )
            disp, peak = disp * factor, peak * factor
    _note_small_motion(peak, box, canvas_size, out_size)
    return motion, seam_phases(disp, num_frames)


def render_motion(
    image: torch.Tensor,
    canvas: torch.Tensor,
    motion: Motion,
    box: Box,
    *,
    canvas_size: int,
    num_frames: int,
    out_size: tuple[int, int],
    mode: str,
    align_corners: bool,
    hard_layers: bool = False,
    front: torch.Tensor | None = None,
    keep_framing: bool = True,
) -> Iterator[np.ndarray]:
    """Yields ``num_frames`` straight-RGBA uint8 frames ``(H_out, W_out, 4)`` of ``motion`` applied to ``image``.

    Args:
        image: ``(1, 4, H, W)`` premultiplied full-resolution input, at ``box`` in the canvas.
        canvas: ``(1, 4, R, R)`` the letterboxed input (its alpha says where the silhouette is).
        motion: the motion, already scaled by strength: ``K`` layers, or ``K = 1`` with ``front``.
        box, canvas_size: where the input sits in the ``R x R`` canvas.
        num_frames, out_size, mode, align_corners: as in ``motion.render_loop``.
        hard_layers: one layer per pixel (an exact palette); with ``front``, the mask is thresholded at 0.5.
        front: ``(1, 1, H, W)`` weights in ``[0, 1]`` of the region that moves (``motion`` has one layer); the rest
            of the image stays where it is.
        keep_framing: scale the motion down to keep the input in its frame (off for ``spin``: a smaller turn is not
            a turn).

    Raises:
        ValueError: the motion could only stay in the frame by not moving (``plan_motion``).
    """
    motion, phases = plan_motion(image, canvas, motion, box, canvas_size=canvas_size, num_frames=num_frames,
                                 out_size=out_size, align_corners=align_corners, front=front,
                                 keep_framing=keep_framing)
    if front is None:
        chunks = render_loop(
            image, motion, num_frames, box=box, canvas_size=canvas_size, out_size=out_size, mode=mode,
            align_corners=align_corners, hard_layers=hard_layers, phases=phases, only_where_behind=True,
        )
    else:
        chunks = _render_masked(image, motion, front, phases, box=box, canvas_size=canvas_size, out_size=out_size,
                                mode=mode, align_corners=align_corners, hard=hard_layers)
    for frames in chunks:
        yield from io.from_tensor(frames)  # (t, H, W, 4) uint8


def _render_masked(
    image: torch.Tensor, motion: Motion, front: torch.Tensor, phases: torch.Tensor, *, box: Box, canvas_size: int,
    out_size: tuple[int, int], mode: str, align_corners: bool, hard: bool,
) -> Iterator[torch.Tensor]:
    """The front region warped by ``motion`` over the rest of the image, which stays: ``(t, 4, h, w)`` chunks.

    The back layer is the image with the region under the front filled where the still part continues behind it
    and transparent where it does not (``motion.fill_behind(only_where_behind=True)``), so what the moving region
    uncovers is plausible, never a second copy of it; the front is what the back does not explain.
    Where ``front`` is 0 the back is the input exactly and the front is 0, so those pixels keep their bytes.
    """
    if hard:
        front = (front >= 0.5).to(image.dtype)
    still = fill_behind(image, front, hard=hard, only_where_behind=True)  # (1, 4, H, W)
    layers = (image - (1 - front * image[:, 3:]) * still)[:, None]  # (1, 1, 4, H, W): the front layer
    if tuple(out_size) != tuple(image.shape[-1:-3:-1]):  # another output size: the still part is resampled too
        zero = Motion(motion.masks, torch.zeros_like(motion.affine), torch.zeros_like(motion.flow))
        still = next(render_chunks(still[:, None], zero, phases[:1], box=box, canvas_size=canvas_size, out_size=out_size,
                                   mode=mode, align_corners=align_corners))[0]
    for moved in render_chunks(layers, motion, phases, chunk_size=_CHUNK, box=box, canvas_size=canvas_size,
                               out_size=out_size, mode=mode, align_corners=align_corners):
        frames = moved[0] + (1 - moved[0, :, 3:]) * still  # (t, 4, h, w): front "over" the still back
        alpha = frames[:, 3:].clamp(0, 1)
        yield torch.cat((torch.minimum(frames[:, :3].clamp(min=0), alpha), alpha), dim=1)
