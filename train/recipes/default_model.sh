#!/usr/bin/env bash
# How the bundled default model was made (2-core CPU: data 3.5 min, stage 1 33 min, stage 2 55 + 27 + 65 min). Run from the repository root.
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}

# 1. Data: four Debian game-data packages -> $C/data (prepared ROOT) and $C/pack64 (64x64 pack).   ~3.5 min
python train/prepare_data.py --out "$C/data" --pack "$C/pack64" --pack_resolution 64

# 2. Stage 1: fit every train/val loop's periodic motion (affine + coarse flow + masks) at 32x32.  ~33 min here
python train/fit_motion.py --data_dir "$C/data" --split train,val --output "$C/motions.safetensors" --steps 120

# 3. Stage 2: regress the fitted motion (best of 4 noise draws) + reconstruction + energy matching + small GAN terms.
FLAGS=(--resolution 64 --train_batch_size 16 --frames_per_clip 4 --best_of_k 4
       --motion_targets "$C/motions.safetensors" --lambda_motion 1.0 --lambda_energy 0.1 --lambda_front_share 0
       --lambda_gan 0.05 --lambda_temporal 0.05 --learning_rate 4e-4 --discr_learning_rate 2e-4
       --use_ema --ema_decay 0.998 --mixed_precision bf16 --max_train_steps 100000 --max_train_time_minutes 55
       --checkpointing_steps 200 --checkpoints_total_limit 2 --report_to tensorboard --seed 0)
OMP_NUM_THREADS=1 python train/train.py --data_dir "$C/pack64" --output_dir "$C/runs/main" "${FLAGS[@]}"

# 3a. Continue: 27 min with energy 0.3 (main2, step 2,336), then 65 min of plain regression (best of 1: four times
#     the clips per second) scored forwards or backwards, whichever fits (--reversal_invariant) -> v1_k1rev, step 5,588.
mkdir -p "$C/runs/main2" && cp -r "$C/runs/main/checkpoint-1286" "$C/runs/main2/"
OMP_NUM_THREADS=1 python train/train.py --data_dir "$C/pack64" --output_dir "$C/runs/main2" "${FLAGS[@]}" \
    --lambda_energy 0.3 --max_train_time_minutes 27 --resume_from_checkpoint latest
OMP_NUM_THREADS=1 python train/train.py --data_dir "$C/pack64" --output_dir "$C/runs/v1_k1rev" "${FLAGS[@]}" \
    --max_train_time_minutes 65 --checkpointing_steps 300 --best_of_k 1 --reversal_invariant \
    --resume_from_checkpoint "$C/runs/main2/checkpoint-2336"

# 3b. Leave-one-source-out: the same recipe without SuperTux, evaluated on all SuperTux loops (run beside 3).
python - "$C" <<'PY'
import json, os, sys
from pathlib import Path
c = Path(sys.argv[1]); root = c / "data"; rows = [json.loads(l) for l in open(root / "manifest.jsonl")]
def make(name, split_of):
    dst = c / name; out = []
    for r in rows:
        split = split_of(r)
        if split is None: continue
        (dst / split).mkdir(parents=True, exist_ok=True)
        link = dst / split / r["seq"]
        if not link.exists(): os.symlink((root / r["split"] / r["seq"]).resolve(), link)
        out.append({**r, "split": split})
    (dst / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in out))
src = lambda r: r["seq"].split(".")[0]
make("data_no_supertux", lambda r: None if src(r) == "supertux" else r["split"])
make("eval_supertux", lambda r: "test" if src(r) == "supertux" else ("train" if r["split"] == "train" else None))
PY
OMP_NUM_THREADS=1 python train/train.py --data_dir "$C/data_no_supertux" --output_dir "$C/runs/loso_supertux" "${FLAGS[@]}"

# 4. Calibrate the amplitude on val (the strength whose median motion ratio is nearest 1: 1.0 -> 0.81, 1.25 -> 0.94),
#    then evaluate at it: val, test once, and the left-out source (that model is recipe 3b, not continued).
for S in 1.0 1.25; do
  python train/evaluate.py --model "$C/runs/v1_k1rev" --data_dir "$C/data" --split val --output_dir "eval/val_s$S" --strength $S
done
S=1.25
BASE=(--baseline static --baseline random-motion --motions "$C/motions.safetensors" --contact_sheets 12 --strength $S)
python train/evaluate.py --model "$C/runs/v1_k1rev" --data_dir "$C/data" --split test --output_dir eval/test "${BASE[@]}"
python train/evaluate.py --model "$C/runs/loso_supertux" --data_dir "$C/eval_supertux" --split test \
    --output_dir eval/loso_supertux "${BASE[@]}"

# 5. Ship: weights + motion_scale + a card whose numbers are read from the metrics files (all measured at $S).
python train/ship.py --run_dir "$C/runs/v1_k1rev" --data_dir "$C/data" --metrics eval/test/metrics.json --motion_scale $S \
    --extra "Validation split (val)=eval/val_s$S/metrics.json" \
    --extra "Leave-one-source-out: recipe 3b (trained without SuperTux, 55 min), evaluated on all 136 SuperTux loops=eval/loso_supertux/metrics.json"
python train/examples_sheet.py --output docs/examples_default_model.png
