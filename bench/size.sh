#!/usr/bin/env bash
# bench/size.sh: houston on a large database: 1,000,000 stored alerts and 100,000 open incidents.
#
#   bench/size.sh            (BUILD=build, DURATION=10 s of list queries, CONNECTIONS=4)
#
# 1. Fills a SQLite database with analytics_bench's year of data (100,000 incidents, 1,000,000
#    alerts, 400,000 notifications, 200,000 pages, 100,000 audit records; bench/analytics_bench.cc)
#    and opens every incident (status triggered, no resolved_at), so that the open-incident
#    queries have 100,000 rows to page through.
# 2. Starts houston on it once with a secrets key (which seals the integration keys of the
#    1,100,000 event rows: a database from before there was a key), stops it, then starts it
#    again, pinned to SUT_CPU: "restart to serving" is the time from exec to the first 200 of
#    GET /healthz.
# 3. Drives the list queries of bench/lists.lua (open incidents, one service's incidents, alerts,
#    pages of 50 from the newest and from random cursors) with wrk on WRK_CPU, and reports their
#    latency and houston's resident memory (VmRSS, and its peak VmHWM) before and after.
# 4. Intake beside the reads: new alerts (bench/paced.lua, W1d's org: nothing pages) paced at
#    INTAKE_RATE/s (default 1000) for DURATION s, alone and while the list queries of step 3 run
#    flat out beside them, once per houston flag set of SERVE_CONFIGS ('|'-separated; default
#    "--api-workers 0 --threads 2|": the API's handlers on two I/O threads, as before d04ea3f,
#    then houston's defaults). Reports intake's latency and the lists' beside it.
# Prints a Markdown report. Loopback only; stops what it starts; the database is deleted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-4}
SUT_CPU=${SUT_CPU:-1} WRK_CPU=${WRK_CPU:-0}
INTAKE_RATE=${INTAKE_RATE:-1000}
SERVE_CONFIGS=${SERVE_CONFIGS:---api-workers 0 --threads 2|}
HOUSTON=$BUILD/houston FILL=$BUILD/bench/analytics_bench
for f in "$HOUSTON" "$FILL"; do
  [[ -x $f ]] || { echo "bench/size.sh: no $f: run 'make build'" >&2; exit 2; }
done
for tool in wrk taskset sqlite3 curl; do
  command -v "$tool" >/dev/null || { echo "bench/size.sh: $tool is missing" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/houston-size.XXXXXX)
HPID=''
cleanup() {
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }
rss_kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status"; }

echo ">>> filling the database (analytics_bench's year of data)" >&2
HOUSTON_BENCH_DIR=$TMP HOUSTON_BENCH_FILL_ONLY=1 nice -n 5 "$FILL" sqlite >"$TMP/fill.log" 2>&1 ||
  { cat "$TMP/fill.log" >&2; exit 1; }
DB=$(ls "$TMP"/analytics_bench-*.db)
sqlite3 "$DB" "UPDATE incidents SET status = 'triggered', resolved_at = NULL, mitigated_at = NULL"
COUNTS=$(sqlite3 "$DB" "SELECT (SELECT COUNT(*) FROM alerts) || ' alerts, ' || (SELECT COUNT(*) FROM incidents WHERE status <> 'resolved') || ' open incidents'")
SIZE_MB=$(du -m "$DB" | cut -f1)
echo "    $COUNTS, ${SIZE_MB} MB" >&2

start() {  # start LABEL [FLAGS...]: starts houston, waits for /healthz; sets HPID, URL, START_MS
  local pf=$TMP/port t0 label=$1
  shift
  rm -f "$pf"
  t0=$(now_ms)
  taskset -c "$SUT_CPU" "$HOUSTON" serve --config "$BENCH/org-intake.yaml" --db "$DB" \
    --listen 127.0.0.1:0 --port-file "$pf" --log-level warn "$@" >>"$TMP/houston.log" 2>&1 &
  HPID=$!
  for _ in $(seq 6000); do
    if [[ -s $pf ]] && curl -sf "http://127.0.0.1:$(cat "$pf")/healthz" >/dev/null 2>&1; then break; fi
    kill -0 "$HPID" 2>/dev/null || { echo "houston exited: $(tail -5 "$TMP/houston.log")" >&2; exit 1; }
    sleep 0.01
  done
  START_MS=$(($(now_ms) - t0))
  URL=http://127.0.0.1:$(cat "$pf")
  echo "    $label: serving after $START_MS ms" >&2
}
stop() {
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=''
}

