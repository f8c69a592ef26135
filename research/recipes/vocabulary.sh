#!/usr/bin/env bash
# Issue 19, step 1: the motion vocabulary and its oracle. No training.
# Fits every BANK_EVERY-th training loop with the coherent fit, clusters the fits into tables of SIZES entries
# (clustering seeds SEEDS), finds each val / unseen-val loop's best entry, and scores that oracle at the loops' own size
# next to static, the coherent-fit ceiling, retrieval and the image-blind curves. Run from the repository root.
#
# MAX_VAL=N: every k-th val loop (k = ceil(221 / N)); unseen-val is scored whole (56 loops).
set -euo pipefail
C=${STILL2MOTION_CACHE:-$HOME/.cache/still2motion}
DATA=${DATA:-$C/data}
WORK=${WORK:-$C/vocab}
BANK_EVERY=${BANK_EVERY:-4}
SIZES=${SIZES:-64 32 16}
SEEDS=${SEEDS:-0 1}
MAX_VAL=${MAX_VAL:-74}
PRESETS=${PRESETS:-bob sway breathe}
AMPLITUDES=${AMPLITUDES:-0.02,0.06,0.1}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$WORK"
FITS=$C/coherent_train_every$BANK_EVERY.safetensors

# 1. Coherent fits: the training loops the table is made of (also the retrieval bank), and the evaluated loops (the
#    coherent-fit ceiling and the kind of each loop).
[ -f "$FITS" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split train --every "$BANK_EVERY" --output "$FITS"
[ -f "$WORK/coherent_val.safetensors" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split val \
    --max_sequences "$MAX_VAL" --output "$WORK/coherent_val.safetensors"
[ -f "$WORK/coherent_unseen-val.safetensors" ] || $PY train/fit/coherent_fit.py --data_dir "$DATA" --split unseen-val \
    --output "$WORK/coherent_unseen-val.safetensors"

# 2. Tables: every size with the first seed, the largest with every seed.
FIRST_SEED=${SEEDS%% *}
LARGEST=${SIZES%% *}
TABLES=()
for size in $SIZES; do
    for seed in $SEEDS; do
        [ "$seed" = "$FIRST_SEED" ] || [ "$size" = "$LARGEST" ] || continue
        table=$WORK/vocab${size}_s$seed.safetensors
        [ -f "$table" ] || $PY research/vocabulary.py --fits "$FITS" --size "$size" --seed "$seed" --output "$table"
        TABLES+=("$table")
    done
done

# 3. The oracle of each table on each split: the main table first (it also names each choice's nearest preset, and is
#    then scored at the loops' own size, step 4), the size sweep and the other seeds after it.
MAIN=${TABLES[0]}
oracle() {  # table split
    local out=$WORK/oracle_${2}_$(basename "$1") subset=() extra=()
    [ "$2" = val ] && subset=(--max_sequences "$MAX_VAL")
    [ "$1" = "$MAIN" ] || extra=(--no_presets)
    [ -f "$out" ] || $PY research/vocab_oracle.py --vocabulary "$1" --data_dir "$DATA" --split "$2" "${subset[@]}" \
        "${extra[@]}" --output "$out"
}
for split in val unseen-val; do oracle "$MAIN" "$split"; done

# 4. The main table's oracle at the loops' own size, with the rows it is judged against.
BLIND=()
for p in $PRESETS; do BLIND+=(--baseline "blind:$p"); done
for split in val unseen-val; do
    case $split in val) SUBSET=(--max_sequences "$MAX_VAL") ;; *) SUBSET=(--sources supertux) ;; esac
    [ -f "$WORK/eval_$split/metrics.json" ] || $PY train/evaluate/evaluate.py --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --baseline static --baseline ceiling:coherent --coherent_fits "$WORK/coherent_$split.safetensors" \
        --baseline retrieval --bank "$FITS" \
        --baseline oracle:vocab --oracle "$WORK/oracle_${split}_$(basename "$MAIN")" \
        "${BLIND[@]}" --amplitudes "$AMPLITUDES" --bootstrap 200 --contact_sheets 0 --output_dir "$WORK/eval_$split"
done

# 5. The size sweep and the clustering seeds.
for table in "${TABLES[@]:1}"; do
    for split in val unseen-val; do oracle "$table" "$split"; done
done

# 6. A wider amplitude grid for the main table (the coarse pass at 0.5x), scored at the loops' own size.
for split in val unseen-val; do
    case $split in val) SUBSET=(--max_sequences "$MAX_VAL") ;; *) SUBSET=() ;; esac
    out=$WORK/oracleB_${split}_$(basename "$MAIN")
    [ -f "$out" ] || $PY research/vocab_oracle.py --vocabulary "$MAIN" --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --scales 0.25,0.5,0.75,1,1.5 --coarse_scale 0.5 --no_presets --output "$out"
    case $split in val) SUBSET=(--max_sequences "$MAX_VAL") ;; *) SUBSET=(--sources supertux) ;; esac
    [ -f "$WORK/evalB_$split/metrics.json" ] || $PY train/evaluate/evaluate.py --data_dir "$DATA" --split "$split" "${SUBSET[@]}" \
        --baseline static --baseline ceiling:coherent --coherent_fits "$WORK/coherent_$split.safetensors" \
        --baseline oracle:vocab --oracle "$out" --bootstrap 200 --contact_sheets 0 --output_dir "$WORK/evalB_$split"
done
# Summaries: python research/vocab_report.py --oracles $WORK/oracle*_*.safetensors --metrics $WORK/eval*/metrics.json

# 7. The oracle with a per-loop fitted residual (scale, split, pivot, 4² flow), without the flow, and from still.
for flag in "" --no_flow --from_still; do
    $PY research/vocab_residual.py --oracle "$WORK/oracleB_val_$(basename "$MAIN")" --coherent_fits \
        "$WORK/coherent_val.safetensors" --data_dir "$DATA" --split val --max_sequences "$MAX_VAL" $flag
    $PY research/vocab_residual.py --oracle "$WORK/oracleB_unseen-val_$(basename "$MAIN")" --coherent_fits \
        "$WORK/coherent_unseen-val.safetensors" --data_dir "$DATA" --split unseen-val $flag
done
