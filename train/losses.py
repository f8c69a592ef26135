"""Training losses. Everything is computed in float32 (inputs are cast), whatever autocast produced.

Reconstruction terms return one value per sample, ``(N,)``, so ``best_of_k`` can keep, for each clip, the best of
``k`` noise samples: motion is multimodal, and a mean over samples would average opposite motions to stillness.
No pretrained networks: nothing can be downloaded.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from still2motion.motion import Motion, shift_phase


def l1_multiscale(fake: torch.Tensor, real: torch.Tensor, scales: int = 3) -> torch.Tensor:
    """L1 on premultiplied RGBA at ``scales`` resolutions (each halving): ``(N, S, 4, H, W)`` x2 -> ``(N,)``."""
    N = fake.shape[0]
    fake, real = fake.float().flatten(0, 1), real.float().flatten(0, 1)  # (N*S, 4, H, W)
    total = 0.0
    for s in range(scales):
        if s:
            if min(fake.shape[-2:]) < 2:
                break
            fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        total = total + (fake - real).abs().mean(dim=(1, 2, 3))
    return total.view(N, -1).mean(dim=1) / scales


def shifted_phases(phases: torch.Tensor, shifts: int) -> torch.Tensor:
    """The phases to render for ``shifts`` evenly spaced phase shifts: ``(B, S)`` -> ``(B, shifts * (S + 1))``.

    Shift ``m`` renders ``delta_m = 2 pi m / shifts`` (where the input frame is compared) then ``phases + delta_m``;
    shift 0 is the plain clip with the input frame, at phase 0, in front.
    """
    with_input = torch.cat((phases.new_zeros(phases.shape[0], 1), phases), dim=1)
    delta = 2 * math.pi * torch.arange(shifts, device=phases.device, dtype=phases.dtype) / shifts
    return (with_input[:, None, :] + delta[None, :, None]).flatten(1)


def l1_over_shifts(frames: torch.Tensor, real: torch.Tensor, shifts: int) -> torch.Tensor:
    """``l1_multiscale`` of each phase shift: frames ``(N, shifts * (S + 1), 4, H, W)`` rendered at
    ``shifted_phases``, real ``(N, S + 1, 4, H, W)`` (the input frame, then the targets) -> ``(N, shifts)``.

    Scaled by ``(S + 1) / S`` so that shift 0, whose input frame matches exactly, scores what ``l1_multiscale`` of the
    ``S`` targets alone does: turning the shifts on changes which motion is scored, not the weight of L1.
    """
    N, S1 = real.shape[:2]
    per_shift = frames.unflatten(1, (shifts, S1)).transpose(0, 1).flatten(0, 1)  # (shifts * N, S + 1, ...)
    scored = l1_multiscale(per_shift, real.repeat(shifts, 1, 1, 1, 1))
    return scored.view(shifts, N).T * (S1 / (S1 - 1))


def best_of_k(losses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample losses of ``k`` noise draws ``(k, B)`` -> (mean over B of the min over k, argmin ``(B,)``)."""
    best, index = losses.min(dim=0)
    return best.mean(), index


# --- GAN losses: logits of any shape (patch maps) ---


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    """Discriminator loss: hinge (``relu(1 - real) + relu(1 + fake)``) or least squares (real -> 1, fake -> 0)."""
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())
    raise ValueError(f"gan loss must be 'hinge' or 'lsgan', got {kind!r}")


