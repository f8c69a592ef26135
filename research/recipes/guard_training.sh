#!/usr/bin/env bash
# Issues 33 / 37 item 2 (session 13): E's recipe on the 14-source pack with (G) the adversarial weights x4, (GD) training
# through the drawing guard (research/guarded_training.py), GD continued to step 576, (GDG) both, and (GDNE) GD
# without the energy term; seeds 0 and 1.
# Evaluated like research/recipes/shrink_test.sh (val on E's items and on v3, unseen-val per source, blind curves).
# Outputs outside the repo; rerun a train line to resume it (--resume_from_checkpoint latest).
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
O=$C/issue37; V1=$O/v1_shipped   # v1 as shipped, written by shrink_test.sh
E=(--init_generator "$V1" --best_of_k 1 --reversal_invariant --lambda_energy 0.5 --lambda_front_share 0
   --train_batch_size 16 --frames_per_clip 4 --mixed_precision bf16 --use_ema --ema_decay 0.99
   --checkpointing_steps 48 --checkpoints_total_limit 2 --report_to none --resume_from_checkpoint latest)
GAN=(--lambda_gan 0.2 --lambda_temporal 0.2)
train() { OMP_NUM_THREADS=1 nice -n 10 python research/train.py --data_dir "$C/pack64_v3.s2mpack" "${E[@]}" "$@"; }
for S in 0 1; do
  train --output_dir "$O/G_v3_s$S" "${GAN[@]}" --max_train_steps 288 --seed $S > "$O/G_v3_s$S.log" 2>&1 &
done; wait
for S in 0 1; do
  train --output_dir "$O/GD_v3_s$S" --train_through_guard --max_train_steps 288 --seed $S > "$O/GD_v3_s$S.log" 2>&1 &
done; wait
for S in 0 1; do
  mkdir -p "$O/GD_v3_s${S}_576"; [ -d "$O/GD_v3_s${S}_576/checkpoint-288" ] || cp -r "$O/GD_v3_s$S/checkpoint-288" "$O/GD_v3_s${S}_576/"
  train --output_dir "$O/GD_v3_s${S}_576" --train_through_guard --max_train_steps 576 --seed $S > "$O/GD_v3_s${S}_576.log" 2>&1 &
  train --output_dir "$O/GDG_v3_s$S" --train_through_guard "${GAN[@]}" --max_train_steps 288 --seed $S > "$O/GDG_v3_s$S.log" 2>&1 &
done; wait
for S in 0 1 2 3; do  # GDNE: through the guard without the energy term (seeds 2, 3: a second pair)
  train --output_dir "$O/GDNE_v3_s$S" --train_through_guard --lambda_energy 0 --max_train_steps 288 --seed $S > "$O/GDNE_v3_s$S.log" 2>&1 &
done; wait

D=$C/data_v3
COMMON=(--seeds 2 --bootstrap 200 --baseline static --contact_sheets 0 --noise_scale 1.0)
BLIND=(--baseline blind:bob --baseline blind:sway --baseline blind:breathe --amplitudes 0.01,0.02,0.04,0.06,0.1)
ev() { OMP_NUM_THREADS=1 nice -n 10 python train/evaluate/evaluate.py "${M[@]}" --data_dir "$D" "${COMMON[@]}" "$@"; }
for R in G GD GD576 GDG GD055 GDNE GDNE23; do
  case $R in
    G) M=(--model "$O/G_v3_s0" --model "$O/G_v3_s1");;
    GD) M=(--model "$O/GD_v3_s0" --model "$O/GD_v3_s1");;
    GD055) M=(--model "$O/GD_v3_s0" --model "$O/GD_v3_s1" --strength 0.55);;  # calibrated on val
    GD576) M=(--model "$O/GD_v3_s0_576" --model "$O/GD_v3_s1_576");;
    GDG) M=(--model "$O/GDG_v3_s0" --model "$O/GDG_v3_s1");;
    GDNE) M=(--model "$O/GDNE_v3_s0" --model "$O/GDNE_v3_s1");;
    GDNE23) M=(--model "$O/GDNE_v3_s2" --model "$O/GDNE_v3_s3");;
  esac
  ev --split val --max_sequences 74 --data_dir "$C/data_v2" --output_dir "$O/eval/${R}_val_v2items"
  ev --split val --max_sequences 74 --output_dir "$O/eval/${R}_val"
  for S in supertux hedgewars pekkakana2; do
    ev --split unseen-val --sources $S --output_dir "$O/eval/${R}_unseen-val_$S" "${BLIND[@]}"
  done
done
