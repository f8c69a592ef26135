"""One training step: a generator forward, a discriminator update, then a generator update with D frozen.

The generator forward runs once per step, on the batch repeated ``k`` times with ``k`` noise draws (best-of-k). The
discriminators see ``torch.cat((image, fake.detach()))`` in their own update through their DDP wrapper; the
generator update calls the **unwrapped** discriminators with ``requires_grad_(False)``, so DDP never waits for
gradients that will not come. Losses are float32 whatever autocast computes in.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import torch
from torch import nn

from still2motion.model import Still2Motion
from still2motion.motion import augment_motion
from train import losses
from train.checkpointing import fault_armed
from train.discriminator import Discriminators
from train.fit.motion_targets import MotionTargets
from train.hooks import Hooks


class TrainingGenerator(nn.Module):
    """What ``accelerator.prepare`` wraps: one forward giving the frames and (for ``Still2Motion``) the motion.

    DDP synchronises gradients only for computations that go through the wrapped ``forward``, so everything the
    losses need comes out of this one call.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor, phases: torch.Tensor, noise: torch.Tensor, reverse: bool = False,
                classes: torch.Tensor | None = None, sees: torch.Tensor | None = None):
        """``(N, 4, R, R)``, ``(N, S)``, ``(N, noise_dim)`` -> frames ``(N, S, 4, R, R)``, ``Motion`` or ``None``,
        with ``reverse`` (``Still2Motion`` only) the same motion played backwards at ``phases`` (else ``None``), and
        for a vocabulary model ``(logits, residual)`` (else ``None``): it renders ``classes (N,)`` where they are
        ``>= 0`` (the oracle's entry) and samples the others from the noise. ``sees`` (``Still2Motion`` only) is what
        the motion is predicted from, when it is not ``image`` itself (colour dropout); ``image`` is what it warps."""
        g = self.generator
        if isinstance(g, Still2Motion):
            vocab = None
            sees = image if sees is None else sees
            if g.vocabulary_size:
                logits, residual, motion = g.forward_vocab(sees, noise, classes=classes)
                vocab = (logits, residual)
            else:
                motion = g(sees, noise)
            frames = g.forward_frames(image, phases, noise, motion=motion)
            backwards = g.forward_frames(image, phases, noise, motion=motion.reversed_time()) if reverse else None
            return frames, motion, backwards, vocab
        if reverse or sees is not None:
            raise ValueError("reverse=True and sees each need a Still2Motion generator")
        return g.forward_frames(image, phases, noise), None, None, None


@dataclass
class Run:
    """Everything a step needs (models as ``accelerator.prepare`` returned them)."""

    args: argparse.Namespace
    accelerator: object
    generator: nn.Module  # prepared TrainingGenerator
    discriminators: nn.Module | None  # prepared Discriminators, or None when every GAN weight is 0
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer | None
    noise_dim: int
    targets: MotionTargets | None = None
    hooks: Hooks = field(default_factory=Hooks)  # research's seam (train/hooks.py); it may keep its state here
    target_scales: dict = field(default_factory=dict)
    warned_no_start: bool = False


@dataclass
class Forward:
    image: torch.Tensor  # (B, 4, R, R)
    real: torch.Tensor  # (B, S, 4, R, R)
    phases: torch.Tensor  # (B, S)
    fake: torch.Tensor  # (B, S, 4, R, R): the first noise draw, what the discriminators judge
    recon: torch.Tensor  # () best-of-k reconstruction (+ coefficient regression)
    regular: torch.Tensor  # () flow and mask regularisers
    logs: dict


def gan_weights(args: argparse.Namespace) -> dict[str, float]:
    return {"patch": args.lambda_gan, "temporal": args.lambda_temporal}


