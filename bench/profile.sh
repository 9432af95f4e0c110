#!/usr/bin/env bash
# bench/profile.sh: where houston's CPU goes under one benchmark case. Starts build/houston pinned
# to one CPU, drives it with wrk from the other (as bench/run.sh does), records it with
# `perf record` (DWARF call graphs), and writes next to the reports in bench/results/:
#   <date>-<commit>-profile-<case>.svg   a flame graph (bench/flamegraph.py; the thread is the root)
#   <date>-<commit>-profile-<case>.txt   samples by thread, the top functions by self time, and
#                                        houston's CPU per request during the recording
# Loopback only; everything it starts is stopped on exit.
#
#   bench/profile.sh [CASE ...]     cases: healthz w1d hot w1a paging  [default: healthz w1d hot w1a]
#
# paging: a new alert each on a generated org whose every new incident pages one of 2000 users
# at once by webhook, delivered to a sink on WRK_CPU (bench/paging_latency.py --sink-only), as
# run.sh's W1a and compare_builds.sh's paging case do.
#
# Environment (defaults in brackets):
#   BUILD      build directory holding houston [build]; RelWithDebInfo gives symbols
#   DURATION   seconds recorded per case [10], after WARMUP seconds of load [2]
#   FREQ       samples per second [499]
#   SUT_CPU    CPU for houston [1];  WRK_CPU  CPU for wrk [0]
#   RESULTS_DIR  [bench/results]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
FREQ=${FREQ:-499}
SUT_CPU=${SUT_CPU:-1}
WRK_CPU=${WRK_CPU:-0}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
HOUSTON=$BUILD/houston
CLK_TCK=$(getconf CLK_TCK)
CASES=("$@")
(( ${#CASES[@]} )) || CASES=(healthz w1d hot w1a)

die() { echo "bench/profile.sh: $*" >&2; exit 1; }
[[ -x $HOUSTON ]] || die "no $HOUSTON: run 'make build' (or set BUILD=<dir>)"
for tool in perf wrk taskset curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install linux-perf wrk util-linux curl python3"
done

TMP=$(mktemp -d /tmp/houston-profile.XXXXXX)
HPID='' SINK_PID=''
cleanup() {
  [[ -n $HPID ]] && kill -TERM "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
  [[ -n $SINK_PID ]] && kill -TERM "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  rm -rf "$TMP"
}
sink_org() {  # starts the webhook sink once; its org is $TMP/sink/org.yaml
  if [[ -z $SINK_PID ]]; then
    taskset -c "$WRK_CPU" python3 "$BENCH/paging_latency.py" --sink-only "$TMP/sink" --users 2000 \
      >"$TMP/sink.log" 2>&1 &
    SINK_PID=$!
    for _ in $(seq 200); do [[ -s $TMP/sink/org.yaml ]] && break; sleep 0.05; done
    [[ -s $TMP/sink/org.yaml ]] || die "the webhook sink did not start: $(tail -3 "$TMP/sink.log")"
  fi
}
trap cleanup EXIT

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -c1) ]] && COMMIT+=-dirty
DATE=$(date -u +%F)
mkdir -p "$RESULTS_DIR"

for c in "${CASES[@]}"; do
  case $c in
    healthz) org=$BENCH/org-intake.yaml script=healthz.lua args=() what="GET /healthz" ;;
    w1d) org=$BENCH/org-intake.yaml script=events_v2.lua args=(new "p$RANDOM") what="POST /v2/enqueue, a new alert each (bench/org-intake.yaml: nothing paged), --sync full" ;;
    hot) org=$BENCH/org-intake.yaml script=events_v2.lua args=(hot "p$RANDOM") what="POST /v2/enqueue folded into 100 open alerts, --sync full" ;;
    w1a) org=$ROOT/examples/org.yaml script=events_v2.lua args=(new "p$RANDOM") what="POST /v2/enqueue, a new alert each (examples/org.yaml: checkout groups them into one open incident, which paged once), --sync full" ;;
    paging) sink_org; org=$TMP/sink/org.yaml script=events_v2.lua args=(new "p$RANDOM") what="POST /v2/enqueue, a new alert each, each new incident paging one of 2000 users by webhook to a loopback sink, --sync full" ;;
    *) die "unknown case '$c' (healthz, w1d, hot, w1a, paging)" ;;
  esac
  pf=$TMP/port db=$TMP/$c.db
  rm -f "$pf"
  taskset -c "$SUT_CPU" "$HOUSTON" serve --config "$org" --db "$db" --listen 127.0.0.1:0 \
    --port-file "$pf" --sync full --log-level warn --allow-egress 127.0.0.1/32 \
    --max-pages-per-minute 1000 >>"$TMP/houston.log" 2>&1 &
  HPID=$!
  for _ in $(seq 200); do [[ -s $pf ]] && break; sleep 0.05; done
  [[ -s $pf ]] || die "houston did not start: $(tail -5 "$TMP/houston.log")"
  url=http://127.0.0.1:$(cat "$pf")
  echo ">>> $c: $what" >&2
  warm=("${args[@]}")
  (( ${#warm[@]} )) && warm[1]="${warm[1]}-warmup"
  taskset -c "$WRK_CPU" wrk -t1 -c32 -d"${WARMUP}s" -s "$BENCH/$script" "$url" -- "${warm[@]}" >/dev/null 2>&1
  taskset -c "$WRK_CPU" wrk -t1 -c32 -d"$((DURATION + 2))s" -s "$BENCH/$script" "$url" -- "${args[@]}" \
    >"$TMP/wrk.$c" 2>&1 &
  wpid=$!
  sleep 1
  t0=$(awk '{ print $14 + $15 }' "/proc/$HPID/stat")
  perf record -q -F "$FREQ" --call-graph dwarf,32768 -p "$HPID" -o "$TMP/perf.$c" -- sleep "$DURATION" 2>/dev/null
  t1=$(awk '{ print $14 + $15 }' "/proc/$HPID/stat")
  wait "$wpid" || true
  kill -TERM "$HPID"; wait "$HPID" 2>/dev/null || true; HPID=''
  rps=$(grep -o 'Requests/sec: *[0-9.]*' "$TMP/wrk.$c" | awk '{ print $2 }')
  base=$RESULTS_DIR/$DATE-$COMMIT-profile-$c
  {
    echo "# $c: $what"
    echo "houston $COMMIT on CPU $SUT_CPU, wrk -t1 -c32 on CPU $WRK_CPU; perf record -F $FREQ --call-graph dwarf for $DURATION s ($(date -u '+%F %T UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg))"
    awk -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v rps="$rps" -v d="$DURATION" 'BEGIN {
      cpu = (t1 - t0) / hz; printf "wrk: %.0f req/s over the whole run; houston CPU while recorded: %.2f s of %d s", rps, cpu, d
      if (rps > 0) printf " = %.1f us per request (at that rate; perf adds some)", cpu / d / rps * 1e6
      printf "\n" }'
    perf script -i "$TMP/perf.$c" 2>/dev/null | python3 "$BENCH/flamegraph.py" "$base.svg" --title "houston $COMMIT: $c ($what)" --top 40
  } | tee "$base.txt"
  echo "wrote $base.svg and $base.txt" >&2
done
