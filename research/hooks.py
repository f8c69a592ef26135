"""The research features of a training run, through the core's one seam (``train/hooks.py``):

- the motion vocabulary (``--vocabulary``, ``--vocab_targets``, ``--lambda_vocab``, ``--vocab_temperature``): the
  generator scores a table of real motions (``vocab_model.py``) and learns the oracle's entry (``vocab_loss.py``);
- per-loop weights (``--loop_kinds``, ``--swap_l1_weight``): less reconstruction from loops no warp can follow
  (``loop_weights.py``);
- colour dropout (``--colour_dropout``): the motion of a share of the clips is predicted from the silhouette alone;
- squash augmentation (``--squash_augment``): half of the clips squashed vertically (``train/data/datasets.py``);
- training through the drawing guard (``--train_through_guard``): the losses see the motion ``keep_drawing`` renders
  (``guarded_training.py``).

``research/train.py`` trains with these hooks; with none of their flags given they change nothing.
"""

from __future__ import annotations

import argparse

import torch
from accelerate.logging import get_logger
from safetensors import SafetensorError

from research.guarded_training import train_through_guard
from research.loop_weights import LoopWeights
from research.vocab_loss import OracleTargets, vocab_loss
from research.vocab_model import with_vocabulary
from still2motion.model import Still2Motion, silhouette_view
from train.args import ConfigError, model_config
from train.data.source_balance import drawn_meta
from train.hooks import Hooks
from train.preflight import check_files

logger = get_logger(__name__, log_level="INFO")