echo ">>> first start (seals the integration keys of every event row)" >&2
start "first start"
FIRST_MS=$START_MS
stop
TOKEN=$("$HOUSTON" token create --db "$DB" --role viewer --name size-bench)
echo ">>> restart" >&2
start "restart"
RESTART_MS=$START_MS
RSS0=$(rss_kib "$HPID" VmRSS)
echo ">>> list queries: wrk -t1 -c$CONNECTIONS -d${DURATION}s" >&2
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d2s -s "$BENCH/lists.lua" "$URL" -- "$TOKEN" \
  >/dev/null 2>&1
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/lists.lua" \
  "$URL" -- "$TOKEN" >"$TMP/wrk.out" 2>&1
RSS1=$(rss_kib "$HPID" VmRSS) HWM=$(rss_kib "$HPID" VmHWM)
stop
RESULT=$(grep '^RESULT ' "$TMP/wrk.out")
field() { tr ' ' '\n' <<<"$RESULT" | sed -n "s/^$1=//p"; }
lat() { awk -v p="$1" '$1 == p { print $2 }' "${2:-$TMP/wrk.out}"; }

MIXED_ROWS=''
IFS='|' read -r -a CONFIGS <<<"$SERVE_CONFIGS"
[[ $SERVE_CONFIGS == *'|' ]] && CONFIGS+=('')
run=0
for config in "${CONFIGS[@]}"; do
  read -r -a flags <<<"$config"
  name=${config:-defaults}
  echo ">>> intake at $INTAKE_RATE/s beside the list queries: $name" >&2
  start "$name" "${flags[@]}"
  for beside in alone lists; do
    run=$((run + 1))
    lists_pid=''
    if [[ $beside = lists ]]; then
      taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"$((DURATION + 2))s" --latency \
        -s "$BENCH/lists.lua" "$URL" -- "$TOKEN" >"$TMP/lists-$run.out" 2>&1 &
      lists_pid=$!
      sleep 1
    fi
    taskset -c "$WRK_CPU" wrk -t1 -c32 -d"${DURATION}s" --latency -s "$BENCH/paced.lua" "$URL" \
      -- "mixed$run" "$INTAKE_RATE" >"$TMP/intake-$run.out" 2>&1
    lists_p99='-'
    if [[ -n $lists_pid ]]; then
      wait "$lists_pid"
      lists_p99=$(lat 99% "$TMP/lists-$run.out")
    fi
    rps=$(tr ' ' '\n' <<<"$(grep '^RESULT ' "$TMP/intake-$run.out")" | sed -n 's/^rps=//p')
    MIXED_ROWS+="| \`${config:-(defaults)}\` | $beside | $rps | $(lat 50% "$TMP/intake-$run.out") / $(lat 99% "$TMP/intake-$run.out") | $lists_p99 |"$'\n'
  done
  stop
done

echo "# houston on a large database: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" rev-parse --short HEAD)"
echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "database: $COUNTS (plus 400,000 notifications, 200,000 pages, 100,000 audit records), ${SIZE_MB} MB"
echo
echo "| measure | value | target (issue 16) |"
echo "|---|---:|---|"
echo "| first start on it (seals 1,100,000 rows' integration keys), to the first 200 of /healthz | $FIRST_MS ms | |"
echo "| restart to serving (exec to the first 200 of /healthz) | $RESTART_MS ms | < 5 s |"
echo "| RSS after the restart | $((RSS0 / 1024)) MiB | |"
echo "| RSS after the list queries (peak) | $((RSS1 / 1024)) MiB ($((HWM / 1024)) MiB) | < 1 GiB |"
echo "| list queries: requests (200s), req/s | $(field requests) ($(field ok)), $(field rps) | |"
echo "| list query latency p50 / p90 / p99 / max | $(lat 50%) / $(lat 90%) / $(lat 99%) / $(awk '$1 == "Latency" { print $4 }' "$TMP/wrk.out") | p99 < 50 ms |"
echo
echo "Intake beside the reads: bench/paced.lua at $INTAKE_RATE/s (wrk -t1 -c32 -d${DURATION}s), alone"
echo "and with bench/lists.lua (wrk -t1 -c$CONNECTIONS) running flat out; houston on CPU $SUT_CPU,"
echo "both wrk on CPU $WRK_CPU."
echo
echo "| serve flags | intake | intake events/s | intake p50 / p99 | list p99 beside it |"
echo "|---|---|---:|---|---:|"
printf '%s' "$MIXED_ROWS"
echo
echo "bench/lists.lua, wrk -t1 -c$CONNECTIONS -d${DURATION}s, houston on CPU $SUT_CPU, wrk on CPU $WRK_CPU:"
echo
echo '```'
cat "$TMP/wrk.out"
echo '```'
