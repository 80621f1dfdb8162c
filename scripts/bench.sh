#!/usr/bin/env bash
# Builds the release preset and runs every benchmark program under bench/ with repetitions,
# printing medians. `scripts/bench.sh --smoke` runs each briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
args=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
[[ "${1:-}" == "--smoke" ]] && args=(--benchmark_min_time=0.01)
for b in build/release/bench/bench_*; do
  [[ -x "$b" ]] || continue
  echo "== $(basename "$b")"
  "$b" "${args[@]}"
done
