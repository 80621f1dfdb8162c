#!/usr/bin/env bash
# Set-up plus the main job. Until `vtdsim demo` exists this builds the release preset and runs
# a short smoke run of every benchmark program under bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
for b in build/release/bench/bench_*; do
  [[ -x "$b" ]] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.05 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
done
