#!/usr/bin/env bash
# Train from the one-file compact pack (every source at 64x64, ~33 MB: docs/data-sources.md), e.g. on a lent GPU
# machine, which takes 64 MiB of files in all (working tree included): carry the pack, nothing else.
#
#   python train/data/prepare_data.py --out "$C/data_v2" --compact_pack "$C/pack64_v2.s2mpack"   # once, here (~15 min)
#   PACK=$C/pack64_v2.s2mpack bash train/recipes/gpu.sh                                      # there
#   SMOKE=1 bash train/recipes/gpu.sh                                                       # 50 CPU steps, a check
#
# Knobs (environment): PACK, OUT, MINUTES (wall-clock budget; the run checkpoints and saves the model when it is
# spent), STEPS, BATCH, STYLE (--style_augment none|default|strong), MOTIONS (fitted motion targets, if you carry
# them: train/fit/fit_motion.py reads the pack only at its own 64x64), PYTHON. Run from the repository root.
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
PACK=${PACK:-$C/pack64_v2.s2mpack}
PYTHON=${PYTHON:-python}
SMOKE=${SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
  OUT=${OUT:-/tmp/still2motion-gpu-smoke}; STEPS=${STEPS:-50}; BATCH=${BATCH:-4}; MINUTES=${MINUTES:-15}
  EXTRA=(--mixed_precision no --report_to none --checkpointing_steps 25 --checkpoints_total_limit 1)
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
else
  OUT=${OUT:-runs/gpu}; STEPS=${STEPS:-100000}; BATCH=${BATCH:-64}; MINUTES=${MINUTES:-9}
  EXTRA=(--mixed_precision bf16 --report_to tensorboard --checkpointing_steps 500 --checkpoints_total_limit 2
         --dataloader_num_workers 8 --use_ema --ema_decay 0.998)
fi
[ -f "$PACK" ] || { echo "no compact pack at $PACK: run train/data/prepare_data.py --compact_pack first" >&2; exit 1; }
MOTION_FLAGS=()
if [ -n "${MOTIONS:-}" ]; then MOTION_FLAGS=(--motion_targets "$MOTIONS" --lambda_motion 1.0); fi

"$PYTHON" train/train.py --data_dir "$PACK" --output_dir "$OUT" --resolution 64 --frames_per_clip 4 \
    --train_batch_size "$BATCH" --max_train_steps "$STEPS" --max_train_time_minutes "$MINUTES" \
    --style_augment "${STYLE:-default}" --best_of_k 1 --lambda_energy 0.1 \
    --lambda_gan 0.05 --lambda_temporal 0.05 --learning_rate 4e-4 --discr_learning_rate 2e-4 --seed 0 \
    "${EXTRA[@]}" ${MOTION_FLAGS[@]+"${MOTION_FLAGS[@]}"}
