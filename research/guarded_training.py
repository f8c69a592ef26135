"""Training through the drawing guard (issues 33 and 37): the generator is scored on the motion it will be rendered
with, not on the layers it predicts.

At inference ``Still2Motion.auto_motion`` turns the learned layers into one near-rigid warp whose Jacobian is bounded
(``still2motion.drawing.keep_drawing``). A model trained on its raw layers learns motion the guard then removes: on
val, v2.1's predicted motion peaks at 4–15 px on a 72-px sprite, mostly bend and parts moving against each other,
and the guard keeps about 1 px of it (research/log/models.md, "Training through the guard"). With
``--train_through_guard`` every training forward applies the same guard, so the losses (L1, GAN, energy) see the
guarded frames and the gradient reaches what survives it: the parts' common motion in full, their own turn, scale
and relative motion times the scale the guard chose (a constant of the step), the bend where it was kept.

The guard works on the motion as ``auto_motion`` gives it (``motion_scale`` applied); the guarded motion is scaled
back by ``1 / motion_scale`` before it is rendered, so training and inference keep the relation they had.
"""

from __future__ import annotations

import torch

from still2motion.drawing import keep_drawing
from still2motion.model import Still2Motion
from still2motion.motion import Motion


def guarded(motion: Motion, image: torch.Tensor, motion_scale: float) -> Motion:
    """``motion`` ``(B, K, ...)`` over the canvases ``image`` ``(B, 4, R, R)`` as the guard renders it: ``(B, 1, ...)``
    (one warp per item, float32, differentiable in the motion)."""
    R = image.shape[-1]
    box = (0, 0, R, R)
    kept = []
    with torch.autocast(device_type=image.device.type, enabled=False):
        for b in range(image.shape[0]):
            one = Motion(motion.masks[b : b + 1].float(), motion.affine[b : b + 1].float(),
                         motion.flow[b : b + 1].float())
            out = keep_drawing(one.scaled(motion_scale), image[b : b + 1].float(), box, out_size=(R, R))
            kept.append(out.scaled(1.0 / motion_scale))
    return Motion(torch.cat([k.masks for k in kept]), torch.cat([k.affine for k in kept]),
                  torch.cat([k.flow for k in kept]))


class GuardedStill2Motion(Still2Motion):
    """``Still2Motion`` whose training forward returns the guarded motion; in eval mode (the EMA copy, validation,
    the saved model) it is ``Still2Motion`` exactly, and ``Still2Motion.from_pretrained`` loads what it saves."""

    def forward(self, image, noise=None, has_alpha=None) -> Motion:
        motion = super().forward(image, noise, has_alpha)
        if not self.training:
            return motion
        return guarded(motion, image, float(self.motion_scale))


def train_through_guard(generator: Still2Motion) -> Still2Motion:
    """``generator`` itself, from now on trained through the guard (its class becomes ``GuardedStill2Motion``)."""
    if not isinstance(generator, Still2Motion) or generator.vocabulary_size:
        raise ValueError("--train_through_guard needs a Still2Motion generator without a vocabulary")
    generator.__class__ = GuardedStill2Motion
    return generator