def generator_forward(run: Run, batch: dict) -> Forward:
    """Best-of-k generator forward and the losses that do not need a discriminator."""
    args = run.args
    image, real, phases = batch["input"], batch["targets"], batch["phases"]
    B, k = image.shape[0], args.best_of_k
    noise = torch.randn(k * B, run.noise_dim, device=image.device)
    shifts = args.phase_shifts
    render_phases = phases if shifts == 1 else losses.shifted_phases(phases, shifts)
    logs = {}
    hooked = run.hooks.inputs(run, batch, logs)
    classes, sees = hooked.get("classes"), hooked.get("sees")
    frames, motion, backwards, vocab = run.generator(
        image.repeat(k, 1, 1, 1), render_phases.repeat(k, 1), noise, args.reversal_invariant,
        None if classes is None else classes.repeat(k), None if sees is None else sees.repeat(k, 1, 1, 1),
    )
    real_k = real.repeat(k, 1, 1, 1, 1)
    if shifts == 1:
        per_sample = args.lambda_l1 * losses.l1_multiscale(frames, real_k)  # (k*B,)
        per_backwards = args.lambda_l1 * losses.l1_multiscale(backwards, real_k) if backwards is not None else None
    else:  # a loop's phase is as ambiguous from one still as its direction: score the best shift
        per_sample, per_backwards, frames = _best_shift(args, frames, backwards, image, real_k, logs)
    regular = frames.new_zeros((), dtype=torch.float32)
    if motion is not None:
        if run.targets is not None:
            wanted, known = target_motion(run, batch, image.device)
            regression = losses.coefficient_regression(motion, wanted, run.target_scales, known)
            per_sample = per_sample + args.lambda_motion * regression
            if per_backwards is not None:  # played backwards, the prediction matches the target played backwards
                per_backwards = per_backwards + args.lambda_motion * losses.coefficient_regression(
                    motion, wanted.reversed_time(), run.target_scales, known
                )
            logs["g_motion"] = regression.detach().mean().item()
        smooth = losses.flow_smoothness(motion.flow)
        entropy = losses.mask_entropy(motion.masks)
        front = losses.front_share_prior(motion.masks, image.repeat(k, 1, 1, 1))
        regular = args.lambda_flow_smooth * smooth + args.lambda_mask_entropy * entropy + args.lambda_front_share * front
        logs.update(g_flow_smooth=smooth.item(), g_mask_entropy=entropy.item(), g_front_share=front.item())
    if per_backwards is not None:  # a loop has no preferred direction: score whichever way the motion fits best
        logs["g_backwards_frac"] = (per_backwards < per_sample).float().mean().item()
        per_sample = torch.minimum(per_sample, per_backwards)
    if args.lambda_energy:  # every noise draw, not just the best, should move as much as the real loop
        energy = losses.energy_mismatch(frames, real_k, image.repeat(k, 1, 1, 1), floor=args.energy_floor,
                                         pool=args.energy_pool, ceiling=args.energy_ceiling)
        regular = regular + args.lambda_energy * energy
        logs["g_energy"] = energy.item()
    extra = run.hooks.loss(run, batch, hooked, None if vocab is None else (vocab[0][:B], vocab[1][:B]), logs)
    if extra is not None:
        regular = regular + extra
    per_sample = run.hooks.weigh(run, batch, per_sample, logs)
    recon, _ = losses.best_of_k(per_sample.view(k, B))
    logs["g_recon"] = recon.item()
    return Forward(image, real, phases, frames[:B], recon, regular, logs)


def _best_shift(args, frames, backwards, image, real_k, logs):
    """Per-sample L1 of the best phase shift (forwards and, if rendered, backwards), and the unshifted clips."""
    shifts, S, k = args.phase_shifts, real_k.shape[1], args.best_of_k
    with_input = torch.cat((image.repeat(k, 1, 1, 1)[:, None], real_k), dim=1)
    forwards = args.lambda_l1 * losses.l1_over_shifts(frames, with_input, shifts)  # (k*B, shifts)
    scored = forwards if backwards is None else torch.cat(
        (forwards, args.lambda_l1 * losses.l1_over_shifts(backwards, with_input, shifts)), dim=1)
    logs["g_shifted_frac"] = (scored.argmin(dim=1) % shifts != 0).float().mean().item()
    per_backwards = None if backwards is None else scored[:, shifts:].min(dim=1).values
    unshifted = frames[:, 1:S + 1]  # shift 0 without its input frame: what the GAN and energy terms judge
    return forwards.min(dim=1).values, per_backwards, unshifted


