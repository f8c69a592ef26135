#!/usr/bin/env bash
# Issue 19, step 2: train the vocabulary model (still2motion/vocab_head.py) from the bundled model's U-Net, on the
# oracle's best entry per training loop (train/vocab_oracle.py), two seeds, then one evaluate.py run per split with
# the bundled model and static beside it. docs/experiments.md, "Vocabulary model". Run from the repository root.
#
# Knobs (environment): DATA (prepared ROOT), PACK (training data), TABLE, EVERY (oracle on every EVERY-th training
# loop), MINUTES (per run; re-run the script to resume: every step is skipped or resumed), SEEDS, WORK, PYTHON.
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
DATA=${DATA:-$C/data}
PACK=${PACK:-$C/pack64}
TABLE=${TABLE:-train/tables/vocab64_s0.safetensors}
WORK=${WORK:-$C/vocab}
MINUTES=${MINUTES:-30}
SEEDS=${SEEDS:-0 1}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
N=$($PY -c "from still2motion.data import open_dataset as o; print(len(o('$DATA', 'train', resolution=32)))")
MAX=$(( (N + ${EVERY:-3} - 1) / ${EVERY:-3} ))

# 1. The oracle on the training loops, two shards in parallel (~0.9-5 s a loop each at 32²).
for k in 0 1; do
    out=$WORK/oracle_train${EVERY:-3}_s$k.safetensors
    [ -f "$out" ] || $PY train/vocab_oracle.py --vocabulary "$TABLE" --data_dir "$DATA" --split train \
        --max_sequences "$MAX" --shard $k/2 --scales 0.25,0.5,1,1.5 --coarse_scale 0.5 --no_presets --output "$out" &
done
wait

# 2. Two seeds at once, each resumable (--resume_from_checkpoint latest), stopping cleanly after MINUTES.
for seed in $SEEDS; do
    $PY train/train.py --data_dir "$PACK" --init_generator default --vocabulary "$TABLE" \
        --vocab_targets "$WORK"/oracle_train${EVERY:-3}_s{0,1}.safetensors --lambda_vocab 1.0 \
        --best_of_k 2 --reversal_invariant --train_batch_size 16 --frames_per_clip 4 --mixed_precision bf16 \
        --use_ema --ema_decay 0.99 --max_train_time_minutes "$MINUTES" --checkpointing_steps 50 \
        --checkpoints_total_limit 2 --report_to none --lambda_front_share 0 --seed "$seed" \
        --resume_from_checkpoint latest --output_dir "$WORK/runs/vocab_s$seed" &
done
wait

# 3. One run per split: both seeds' models, the bundled model, static; two sampling seeds (diversity, best-of-2).
MODELS=()
for seed in $SEEDS; do MODELS+=(--model "$WORK/runs/vocab_s$seed"); done
for split in val unseen-val; do
    case $split in val) SUBSET=(--max_sequences 74) ;; *) SUBSET=() ;; esac
    $PY train/evaluate.py "${MODELS[@]}" --model default --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --seeds 2 --baseline static --bootstrap 200 --contact_sheets 0 --output_dir "$WORK/eval_vocab_$split"
done
