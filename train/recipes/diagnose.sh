#!/usr/bin/env bash
# The unseen-style protocol's diagnosis (issue 15, docs/evaluation.md): the bundled model, static, random-motion,
# retrieval, the image-blind curves and both fit ceilings, on unseen-val (SuperTux, held out) and on test, with
# character-bootstrap intervals split by source and by kind of loop; and the bundled model re-scored on val (which no
# longer holds SuperTux). No training. Run from the repository root once the data is prepared.
#
# Subsets (the 2-core CPU is shared): MAX_TEST=N fits and scores every k-th test loop, k = ceil(n / N); BANK_EVERY=k
# fits every k-th training loop for retrieval; MAX_VAL=N likewise for the val re-score. Empty MAX_* = the whole split.
# The run committed in docs/results/diagnose_* used MAX_TEST=93 (every 3rd test loop), BANK_EVERY=12 and the whole
# val split (221 loops).
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
DATA=${DATA:-$C/data}
WORK=${WORK:-$C/diagnose}
DOCS=${DOCS:-docs/results}
MOTIONS=${MOTIONS:-$C/motions_train400.safetensors}  # random-motion: fit_motion.py of 400 training loops
BANK_EVERY=${BANK_EVERY:-12}
MAX_TEST=${MAX_TEST:-}
MAX_VAL=${MAX_VAL:-}
PRESETS=${PRESETS:-bob sway breathe}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$WORK"

# 1. Fits: each evaluated loop's own motion (the two ceilings, and the kind of loop), and the retrieval bank.
[ -f "$WORK/today.safetensors" ] || $PY train/fit/fit_motion.py --data_dir "$DATA" --split unseen-val,test \
    --output "$WORK/today.safetensors"
[ -f "$WORK/coherent_unseen-val.safetensors" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split unseen-val \
    --output "$WORK/coherent_unseen-val.safetensors"
[ -f "$WORK/coherent_test.safetensors" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split test \
    ${MAX_TEST:+--max_sequences "$MAX_TEST"} --output "$WORK/coherent_test.safetensors"
[ -f "$WORK/bank.safetensors" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split train --every "$BANK_EVERY" \
    --output "$WORK/bank.safetensors"

# metrics.json without the per-loop items (the table's numbers, small enough for the repository)
slim() {
    $PY - "$1/metrics.json" "$2/metrics.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for block in (*report["rows"].values(), report["real"]):
    block.pop("items", None)
json.dump(report, open(sys.argv[2], "w"), indent=1, allow_nan=False)
EOF
    cp "$1/metrics.md" "$2/metrics.md"
}

# 2. One evaluate.py run per split: every row scored on the same loops.
BLIND=()
for p in $PRESETS; do BLIND+=(--baseline "blind:$p"); done
for split in unseen-val test; do
    case $split in
        unseen-val) SUBSET=(--sources supertux) ;;
        test) SUBSET=(${MAX_TEST:+--max_sequences "$MAX_TEST"}) ;;
    esac
    $PY train/evaluate/evaluate.py --model default --seeds 4 --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --baseline static --baseline random-motion --motions "$MOTIONS" \
        --baseline retrieval --bank "$WORK/bank.safetensors" \
        --baseline ceiling:today --fits "$WORK/today.safetensors" \
        --baseline ceiling:coherent --coherent_fits "$WORK/coherent_$split.safetensors" \
        "${BLIND[@]}" --contact_sheets 0 --output_dir "$WORK/$split"
    mkdir -p "$DOCS/diagnose_$split"
    slim "$WORK/$split" "$DOCS/diagnose_$split"
done

# 3. The bundled model re-scored on val without SuperTux (its earlier row-10 val numbers included SuperTux).
$PY train/evaluate/evaluate.py --model default --seeds 4 --data_dir "$DATA" --split val ${MAX_VAL:+--max_sequences "$MAX_VAL"} \
    --baseline static --contact_sheets 0 --output_dir "$WORK/val"
mkdir -p "$DOCS/diagnose_val"
slim "$WORK/val" "$DOCS/diagnose_val"

# 4. The bundled model and today's fit ceiling on the whole test split (the subset above holds every 3rd loop).
$PY train/evaluate/evaluate.py --model default --seeds 4 --data_dir "$DATA" --split test --baseline static \
    --baseline ceiling:today --fits "$WORK/today.safetensors" --contact_sheets 0 --output_dir "$WORK/test_full"
mkdir -p "$DOCS/diagnose_test_full"
slim "$WORK/test_full" "$DOCS/diagnose_test_full"
