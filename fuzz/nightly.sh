#!/usr/bin/env bash
# The nightly recipe: every harness for a set time, one after another: fuzz/nightly.sh [SECONDS_PER_HARNESS]
# (default 1800). Exits non-zero when any harness found something; the summaries are in ~/.cache/still2motion/fuzz/runs.log.
set -uo pipefail
seconds=${1:-1800}
status=0
for harness in png_chunks apng gif mask e2e; do
  nice -n 10 "$(dirname "$0")/run.sh" "$harness" "$seconds" || status=1
done
exit $status