def colour_dropout(image: torch.Tensor, share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``image (B, 4, R, R)`` (premultiplied) with the colours of a random ``share`` of its items replaced by flat
    grey under their alpha, and which items ``(B,)`` were: the silhouette alone, for the motion to be read from."""
    dropped = torch.rand(image.shape[0], device=image.device) < share
    return torch.where(dropped[:, None, None, None], silhouette_view(image), image), dropped


class ResearchHooks(Hooks):
    """The vocabulary, per-loop weights, colour dropout and squash; each is off until its flag is given."""

    def __init__(self) -> None:
        self.vocab_targets: OracleTargets | None = None
        self.loop_weights: LoopWeights | None = None
        self.colour_dropout, self.lambda_vocab = 0.0, 1.0

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        r = parser.add_argument_group("research (research/hooks.py)")
        r.add_argument("--colour_dropout", type=float, default=0.0,
                       help="share of clips whose motion the generator predicts from the silhouette alone (the input's "
                            "colours replaced by flat grey under its alpha); it still warps and is scored on the real "
                            "picture (still2motion only; research/log/styles.md, 'Colour dropout')")
        r.add_argument("--squash_augment", type=float, default=1.0,
                       help="below 1: half of the clips squashed vertically by a factor in [F, 1] (squatter "
                            "silhouettes; train/data/datasets.py 'squash'); not with --motion_targets or "
                            "--vocab_targets")
        r.add_argument("--vocabulary", default=None,
                       help="a motion table (research/vocabulary.py): the generator scores its entries and predicts a "
                            "small residual instead of regressing coefficients (an --init_generator lends its U-Net)")
        r.add_argument("--vocab_targets", nargs="+", default=None,
                       help="vocab_oracle.py files of training loops: each loop's best entry and residual (needs "
                            "--vocabulary)")
        r.add_argument("--lambda_vocab", type=float, default=1.0,
                       help="cross-entropy on the oracle's entry plus L1 on its residual (needs --vocab_targets)")
        r.add_argument("--vocab_temperature", type=float, default=0.0,
                       help="> 0: soft class targets from every entry's fit on every loop the oracle saw "
                            "(research/vocab_loss.py); 0: the best entry of loops that beat a still frame")
        r.add_argument("--loop_kinds", nargs="+", default=None,
                       help="coherent_fit.py / fit_motion.py files of training loops (shards read together): which "
                            "loops a warp can follow (research/loop_weights.py)")
        r.add_argument("--train_through_guard", action="store_true",
                       help="every training forward renders the motion the drawing guard keeps "
                            "(still2motion/drawing.py), as animate does (research/guarded_training.py)")
        r.add_argument("--swap_l1_weight", type=float, default=1.0,
                       help="scale the reconstruction term of loops no warp follows ('swap' loops, needs --loop_kinds) "
                            "by this weight in [0, 1]; 1 = every loop alike")

    def check(self, args: argparse.Namespace) -> None:
        if args.generator != "still2motion":
            for name in ("vocabulary", "colour_dropout"):
                if getattr(args, name):
                    raise ConfigError(f"--{name} only applies to --generator still2motion, not {args.generator}")
        if args.phase_shifts > 1 and args.vocabulary:
            raise ConfigError("--phase_shifts > 1 cannot be combined with --vocabulary "
                              "(its targets are anchored at the input frame's own phase)")
        if not 0 < args.squash_augment <= 1:
            raise ConfigError(f"--squash_augment must be in (0, 1], got {args.squash_augment}")
        if args.squash_augment < 1 and (args.motion_targets or args.vocab_targets):
            raise ConfigError("--squash_augment cannot be combined with --motion_targets or --vocab_targets: a squash "
                              "has no place in the targets' (flip, scale, shift) transform")
        if not 0 <= args.colour_dropout <= 1:
            raise ConfigError(f"--colour_dropout must be in [0, 1], got {args.colour_dropout}")
        if not 0 <= args.swap_l1_weight <= 1:
            raise ConfigError(f"--swap_l1_weight must be in [0, 1], got {args.swap_l1_weight}")
        if (args.swap_l1_weight != 1) != bool(args.loop_kinds):
            raise ConfigError("--swap_l1_weight and --loop_kinds go together: the weight needs the files that say "
                              "which loops swap content, and the files do nothing at weight 1")
        if args.train_through_guard and (args.generator != "still2motion" or args.vocabulary):
            raise ConfigError("--train_through_guard needs --generator still2motion without --vocabulary")
        if args.vocab_temperature < 0:
            raise ConfigError(f"--vocab_temperature must be >= 0, got {args.vocab_temperature}")
        if args.vocab_targets and not args.vocabulary:
            raise ConfigError("--vocab_targets needs --vocabulary (the table the oracle chose from)")
        if args.vocabulary and args.motion_targets:
            raise ConfigError("--vocabulary and --motion_targets cannot be combined: a vocabulary model has no "
                              "coefficients to regress (use --vocab_targets)")
        check_files(vocabulary=[args.vocabulary] if args.vocabulary else [], vocab_targets=args.vocab_targets or [],
                    loop_kinds=args.loop_kinds or [])

    def dataset_options(self, args: argparse.Namespace) -> dict:
        return {"squash": args.squash_augment} if args.squash_augment < 1 else {}

    def needs_fresh_generator(self, args: argparse.Namespace) -> bool:
        return not args.vocabulary  # with_vocabulary builds its own from the flags

    def build(self, args: argparse.Namespace, generator):
        if args.vocabulary:
            try:
                generator = with_vocabulary(args.vocabulary, generator, model_config(args))
            except ValueError as exc:
                raise ConfigError(f"--vocabulary {args.vocabulary}: {exc}") from None
        if args.colour_dropout == 1 and isinstance(generator, Still2Motion):  # every clip: a silhouette model, saved so
            generator.silhouette_only = True
            generator._hub_mixin_config["silhouette_only"] = True
        if args.train_through_guard:
            generator = train_through_guard(generator)
        return generator

    def attach(self, args: argparse.Namespace, run, train_set) -> None:
        self.colour_dropout = args.colour_dropout
        self.lambda_vocab = args.lambda_vocab
        if args.vocab_targets:
            size = run.accelerator.unwrap_model(run.generator).generator.vocabulary_size
            try:
                self.vocab_targets = OracleTargets(args.vocab_targets, size, temperature=args.vocab_temperature)
            except ValueError as exc:
                raise ConfigError(f"--vocab_targets: {exc}") from None
            logger.info(f"vocabulary targets: {len(self.vocab_targets)} loops, "
                        f"{int(self.vocab_targets.weight.sum())} beat static")
        if args.loop_kinds:
            try:
                self.loop_weights = LoopWeights(args.loop_kinds, args.swap_l1_weight)
            except (OSError, ValueError, SafetensorError) as exc:
                raise ConfigError(f"--loop_kinds: {exc}") from None
            coverage = self.loop_weights.coverage([seq for seq, _ in drawn_meta(train_set)])
            logger.info(f"--loop_kinds: training draws per kind {coverage}; swap loops' reconstruction "
                        f"weight {args.swap_l1_weight:g}")

    def inputs(self, run, batch: dict, logs: dict) -> dict:
        image = batch["input"]
        out = {}
        if self.vocab_targets is not None:
            out["vocab_target"] = target = self.vocab_batch(batch, image.device)
            out["classes"] = torch.where(target[2] > 0, target[0], -1)
        if self.colour_dropout:
            out["sees"], dropped = colour_dropout(image, self.colour_dropout)
            logs["g_colour_dropped"] = dropped.float().mean().item()
        return out

    def vocab_batch(self, batch: dict, device):
        """The oracle's ``(classes, residual, weight, soft)`` for the batch's items, re-anchored and mirrored as they
        were drawn."""
        flip = torch.as_tensor(batch["augment"])[:, 0] if "augment" in batch else None
        start = batch.get("start")
        num_frames = batch["num_frames"] if start is not None else None
        return tuple(None if t is None else t.to(device)
                     for t in self.vocab_targets.batch(list(batch["seq"]), start, num_frames, flip))

    def loss(self, run, batch: dict, inputs: dict, vocab, logs: dict):
        if vocab is None or "vocab_target" not in inputs:  # the scores and residual do not depend on the noise
            return None
        hard, target, weight, soft = inputs["vocab_target"]
        ce, residual_l1 = vocab_loss(vocab[0], vocab[1], hard if soft is None else soft, target, weight)
        logs.update(g_vocab_ce=ce.item(), g_vocab_residual=residual_l1.item())
        return self.lambda_vocab * (ce + residual_l1)

    def weigh(self, run, batch: dict, per_sample: torch.Tensor, logs: dict) -> torch.Tensor:
        if self.loop_weights is None:  # loops no warp can follow teach little but "move less"
            return per_sample
        weight = self.loop_weights.for_seqs(list(batch["seq"])).to(per_sample.device)
        logs["g_swap_frac"] = (weight < 1).float().mean().item()
        return per_sample * weight.repeat(per_sample.shape[0] // weight.shape[0])
