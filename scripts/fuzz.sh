#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) in build/fuzz and runs each for
# a fixed time against a copy of its committed seed corpus (tests/fuzz/corpus/<target>/, never
# written to). Prints executions per second and total executions per target; exits non-zero if
# any target crashed, hit a sanitizer report or an invariant (crash inputs are kept under
# build/fuzz/artifacts/<target>/). Installs clang-14 and libclang-rt-14-dev when missing.
#
#   scripts/fuzz.sh [--smoke]            ~10 s per target (what CI runs)
#   scripts/fuzz.sh --seconds 600        10 minutes per target
#   scripts/fuzz.sh --seconds 3600 --target fuzz_tables --corpus-dir /var/tmp/vtdsim-corpus --fork 2
#
# Options:
#   --seconds N       run time per target (default 10)
#   --smoke           the default: 10 s per target
#   --target NAME     run only this target (repeatable); default: every target that was built
#   --corpus-dir DIR  keep the growing corpus in DIR/<target>/ across runs (seeded from the
#                     committed corpus) instead of a temporary copy
#   --fork N          run N fuzzing processes per target (libFuzzer -fork=N)
#   --no-build        do not configure/build (use the existing build/fuzz)
# Environment: FUZZ_JOBS (build parallelism, default nproc), FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

seconds=10
targets=()
corpus_dir=""
fork=0
build=1
while (($#)); do
  case "$1" in
    --smoke) seconds=10 ;;
    --seconds) seconds="$2"; shift ;;
    --target) targets+=("$2"); shift ;;
    --corpus-dir) corpus_dir="$2"; shift ;;
    --fork) fork="$2"; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "fuzz.sh: --seconds needs a positive integer, got '$seconds'" >&2
  exit 2
fi

build_dir="$root/build/fuzz"
if ((build)); then
  missing=()
  for p in clang-14 libclang-rt-14-dev cmake ninja-build; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "fuzz.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! grep -q '^VTDSIM_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
    CXX=clang++-14 cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DVTDSIM_SANITIZE=ON -DVTDSIM_FUZZ=ON -DVTDSIM_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$build_dir" --target fuzz_all -j "${FUZZ_JOBS:-$(nproc)}"
fi

bin_dir="$build_dir/tests/fuzz"
if ((${#targets[@]} == 0)); then
  for src in "$root"/tests/fuzz/fuzz_*.cc; do
    name="$(basename "$src" .cc)"
    if [[ -x "$bin_dir/$name" ]]; then
      targets+=("$name")
    else
      echo "fuzz.sh: warning: $name was not built (see the cmake warnings), skipped" >&2
    fi
  done
fi

work="$(mktemp -d /tmp/vtdsim-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failed=()
summary=()
for name in "${targets[@]}"; do
  exe="$bin_dir/$name"
  [[ -x "$exe" ]] || { echo "fuzz.sh: $exe not found" >&2; failed+=("$name"); continue; }
  if [[ -n "$corpus_dir" ]]; then
    corpus="$corpus_dir/$name"
  else
    corpus="$work/corpus/$name"
  fi
  mkdir -p "$corpus"
  cp -n "$root/tests/fuzz/corpus/$name/"* "$corpus/" 2>/dev/null || true
  artifacts="$build_dir/artifacts/$name"
  mkdir -p "$artifacts"
  log="$work/$name.log"
  extra=()
  ((fork > 0)) && extra+=("-fork=$fork" "-ignore_crashes=0")
  echo "== $name: ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs"
  rc=0
  # shellcheck disable=SC2086
  "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2560 \
    -artifact_prefix="$artifacts/" "${extra[@]}" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  if [[ -z "$execs" ]]; then  # -fork mode prints progress lines instead of final stats
    execs="$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')"
    rate=$(( ${execs:-0} / seconds ))
  fi
  line="$(printf '%-18s %8s execs %8s exec/s  corpus %5s' "$name" "${execs:-?}" "${rate:-?}" \
          "$(ls "$corpus" | wc -l)")"
  if ((rc != 0)); then
    failed+=("$name")
    echo "$line  FAILED (exit $rc)"
    grep -E 'FUZZ INVARIANT|ERROR: |runtime error|SUMMARY|Test unit written' -A2 "$log" | head -30
    summary+=("$line  FAILED")
  else
    echo "$line  ok"
    summary+=("$line  ok")
  fi
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build_dir/artifacts/<target>/)" >&2
  exit 1
fi
