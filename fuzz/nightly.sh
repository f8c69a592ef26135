#!/usr/bin/env bash
# The nightly recipe: every harness for a set time, one after another: fuzz/nightly.sh [SECONDS_PER_HARNESS]
# (default 1800). Exits non-zero when any harness found something; the summaries are in ~/.cache/still2motion/fuzz/runs.log.
# e2e runs in 100 s pieces: its process grows with the fuzzing itself (not with the readers; docs/security.md) and
# would reach its RSS limit after a few minutes.
set -uo pipefail
seconds=${1:-1800}
here="$(dirname "$0")"
status=0
for harness in png_chunks apng gif mask; do
  nice -n 10 "$here/run.sh" "$harness" "$seconds" || status=1
done
for (( left = seconds; left > 0; left -= 100 )); do
  nice -n 10 "$here/run.sh" e2e $(( left < 100 ? left : 100 )) || status=1
done
exit $status
