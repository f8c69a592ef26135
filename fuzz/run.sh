#!/usr/bin/env bash
# Runs one fuzz harness for a set time: fuzz/run.sh HARNESS SECONDS [extra libFuzzer flags]
#
# The corpus grows in ~/.cache/still2motion/fuzz/corpus/HARNESS (seeded from our writers and Pillow on every run);
# findings (inputs that broke the contract: crash-*, timeout-*, oom-*) land in ~/.cache/still2motion/fuzz/findings/
# HARNESS/ -- minimise one with `python -m fuzz HARNESS -minimize_crash=1 -runs=10000 FILE`, store it under
# tests/fixtures/fuzz/HARNESS/ (tests/package/test_fuzz.py replays it) and fix the reader. The last line printed is
# the run's summary: executions, coverage edges, wall time, findings; it is also appended to
# ~/.cache/still2motion/fuzz/runs.log. Run it under `nice -n 10` on a shared machine.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: fuzz/run.sh HARNESS SECONDS [libFuzzer flags]" >&2; exit 2; fi
harness=$1; seconds=$2; shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${STILL2MOTION_FUZZ_DIR:-$HOME/.cache/still2motion/fuzz}"
corpus="$cache/corpus/$harness"; findings="$cache/findings/$harness"; log="$cache/logs/$harness-$(date -u +%Y%m%dT%H%M%S).log"
mkdir -p "$corpus" "$findings" "$cache/logs"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
python -m fuzz.seeds "$cache/corpus" "$harness" >/dev/null
start=$(date +%s)
set +e
rss=512
if [ "$harness" = e2e ]; then rss=1024; fi  # torch and the model alone hold ~250 MB; libFuzzer's tables grow too
STILL2MOTION_FUZZ_FINDINGS="$findings" python -m fuzz "$harness" "$corpus" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=$rss -malloc_limit_mb=512 \
  -print_final_stats=1 -artifact_prefix="$findings/" "$@" >"$log" 2>&1
rc=$?
set -e
wall=$(( $(date +%s) - start ))
execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
found=$(ls "$findings" | wc -l)
line="$(date -u +%FT%TZ) harness=$harness execs=${execs:-0} cov_edges=${cov:-0} wall_s=$wall corpus=$(ls "$corpus" | wc -l) findings=$found rc=$rc log=$log"
echo "$line" | tee -a "$cache/runs.log"
if [ $rc -ne 0 ]; then tail -40 "$log" >&2; fi
exit $rc
