#!/usr/bin/env bash
# bench/rate.sh: intake's latency at a fixed offered rate, and how busy the store's writer is.
#
#   bench/rate.sh [RATE ...]                    (default 10000)
#   BUILDS="old-build build" bench/rate.sh      two builds side by side, alternating
#
# For each rate, repetition and build, starts houston on a fresh SQLite database with W1d's org
# (bench/org-intake.yaml: a new alert per event, nothing pages; --sync full) on SUT_CPUS, warms
# it up, then offers RATE new alerts per second for DURATION s with bench/paced.lua (wrk -t1 on
# WRK_CPU). wrk is closed-loop: a connection waits for its answer before its next request, so
# it can offer RATE only while CONNECTIONS / latency > RATE. With 32 connections that bound is
# 10,000/s at 3.2 ms, and it, not houston, was what ran out in the by-hand runs of 12-05 and
# 12-06; the default here is 128 (12.8 ms). Reports, per run:
#   served        events answered per second (every one 202: any other answer fails the run)
#   p50/p99/p99.9 wrk's latency, from each request's send
#   houston CPU   user + system of all its threads, % of one CPU
#   commits/s, events per commit   from houston_store_commit_batch_size
#   writer busy   houston_store_commit_duration_seconds' sum over the run / DURATION: the share
#                 of the run in which the one writer thread was inside a transaction (its
#                 statements, COMMIT and the fsync). Every new alert passes through that thread,
#                 one transaction at a time; as this share nears 1, writes queue behind it.
#
# Environment (defaults in brackets): BUILDS [build], REPEAT [3], DURATION [12], WARMUP [2],
# CONNECTIONS [128], SUT_CPUS [0,1: both CPUs, shared with wrk], WRK_CPU [0], NOSYNC [0]: 1 runs
# each build a second time with fsync and fdatasync returning at once (bench/nosync.c, preloaded),
# in the same alternation: an upper bound on what taking the fsync off the writer's path could
# buy, never a durable configuration.
# Prints a Markdown report. Loopback only; stops what it starts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILDS=${BUILDS:-build}
REPEAT=${REPEAT:-3} DURATION=${DURATION:-12} WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-128}
SUT_CPUS=${SUT_CPUS:-0,1} WRK_CPU=${WRK_CPU:-0}
RATES=("$@")
(( ${#RATES[@]} )) || RATES=(10000)
CLK_TCK=$(getconf CLK_TCK)

die() { echo "bench/rate.sh: $*" >&2; exit 2; }
HOUSTONS=()
for b in $BUILDS; do
  [[ $b = /* ]] || b=$ROOT/$b
  [[ -x $b/houston ]] || die "no $b/houston: run 'make build' (or set BUILDS)"
  HOUSTONS+=("$b/houston")
done
for tool in wrk taskset curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done

TMP=$(mktemp -d /tmp/houston-rate.XXXXXX)
HPID=''
cleanup() {
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
if [[ ${NOSYNC:-0} = 1 ]]; then
  command -v cc >/dev/null || die "NOSYNC=1 needs a C compiler (cc)"
  cc -shared -fPIC -O2 -o "$TMP/nosync.so" "$BENCH/nosync.c"
  for h in "${HOUSTONS[@]}"; do HOUSTONS+=("$h+nosync"); done
fi

field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
# A sample's value in a /metrics dump, by its exact name (e.g. a histogram's _sum or _count).
metric() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

run() {  # run HOUSTON[+nosync] RATE: one measured run; prints a table row
  local houston=${1%+nosync} rate=$2 dir preload='' suffix=''
  if [[ $1 = *+nosync ]]; then preload=$TMP/nosync.so suffix=' (no fsync)'; fi
  dir=$(mktemp -d "$TMP/run.XXXX")
  LD_PRELOAD=$preload taskset -c "$SUT_CPUS" "$houston" serve --config "$BENCH/org-intake.yaml" --db "$dir/t.db" \
    --listen 127.0.0.1:0 --port-file "$dir/port" --sync full --log-level warn >"$dir/log" 2>&1 &
  HPID=$!
  for _ in $(seq 500); do
    [[ -s $dir/port ]] && curl -sf "http://127.0.0.1:$(cat "$dir/port")/healthz" >/dev/null && break
    kill -0 "$HPID" 2>/dev/null || die "houston exited: $(tail -3 "$dir/log")"
    sleep 0.01
  done
  local url
  url=http://127.0.0.1:$(cat "$dir/port")
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/paced.lua" "$url" \
    -- "warm$RANDOM" "$rate" >/dev/null
  curl -sf "$url/metrics" >"$dir/m0"
  local t0 t1
  t0=$(awk '{ print $14 + $15 }' "/proc/$HPID/stat")
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$BENCH/paced.lua" "$url" -- "run$RANDOM" "$rate" >"$dir/wrk"
  t1=$(awk '{ print $14 + $15 }' "/proc/$HPID/stat")
  curl -sf "$url/metrics" >"$dir/m1"
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=''
  local raw
  raw=$(grep '^RESULT' "$dir/wrk") || die "no RESULT line from wrk: $(tail -3 "$dir/wrk")"
  [[ $(field other "$raw") = 0 ]] || die "houston answered $(field other "$raw") requests with other than 202"
  local bs0 bs1 bn0 bn1 ds0 ds1
  bs0=$(metric houston_store_commit_batch_size_sum "$dir/m0")
  bs1=$(metric houston_store_commit_batch_size_sum "$dir/m1")
  bn0=$(metric houston_store_commit_batch_size_count "$dir/m0")
  bn1=$(metric houston_store_commit_batch_size_count "$dir/m1")
  ds0=$(metric houston_store_commit_duration_seconds_sum "$dir/m0")
  ds1=$(metric houston_store_commit_duration_seconds_sum "$dir/m1")
  awk -v label="${houston%/houston}$suffix" -v root="$ROOT/" -v rate="$rate" \
    -v rps="$(field rps "$raw")" -v p50="$(field p50_us "$raw")" -v p99="$(field p99_us "$raw")" \
    -v p999="$(field p999_us "$raw")" -v cpu=$((t1 - t0)) -v hz="$CLK_TCK" -v d="$DURATION" \
    -v w="$((bs1 - bs0))" -v c="$((bn1 - bn0))" -v busy="$(awk -v a="$ds0" -v b="$ds1" 'BEGIN { print b - a }')" \
    'BEGIN {
       sub("^" root, "", label)
       printf "| %s | %d | %.0f | %.1f / %.1f / %.1f ms | %.0f%% | %.0f | %.1f | %.2f |\n",
         label, rate, rps, p50 / 1000, p99 / 1000, p999 / 1000, 100 * cpu / hz / d, c / d,
         (c > 0 ? w / c : 0), busy / d
     }'
  rm -rf "$dir"
}

echo "# Intake at a fixed offered rate: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo ' (with uncommitted changes)'); machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "houston on CPUs $SUT_CPUS, wrk -t1 -c$CONNECTIONS on CPU $WRK_CPU, bench/paced.lua, ${DURATION} s after ${WARMUP} s warm-up, bench/org-intake.yaml, --sync full"
echo
echo "| build | offered/s | served/s | p50 / p99 / p99.9 | houston CPU | commits/s | events per commit | writer busy |"
echo "|---|---:|---:|---|---:|---:|---:|---:|"
for rate in "${RATES[@]}"; do
  for ((i = 0; i < REPEAT; i++)); do
    order=("${HOUSTONS[@]}")
    if (( i % 2 == 1 && ${#order[@]} > 1 )); then  # alternate which build goes first
      order=("${order[1]}" "${order[0]}" "${order[@]:2}")
    fi
    for h in "${order[@]}"; do
      echo ">>> $h at $rate/s, run $((i + 1)) of $REPEAT" >&2
      run "$h" "$rate"
    done
  done
done