def target_motion(run: Run, batch: dict, device):
    """Fitted motions of the batch's sequences, re-anchored to each input frame ``start``, and which were known."""
    motion, known = run.targets.for_seqs(list(batch["seq"]))
    num_frames = torch.as_tensor(batch["num_frames"])
    start = batch.get("start")
    if start is None:  # items without "start" are taken as anchored at frame 0
        if not run.warned_no_start:
            run.warned_no_start = True
            run.accelerator.print("warning: data items carry no 'start'; motion targets are not re-anchored")
        start = torch.zeros_like(num_frames)
    motion = losses.anchor_targets(motion, torch.as_tensor(start), num_frames)
    if "augment" in batch:  # the clip was flipped / scaled / shifted: move its fitted motion the same way
        motion = augment_motion(motion, torch.as_tensor(batch["augment"]))
    return type(motion)(motion.masks.to(device), motion.affine.to(device), motion.flow.to(device)), known


def _judge(discriminators: nn.Module, out: Forward, fake: torch.Tensor):
    """Judges real and ``fake`` in one call: ``{name: (real Judgement part, fake Judgement part)}``."""
    image = torch.cat((out.image, out.image))
    frames = torch.cat((out.real, fake))
    phases = torch.cat((out.phases, out.phases))
    judged = discriminators(image, frames, phases)
    return {name: (j.logits.chunk(2), [f.chunk(2) for f in j.features]) for name, j in judged.items()}


def discriminator_step(run: Run, out: Forward, check_finite) -> dict:
    """Updates the discriminators on real vs ``fake.detach()``; returns logs. ``check_finite(name, loss)`` raises."""
    if run.discriminators is None:
        return {}
    args, accelerator = run.args, run.accelerator
    with accelerator.autocast():
        judged = _judge(run.discriminators, out, out.fake.detach())
        d_loss = sum(losses.d_loss(real, fake, args.gan_loss) for (real, fake), _ in judged.values())
    check_finite("discriminator", d_loss)
    accelerator.backward(d_loss)
    logs = {"d_loss": d_loss.item()}
    for name, ((real, fake), _) in judged.items():
        logs[f"d_{name}_real"] = real.float().mean().item()
        logs[f"d_{name}_fake"] = fake.float().mean().item()
    if accelerator.sync_gradients:
        logs["grad_norm_d"] = float(accelerator.clip_grad_norm_(run.discriminators.parameters(), args.max_grad_norm))
    run.d_optimizer.step()
    run.d_optimizer.zero_grad(set_to_none=True)
    return logs


def generator_step(run: Run, out: Forward, step: int, check_finite) -> dict:
    """Updates the generator: reconstruction + regularisers + GAN and feature matching against frozen D."""
    args, accelerator = run.args, run.accelerator
    loss = out.recon + out.regular
    logs = {}
    if run.discriminators is not None:
        discriminators: Discriminators = accelerator.unwrap_model(run.discriminators)
        discriminators.requires_grad_(False)
        try:
            with accelerator.autocast():
                judged = _judge(discriminators, out, out.fake)
                weights = gan_weights(args)
                adv = sum(weights[name] * losses.g_loss(fake, args.gan_loss) for name, ((_, fake), _) in judged.items())
                fm = sum(losses.feature_matching([r for r, _ in feats], [f for _, f in feats]) for _, feats in judged.values())
            loss = loss + adv + args.lambda_feature_matching * fm
            logs.update(g_adv=adv.item(), g_feature_matching=fm.item())
        finally:
            discriminators.requires_grad_(True)
    if fault_armed("nan_loss", step):
        loss = loss * float("nan")
    check_finite("generator", loss)
    accelerator.backward(loss)
    logs["g_loss"] = loss.item()
    if accelerator.sync_gradients:
        logs["grad_norm_g"] = float(accelerator.clip_grad_norm_(run.generator.parameters(), args.max_grad_norm))
    run.g_optimizer.step()
    run.g_optimizer.zero_grad(set_to_none=True)
    return {**out.logs, **logs}