def g_loss(fake_logits: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    """Generator adversarial loss for the same ``kind``."""
    fake_logits = fake_logits.float()
    if kind == "hinge":
        return -fake_logits.mean()
    if kind == "lsgan":
        return 0.5 * (fake_logits - 1).pow(2).mean()
    raise ValueError(f"gan loss must be 'hinge' or 'lsgan', got {kind!r}")


def feature_matching(real_features: list[torch.Tensor], fake_features: list[torch.Tensor]) -> torch.Tensor:
    """Mean L1 between the discriminator's features of real (detached) and fake samples, averaged over layers."""
    terms = [(f.float() - r.detach().float()).abs().mean() for r, f in zip(real_features, fake_features)]
    return torch.stack(terms).mean()


def energy_mismatch(
    fake: torch.Tensor, real: torch.Tensor, image: torch.Tensor, eps: float = 1e-3, floor: float | None = None,
    pool: int = 1, ceiling: float | None = None,
) -> torch.Tensor:
    """``|log E(fake) - log E(real)|`` averaged over clips, ``E`` = mean |frame - input| of a clip ``(N, S, 4, H, W)``.

    Plain L1 is smallest for a timid guess, so on unfamiliar art motion amplitude collapses towards stillness; this
    term asks every clip to move about as much as its real loop does, whichever way it moves. With ``floor`` (in
    ``(0, 1]``) it is one-sided: only a clip moving less than ``floor`` times its real loop pays,
    ``max(0, log floor - log(E(fake) / E(real)))``, and overshoot is left to the reconstruction loss. With ``pool``
    > 1 every frame is first averaged over ``pool x pool`` blocks, so only coarse (body) motion counts, not the
    pixel churn a timid-but-noisy clip could meet the term with. With ``ceiling`` (>= 1) as well, a clip moving more
    than ``ceiling`` times its real loop pays ``max(0, log(E(fake) / E(real)) - log ceiling)``: a two-sided hinge
    with a free band ``[floor, ceiling]``.
    """
    if pool > 1:
        fake, real, image = (_block_mean(x, pool) for x in (fake, real, image))
    inp = image.float().unsqueeze(1)
    e_fake = (fake.float() - inp).abs().mean(dim=(1, 2, 3, 4))
    e_real = (real.float() - inp).abs().mean(dim=(1, 2, 3, 4))
    log_ratio = torch.log(e_fake + eps) - torch.log(e_real + eps)
    if floor is None:
        return log_ratio.abs().mean()
    hinge = torch.relu(math.log(floor) - log_ratio)
    if ceiling is not None:
        hinge = hinge + torch.relu(log_ratio - math.log(ceiling))
    return hinge.mean()


def _block_mean(x: torch.Tensor, pool: int) -> torch.Tensor:
    """``(..., C, H, W)`` averaged over ``pool x pool`` blocks (ragged edges kept as smaller blocks)."""
    lead = x.shape[:-3]
    pooled = F.avg_pool2d(x.float().reshape(-1, *x.shape[-3:]), pool, ceil_mode=True)
    return pooled.reshape(*lead, *pooled.shape[-3:])


# --- regularisers of the periodic-warp generator ---


def flow_smoothness(flow: torch.Tensor) -> torch.Tensor:
    """Total variation of the coarse flow coefficients ``(B, K, 2, M, 2, Hf, Wf)``: neighbours should move alike."""
    flow = flow.float()
    dx = (flow[..., :, 1:] - flow[..., :, :-1]).abs().mean() if flow.shape[-1] > 1 else flow.new_zeros(())
    dy = (flow[..., 1:, :] - flow[..., :-1, :]).abs().mean() if flow.shape[-2] > 1 else flow.new_zeros(())
    return dx + dy


def mask_entropy(masks: torch.Tensor) -> torch.Tensor:
    """Mean per-pixel entropy of the layer masks ``(B, K, H, W)``: low when each pixel belongs to one layer."""
    p = masks.float().clamp_min(1e-6)
    return -(p * p.log()).sum(dim=1).mean()


def front_share(masks: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """How much of each silhouette the front layers (1..K-1) cover: ``(B,)`` in ``[0, 1]``.

    ``masks (B, K, h, w)`` (layer 0 at the back), ``image (B, 4, H, W)``; an opaque picture's silhouette is all of it.
    """
    alpha = image[:, 3:].float()
    if alpha.shape[-2:] != masks.shape[-2:]:
        alpha = F.interpolate(alpha, size=masks.shape[-2:], mode="area")
    front = 1 - masks[:, :1].float()  # (B, 1, h, w)
    return (front * alpha).sum(dim=(1, 2, 3)) / alpha.sum(dim=(1, 2, 3)).clamp_min(1e-6)


def front_share_prior(masks: torch.Tensor, image: torch.Tensor, max_share: float = 0.5) -> torch.Tensor:
    """Hinge on ``front_share`` above ``max_share``: front layers are *parts* (a head, an arm, a foreground object)
    in front of a back layer that holds most of the silhouette, never the whole sprite (which would collapse the
    layers into one that moves everything, as tying the front mask to alpha did)."""
    return F.relu(front_share(masks, image) - max_share).mean()


# --- regression onto fitted motion targets (train/fit/fit_motion.py) ---


def anchor_targets(motion: Motion, start: torch.Tensor, num_frames: torch.Tensor) -> Motion:
    """Re-anchors fitted trajectories (anchored at frame 0) to the input frame ``start`` of a loop of ``num_frames``."""
    phase = 2 * torch.pi * start.to(motion.affine.dtype) / num_frames.to(motion.affine.dtype)
    return shift_phase(motion, phase)


def group_scales(motion: Motion) -> dict[str, float]:
    """RMS of each coefficient group over a set of fitted motions, so every group weighs about the same."""

    def rms(t: torch.Tensor) -> float:
        return max(float(t.float().pow(2).mean().sqrt()), 1e-4)

    return {"affine": rms(motion.affine), "flow": rms(motion.flow), "masks": rms(motion.masks - motion.masks.mean(dim=1, keepdim=True))}


def coefficient_regression(pred: Motion, target: Motion, scales: dict[str, float], known: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised L1 between predicted and target coefficients, per sample: ``(N,)``; zero where ``known`` is False.

    ``pred`` has ``N`` rows; ``target`` has ``B`` rows with ``N = k * B`` (the ``k`` noise draws repeat the batch).
    Flow and masks are resized to the prediction's grid when the targets were fitted at another size.
    """
    N, B = pred.affine.shape[0], target.affine.shape[0]
    k = N // B
    t_affine = target.affine.float().repeat(k, 1, 1, 1, 1)
    t_flow, t_masks = target.flow.float(), target.masks.float()
    if t_flow.shape[-2:] != pred.flow.shape[-2:]:
        lead = t_flow.shape[:-2]
        t_flow = F.interpolate(t_flow.flatten(0, -3), size=pred.flow.shape[-2:], mode="bilinear", align_corners=False)
        t_flow = t_flow.view(*lead, *pred.flow.shape[-2:])
    if t_masks.shape[-2:] != pred.masks.shape[-2:]:
        t_masks = F.interpolate(t_masks, size=pred.masks.shape[-2:], mode="bilinear", align_corners=False)
    t_flow, t_masks = t_flow.repeat(k, *[1] * (t_flow.ndim - 1)), t_masks.repeat(k, 1, 1, 1)
    per = (
        (pred.affine.float() - t_affine).abs().flatten(1).mean(1) / scales["affine"]
        + (pred.flow.float() - t_flow).abs().flatten(1).mean(1) / scales["flow"]
        + (pred.masks.float() - t_masks).abs().flatten(1).mean(1) / scales["masks"]
    ) / 3
    if known is not None:
        per = per * known.to(per.device, per.dtype).repeat(k)
    return per
