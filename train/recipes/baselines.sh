#!/usr/bin/env bash
# Equal-budget comparison of the three generator designs (issue 8): same data (the 64x64 pack), resolution, batch,
# steps (1,000 x 16 clips), losses and seed; only --generator differs, plus the stage-1 motion targets that only a
# motion generator can regress onto. Run from the repository root after steps 1-2 of default_model.sh.
# On the 2-core development CPU the three ran side by side (one thread each), 45-80 min of wall time each.
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
COMMON=(--data_dir "$C/pack64" --resolution 64 --train_batch_size 16 --frames_per_clip 4 --best_of_k 4
        --lambda_energy 0.1 --lambda_front_share 0 --lambda_gan 0.05 --lambda_temporal 0.05
        --learning_rate 4e-4 --discr_learning_rate 2e-4 --use_ema --ema_decay 0.998 --mixed_precision bf16
        --max_train_steps 1000 --max_train_time_minutes 80 --checkpointing_steps 200 --checkpoints_total_limit 2
        --report_to tensorboard --seed 0)
OMP_NUM_THREADS=1 python train/train.py --generator pix2pix --output_dir "$C/runs/eq_pix2pix" "${COMMON[@]}" &
OMP_NUM_THREADS=1 python train/train.py --generator stn --output_dir "$C/runs/eq_stn" "${COMMON[@]}" &
OMP_NUM_THREADS=1 python train/train.py --generator still2motion --output_dir "$C/runs/eq_still2motion" "${COMMON[@]}" \
    --motion_targets "$C/motions.safetensors" --lambda_motion 1.0 &
wait

# All three designs and both built-in baselines on val, in one evaluate.py run.
python train/evaluate/evaluate.py --model "$C/runs/eq_still2motion" --model "$C/runs/eq_pix2pix" --model "$C/runs/eq_stn" \
    --baseline static --baseline random-motion --motions "$C/motions.safetensors" \
    --data_dir "$C/data" --split val --output_dir eval/equal_budget_val --contact_sheets 12

# Latency of the trained baselines beside the bundled model, same input and frame count.
python benchmarks/latency.py --compare pix2pix="$C/runs/eq_pix2pix" --compare stn="$C/runs/eq_stn"
