#!/usr/bin/env bash
# Issue 19, step 2: train the vocabulary model (still2motion/vocab_head.py) from the bundled model's U-Net, on the
# oracle's best entry per training loop (research/vocab_oracle.py), two seeds, then one evaluate.py run per split with
# the bundled model and static beside it. Run from the repository root.
#
# Knobs (environment): DATA (prepared ROOT), PACK (training data), TABLE, EVERY (oracle on every EVERY-th training
# loop), MINUTES (per run; re-run the script to resume: every step is skipped or resumed), SEEDS, WORK, PYTHON.
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
DATA=${DATA:-$C/data}
PACK=${PACK:-$C/pack64}
TABLE=${TABLE:-research/tables/vocab64_s0.safetensors}
WORK=${WORK:-$C/vocab}
MINUTES=${MINUTES:-30}
SEEDS=${SEEDS:-0 1}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
N=$($PY -c "from train.data.any_dataset import open_dataset as o; print(len(o('$DATA', 'train', resolution=32)))")
MAX=$(( (N + ${EVERY:-3} - 1) / ${EVERY:-3} ))

# 1. The oracle on the training loops, two shards in parallel (~0.9-5 s a loop each at 32²).
for k in 0 1; do
    out=$WORK/oracle_train${EVERY:-3}_s$k.safetensors
    [ -f "$out" ] || $PY research/vocab_oracle.py --vocabulary "$TABLE" --data_dir "$DATA" --split train \
        --max_sequences "$MAX" --shard $k/2 --scales 0.25,0.5,1,1.5 --coarse_scale 0.5 --no_presets --output "$out" &
done
wait

# 2. Two seeds at once, each resumable (--resume_from_checkpoint latest), stopping cleanly after MINUTES.
for seed in $SEEDS; do
    $PY research/train.py --data_dir "$PACK" --init_generator default --vocabulary "$TABLE" \
        --vocab_targets "$WORK"/oracle_train${EVERY:-3}_s{0,1}.safetensors --lambda_vocab 1.0 \
        --best_of_k 2 --reversal_invariant --train_batch_size 16 --frames_per_clip 4 --mixed_precision bf16 \
        --use_ema --ema_decay 0.99 --max_train_time_minutes "$MINUTES" --checkpointing_steps 50 \
        --checkpoints_total_limit 2 --report_to none --lambda_front_share 0 --seed "$seed" \
        --resume_from_checkpoint latest --output_dir "$WORK/runs/vocab_s$seed" &
done
wait

# 2b. The linear probe of the frozen bundled trunk (P1: hard and soft targets, saved as models; P2: with two
#     strong-style copies of each frame; H1: seed 0 from the coefficient heads), then fine-tuning from P1 (F2).
ORACLES=("$WORK"/oracle_train${EVERY:-3}_s{0,1}.safetensors)
EVAL=(--eval val="$WORK/oracleB_val_vocab64_s0.safetensors" --eval unseen-val="$WORK/oracleB_unseen-val_vocab64_s0.safetensors")
[ -d "$WORK/probe" ] || $PY research/vocab_probe.py --data_dir "$DATA" --train_oracles "${ORACLES[@]}" "${EVAL[@]}" \
    --temperatures 0.02,0.05,0.1 --vocabulary "$TABLE" --save "$WORK/probe"
[ -d "$WORK/probe_style" ] || $PY research/vocab_probe.py --data_dir "$DATA" --train_oracles "${ORACLES[@]}" "${EVAL[@]}" \
    --temperatures 0.05 --style_views 2 --style strong --vocabulary "$TABLE" --save "$WORK/probe_style"
[ -d "$WORK/probe_hybrid" ] || $PY research/vocab_probe.py --data_dir "$DATA" --train_oracles "${ORACLES[@]}" \
    --temperatures 0.05 --seeds 1 --vocabulary "$TABLE" --save "$WORK/probe_hybrid" --seed_zero coefficients
for seed in $SEEDS; do
    $PY research/train.py --data_dir "$PACK" --init_generator "$WORK/probe/soft_T0.05" --vocabulary "$TABLE" \
        --vocab_targets "${ORACLES[@]}" --vocab_temperature 0.05 --lambda_vocab 1.0 \
        --best_of_k 2 --reversal_invariant --train_batch_size 16 --frames_per_clip 4 --mixed_precision bf16 \
        --use_ema --ema_decay 0.99 --max_train_time_minutes 25 --checkpointing_steps 50 \
        --checkpoints_total_limit 2 --report_to none --lambda_front_share 0 --seed "$seed" \
        --resume_from_checkpoint latest --output_dir "$WORK/runs/probeft_s$seed" &
done
wait
# The probe's accuracy beside the class prior: python research/vocab_accuracy.py --model M --oracle <oracleB_val> ...

# 3. One run per split: both seeds' models, the bundled model, static; two sampling seeds (diversity, best-of-2).
MODELS=()
for seed in $SEEDS; do MODELS+=(--model "$WORK/runs/vocab_s$seed" --model "$WORK/runs/probeft_s$seed"); done
for m in probe/hard probe/soft_T0.02 probe/soft_T0.05 probe/soft_T0.1 probe_style/soft_T0.05 probe_hybrid/soft_T0.05; do
    MODELS+=(--model "$WORK/$m")
done
for split in val unseen-val; do
    case $split in val) SUBSET=(--max_sequences 74) ;; *) SUBSET=() ;; esac
    $PY train/evaluate/evaluate.py "${MODELS[@]}" --model default --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --seeds 2 --baseline static --bootstrap 200 --contact_sheets 0 --output_dir "$WORK/eval_vocab_$split"
done
# Blind curves on unseen-val: add --baseline blind:{bob,sway,breathe} --amplitudes 0.01,0.02,0.04,0.06,0.1; the seeds
# that sample (H1): --seed 1 --seeds 2; at equal motion: --strength 1.5.
