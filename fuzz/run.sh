#!/usr/bin/env bash
# Runs the libFuzzer targets of a fuzz build (`make fuzz` builds them first).
# Usage: fuzz/run.sh <build-dir> [target ...]   (no target: every fuzz/*_fuzz.cc)
# Environment: FUZZ_SECONDS (per target, default 10), FUZZ_SEED (default 1), FUZZ_JOBS (targets
# run at once, default 2), FUZZ_OUT (where the corpus copies, logs and crash inputs go; default
# <build-dir>/fuzz-runs, emptied first).
# Each target starts from a copy of fuzz/corpus/<target> and fuzz/regressions/<target>, so the
# repository is not modified. A crash, leak, sanitizer report or timeout fails the run and prints
# the input that caused it and the command that replays it.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: fuzz/run.sh <build-dir> [target ...]}
shift
seconds=${FUZZ_SECONDS:-10}
seed=${FUZZ_SEED:-1}
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUT:-$build/fuzz-runs}
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$src"/*_fuzz.cc; do
    f=$(basename "$f")
    targets+=("${f%_fuzz.cc}")
  done
fi
rm -rf "$out"
mkdir -p "$out"
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, ${jobs} at a time, -seed=${seed} (FUZZ_SEED)"

run_one() {
  local t=$1 exe="$build/fuzz/${1}_fuzz" dir="$out/$1"
  mkdir -p "$dir/corpus"
  cp -r "$src/corpus/$t/." "$dir/corpus/" 2>/dev/null || true
  cp -r "$src/regressions/$t/." "$dir/corpus/" 2>/dev/null || true
  local dict=()
  [[ -f "$src/dict/$t.dict" ]] && dict=(-dict="$src/dict/$t.dict")
  # -timeout: one input running that long is a finding (a client could hold a thread with it).
  # -rss_limit_mb/-malloc_limit_mb: two targets at once must fit the CI machine.
  if "$exe" -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" \
      "$dir/corpus" >"$dir/log" 2>&1; then
    echo "fuzz: $t ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" |
      grep -o '[0-9]*$') runs, corpus $(ls "$dir/corpus" | wc -l))"
  else
    echo "fuzz: $t FAILED; the end of its log ($dir/log):"
    tail -n 40 "$dir/log" | sed 's/^/  /'
    for a in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
      [[ -e "$a" ]] || continue
      echo "  input: $a"
      echo "  replay: $exe $a"
      echo "  keep it: cp $a $src/regressions/$t/ (then fix the parser; fuzz/README.md)"
    done
    return 1
  fi
}

for t in "${targets[@]}"; do
  if [[ ! -x "$build/fuzz/${t}_fuzz" ]]; then
    echo "fuzz: no target $t in $build/fuzz" >&2
    exit 2
  fi
done
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  (if run_one "$t"; then echo ok >"$out/$t.status"; fi) &
done
wait
failed=0
for t in "${targets[@]}"; do
  [[ -f "$out/$t.status" ]] || failed=1
done
if ((failed)); then
  echo "fuzz: FAILED (seed ${seed})"
  exit 1
fi
echo "fuzz: all targets ok"
