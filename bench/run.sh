#!/usr/bin/env bash
# bench/run.sh: houston's benchmark suite (`make bench` runs it after building).
#
# Drives build/houston over loopback with wrk (keep-alive, 1 thread, 32 connections), houston
# pinned to one CPU and wrk to the other, then Prometheus Alertmanager 0.25 with the same load
# in the same run, then the Google Benchmark micro-benchmarks. Prints a Markdown report and
# writes it to bench/results/<date>-<commit>.md. Loopback only; everything it starts is stopped
# on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   BUILD        build directory holding houston and bench/ [build]
#   QUICK=1      ~1 minute smoke run: 5 s cases, one repetition, no layer or low-rate cases
#                [0: the full run, about 5 to 6 minutes]
#   DURATION     seconds of measurement per wrk case [12; QUICK 5]
#   WARMUP       seconds of warm-up load per case, not measured [2; QUICK 1]
#   REPEAT       repetitions of the houston vs Alertmanager comparison [3; QUICK 1]
#   CONNECTIONS  wrk connections [32]
#   RATE         offered rate of the fixed-rate latency case, events/s [10000]
#   LOW_RATE     a second, lower fixed rate (latency below saturation), events/s [2000]
#   SUT_CPU      CPU for houston and Alertmanager [1];  WRK_CPU  CPU for wrk [0]
#   BENCH_DIR    where the databases go (its filesystem is what fsync costs) [a new dir in /tmp]
#   RESULTS_DIR  where the report goes [bench/results]
#   HOUSTON_THREADS  houston --threads [houston's default]
#   ORG          the org for the W1a-c cases [generated: every new alert opens an incident that
#                pages one of 2000 users at once, by webhook to a sink on WRK_CPU
#                (bench/paging_latency.py --sink-only), so the pages are really delivered]
#   INTAKE_ORG   the org for the "nothing paged" cases: W1d, and W1p (houston's Prometheus
#                endpoint on Alertmanager's identical body) [bench/org-intake.yaml]
#   SKIP_AM=1, SKIP_MICRO=1  leave out Alertmanager / the micro-benchmarks
#   BASELINE     a build directory of the previous commit (or any other): after the cases,
#                bench/compare_builds.sh runs it beside BUILD, case by case in one run, and the
#                report gets its table of events/s and CPU per request with the ratios. README
#                says how to build one.
#   BUILD_COMMIT, SOURCE_NOTE  when BUILD was not built from this working tree: the commit it
#                was built from (names the report) and a note on its source (printed in it)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
QUICK=${QUICK:-0}
if [[ $QUICK = 1 ]]; then
  DURATION=${DURATION:-5} WARMUP=${WARMUP:-1} REPEAT=${REPEAT:-1} MICRO_MIN_TIME=${MICRO_MIN_TIME:-0.05}
else
  DURATION=${DURATION:-12} WARMUP=${WARMUP:-2} REPEAT=${REPEAT:-3} MICRO_MIN_TIME=${MICRO_MIN_TIME:-0.2}
fi
CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-10000}
LOW_RATE=${LOW_RATE:-2000}
SUT_CPU=${SUT_CPU:-1}
WRK_CPU=${WRK_CPU:-0}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
ROUTING_KEY=0123456789abcdef0123456789abcdef
ORG=${ORG:-}
INTAKE_ORG=${INTAKE_ORG:-$BENCH/org-intake.yaml}
HOUSTON=$BUILD/houston
AM_BIN=/usr/bin/prometheus-alertmanager
CLK_TCK=$(getconf CLK_TCK)

die() { echo "bench/run.sh: $*" >&2; exit 1; }
[[ -x $HOUSTON ]] || die "no $HOUSTON: run 'make build' (or set BUILD=<dir>)"
for tool in wrk taskset sqlite3 curl /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install wrk util-linux sqlite3 curl time"
done
if [[ ${SKIP_AM:-0} != 1 && ! -x $AM_BIN ]]; then
  die "$AM_BIN is missing: apt-get install prometheus-alertmanager (or SKIP_AM=1)"
fi
(( $(nproc) >= 2 )) || echo "warning: fewer than 2 CPUs, pinning cannot separate wrk and the server" >&2

# --- Everything started is stopped on exit. -------------------------------------------------
PIDS=()
TMP=$(mktemp -d /tmp/houston-bench.XXXXXX)
BENCH_DIR=${BENCH_DIR:-$TMP/db}
mkdir -p "$BENCH_DIR"
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true  # wrk under /usr/bin/time
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  [[ $BENCH_DIR = "$TMP"/* ]] || rm -f "$BENCH_DIR"/case-*.db* "$BENCH_DIR"/fsync-probe
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The paging org and its webhook sink (on wrk's CPU), unless ORG names another org.
PAGING_ORG='' SINK_PID=''
if [[ -z $ORG ]]; then
  taskset -c "$WRK_CPU" python3 "$BENCH/paging_latency.py" --sink-only "$TMP/sink" --users 2000 \
    >"$TMP/sink.log" 2>&1 &
  SINK_PID=$!
  PIDS+=("$SINK_PID")
  for _ in $(seq 200); do [[ -s $TMP/sink/org.yaml ]] && break; sleep 0.05; done
  [[ -s $TMP/sink/org.yaml ]] || die "the webhook sink did not start: $(tail -3 "$TMP/sink.log")"
  ORG=$TMP/sink/org.yaml PAGING_ORG=$ORG
fi

# run_waited CMD...: runs CMD in the background and waits for it, so that a signal stops the
# script at once (bash runs traps only between foreground commands) and cleanup can stop CMD.
run_waited() {
  "$@" &
  local p=$! rc=0
  PIDS+=("$p")
  wait "$p" || rc=$?
  forget_pid "$p"
  return "$rc"
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p = "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null && return
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
  done
}

# awk float helpers
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }  # µs -> ms

# field KEY FILE: the value of KEY=... on the RESULT line wrk printed into FILE.
field() { grep '^RESULT ' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# cpu_stat N: "busy total" jiffies of CPU N (all processes), from /proc/stat.
cpu_stat() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
busy_pct() {  # busy_pct "BEFORE" "AFTER": % busy of that CPU in between
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? (y[1] - x[1]) / t * 100 : 0) }'
}

# --- Output: everything goes to stdout and the report. ---------------------------------------
if [[ -n ${BUILD_COMMIT:-} ]]; then
  COMMIT=$BUILD_COMMIT DIRTY=''
else
  COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -c1)
fi
DATE=$(date -u +%F)
mkdir -p "$RESULTS_DIR"
REPORT=$RESULTS_DIR/$DATE-$COMMIT.md
[[ -e $REPORT ]] && REPORT=$RESULTS_DIR/$DATE-$COMMIT-$(date -u +%H%M%S).md
RAW=$TMP/raw
mkdir -p "$RAW"
out() { printf '%s\n' "$*"; printf '%s\n' "$*" >>"$TMP/report.md"; }
: >"$TMP/report.md"

# --- The machine. ----------------------------------------------------------------------------
out "# houston benchmark run, $(date -u '+%F %T UTC')"
out ""
if [[ -n ${SOURCE_NOTE:-} ]]; then SOURCE_LINE=" ($SOURCE_NOTE)"
elif [[ -n $DIRTY ]]; then SOURCE_LINE=" (working tree has uncommitted changes)"
else SOURCE_LINE=""; fi
out "Commit \`$COMMIT\`$SOURCE_LINE, build \`${BUILD#$ROOT/}\`. Mode: $([[ $QUICK = 1 ]] && echo QUICK || echo full), ${DURATION} s per case after ${WARMUP} s warm-up, ${CONNECTIONS} connections, ${REPEAT} repetition(s) of the Alertmanager comparison."
out ""
out "**The load generator shares the machine**: houston (and Alertmanager) run pinned to CPU ${SUT_CPU}"
out "(\`taskset -c ${SUT_CPU}\`), wrk to CPU ${WRK_CPU} (\`taskset -c ${WRK_CPU}\`). Other processes on the"
out "machine are not pinned and may run on either CPU; the load average and busiest processes at"
out "the start are recorded below."
out ""
out "## Machine"
out ""
out '```'
if [[ -n ${SOURCE_NOTE:-} ]]; then
  out "# $SOURCE_NOTE"
elif [[ -n $DIRTY ]]; then
  out "\$ git status --porcelain --untracked-files=no   # the build includes these uncommitted changes"
  out "$(git -C "$ROOT" status --porcelain --untracked-files=no)"
fi
out "\$ lscpu | head -20"
out "$(lscpu | head -20)"
out "\$ uname -r"
out "$(uname -r)"
out "\$ df -T $BENCH_DIR"
out "$(df -T "$BENCH_DIR")"
out "\$ dpkg-query -W prometheus-alertmanager wrk libsqlite3-0"
out "$(dpkg-query -W prometheus-alertmanager wrk libsqlite3-0 2>&1)"
out "\$ uptime"
out "$(uptime)"
out "\$ ps -eo pcpu,comm --sort=-pcpu | head -6   # other load at the start"
out "$(ps -eo pcpu,comm --sort=-pcpu | head -6)"
out '```'
out ""

# fsync probe: 4 KiB synchronous writes on the database filesystem (the floor of one durable
# commit in --sync full).
# Appending (the file grows: metadata is journalled too) and overwriting in place (what a
# reused WAL does).
probe=$BENCH_DIR/fsync-probe
dd_ms() { awk -v s="$(sed -n 's/.*copied, \([0-9.]*\) s.*/\1/p' <<<"$1")" 'BEGIN { printf "%.2f", s * 1000 / 200 }'; }
FSYNC_APPEND_MS=$(dd_ms "$(dd if=/dev/zero of="$probe" bs=4k count=200 oflag=dsync 2>&1 | tail -1)")
FSYNC_OVERWRITE_MS=$(dd_ms "$(dd if=/dev/zero of="$probe" bs=4k count=200 oflag=dsync conv=notrunc 2>&1 | tail -1)")
rm -f "$probe"
out "fsync probe on the database filesystem, 200 synchronous 4 KiB writes"
out "(\`dd if=/dev/zero of=$BENCH_DIR/fsync-probe bs=4k count=200 oflag=dsync [conv=notrunc]\`):"
out "appending $FSYNC_APPEND_MS ms per write, overwriting in place $FSYNC_OVERWRITE_MS ms per write."
out ""

# --- houston ---------------------------------------------------------------------------------
HPID='' HPORT=''
start_houston() {  # start_houston DB SYNC
  local db=$1 sync=$2 pf=$TMP/port.$RANDOM
  local args=(serve --config "${CASE_ORG:-$ORG}" --db "$db" --listen 127.0.0.1:0
              --port-file "$pf" --sync "$sync" --log-level warn)
  # The paging org's webhooks go to the sink on loopback; 2000 users at 1000 pages a minute
  # each leave the per-contact limit out of the way.
  [[ ${CASE_ORG:-$ORG} = "$PAGING_ORG" ]] && args+=(--allow-egress 127.0.0.1/32 --max-pages-per-minute 1000)
  [[ -n ${HOUSTON_THREADS:-} ]] && args+=(--threads "$HOUSTON_THREADS")
  taskset -c "$SUT_CPU" "$HOUSTON" "${args[@]}" >>"$TMP/houston.log" 2>&1 &
  HPID=$!
  PIDS+=("$HPID")
  for _ in $(seq 200); do
    [[ -s $pf ]] && break
    kill -0 "$HPID" 2>/dev/null || die "houston exited at start; log: $(tail -5 "$TMP/houston.log")"
    sleep 0.05
  done
  HPORT=$(cat "$pf" 2>/dev/null) || die "houston did not write its port file"
  curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null || die "houston /healthz failed"
}
stop_houston() {
  kill -TERM "$HPID"
  for _ in $(seq 200); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$HPID" 2>/dev/null; then
    echo "houston did not stop on SIGTERM within 10 s; killing it" >&2
    kill -KILL "$HPID"
  fi
  wait "$HPID" 2>/dev/null || true
  forget_pid "$HPID"
}
# The cases send on ROUTING_KEY alone, so every alert is one of its (the database holds the key
# sealed, so it cannot be searched for).
stored_events() {  # sum of event_count of the alerts (= triggers committed)
  sqlite3 -readonly "$1" "SELECT COALESCE(SUM(event_count),0) FROM alerts"
}
notifications() {  # rows in the paging outbox (n/a before paging existed)
  sqlite3 -readonly "$1" "SELECT COUNT(*) FROM notifications" 2>/dev/null || echo n/a
}
stored_alerts() {
  sqlite3 -readonly "$1" "SELECT COUNT(*) FROM alerts"
}
metric() {  # metric FILE NAME: the value of an unlabelled sample
  awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}
# Approximate quantile from a Prometheus histogram's cumulative buckets, as the difference of
# two scrapes: the upper bound of the first bucket reaching quantile Q.
hist_quantile() {  # hist_quantile BEFORE AFTER NAME Q
  awk -v n="$3_bucket" -v q="$4" '
    FNR == 1 { file++ }
    index($1, n "{") == 1 {
      le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
      if (file == 1) before[le] = $2; else { after[le] = $2; order[++k] = le }
    }
    END {
      total = after["+Inf"] - before["+Inf"]
      if (total <= 0) { print "n/a"; exit }
      for (i = 1; i <= k; i++) {
        if (after[order[i]] - before[order[i]] >= q * total) { print order[i]; exit }
      }
      print "+Inf"
    }' "$1" "$2"
}

CASE_N=0
W1_ROWS=() COMMIT_ROWS=() PACED_ROWS=()
# houston_case NAME LABEL SYNC SCRIPT ARGS...: one fresh database, warm-up, measured run, checks.
# Sets LAST_RPS, LAST_OK.
houston_case() {
  local name=$1 label=$2 sync=$3 script=$4
  shift 4
  CASE_N=$((CASE_N + 1))
  local db=$BENCH_DIR/case-$CASE_N.db raw=$RAW/$CASE_N-$name
  echo ">>> houston: $label" >&2
  start_houston "$db" "$sync"
  local url=http://127.0.0.1:$HPORT
  # Warm-up with its own key prefix so that the measured run still sends only unseen keys.
  local warm_args=("$@")
  [[ ${warm_args[0]:-} = new ]] && warm_args[1]="${warm_args[1]}-warmup"
  [[ $script = paced.lua ]] && warm_args[0]="${warm_args[0]}-warmup"
  [[ $script = am.lua ]] && warm_args[1]="${warm_args[1]:-}-warmup"
  run_waited taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/$script" "$url" \
    -- "${warm_args[@]}" >"$raw.warmup" 2>&1 || die "wrk warm-up failed: $(tail -3 "$raw.warmup")"
  sleep 0.5  # let in-flight writes commit
  local before_events before_alerts t0
  before_events=$(stored_events "$db")
  before_alerts=$(stored_alerts "$db")
  local before_notes after_notes notes
  before_notes=$(notifications "$db")
  curl -sf "$url/metrics" >"$raw.metrics0"
  t0=$(cpu_ticks "$HPID")
  local s0 w0 s1 w1
  s0=$(cpu_stat "$SUT_CPU") w0=$(cpu_stat "$WRK_CPU")
  run_waited /usr/bin/time -f '%U %S' -o "$raw.wrktime" taskset -c "$WRK_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/$script" "$url" -- "$@" \
    >"$raw" 2>&1 || die "wrk failed: $(tail -3 "$raw")"
  local t1
  t1=$(cpu_ticks "$HPID")
  s1=$(cpu_stat "$SUT_CPU") w1=$(cpu_stat "$WRK_CPU")
  sleep 0.3
  curl -sf "$url/metrics" >"$raw.metrics1"
  stop_houston  # SIGTERM flushes the store
  local after_events after_alerts
  after_events=$(stored_events "$db")
  after_alerts=$(stored_alerts "$db")
  after_notes=$(notifications "$db")
  if [[ $before_notes = n/a || $after_notes = n/a ]]; then notes=n/a; else notes=$((after_notes - before_notes)); fi

  local rps ok other secs non2xx errs stored extra check hcpu wcpu cpu_req requests
  rps=$(field rps "$raw") ok=$(field ok "$raw") other=$(field other "$raw") secs=$(field seconds "$raw")
  requests=$(field requests "$raw")
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$raw")
  non2xx=${non2xx:-0}
  errs=$(( $(field err_connect "$raw") + $(field err_read "$raw") + $(field err_write "$raw") + $(field err_timeout "$raw") ))
  stored=$((after_events - before_events))
  extra=$((stored - ok))
  # Every 202 must be stored. Requests still in flight when wrk stops (at most one per
  # connection) may be stored without wrk having read their 202.
  if (( extra >= 0 && extra <= CONNECTIONS )); then check="ok (+$extra in flight)"; else check="**MISMATCH ($extra)**"; fi
  hcpu=$(calc "($t1 - $t0) / $CLK_TCK / $secs * 100")
  cpu_req=$(fmt0 "$(calc "($t1 - $t0) / $CLK_TCK * 1000000 / ($requests > 0 ? $requests : 1)")")
  wcpu=$(awk -v s="$secs" '{ printf "%.0f", ($1 + $2) / s * 100 }' "$raw.wrktime")
  local busy
  busy="$(busy_pct "$s0" "$s1") / $(busy_pct "$w0" "$w1") %"
  LAST_RPS=$rps LAST_OK=$ok LAST_RAW=$raw LAST_CPU_REQ=$cpu_req LAST_HCPU=$(fmt0 "$hcpu")
  if [[ ${CASE_KIND:-} = layer ]]; then
    # Layer cases store nothing: the answer is expected to be $ok x 200/400, nothing else.
    LAYER_ROWS+=("| $label | $(fmt0 "$rps") | $(ms "$(field p50_us "$raw")") | $(ms "$(field p99_us "$raw")") | $ok of $requests | $(fmt0 "$hcpu") % | $cpu_req | $wcpu % | $busy |")
    echo "    $(fmt0 "$rps") req/s, houston CPU $(fmt0 "$hcpu") %, $cpu_req µs/request" >&2
    return
  fi
  W1_ROWS+=("| $label | $(fmt0 "$rps") | $(ms "$(field p50_us "$raw")") | $(ms "$(field p99_us "$raw")") | $(ms "$(field p999_us "$raw")") | $ok | $non2xx | $errs | $stored$([[ $name = *hot* ]] && echo " (in $((after_alerts)) alerts)") | $check | $(fmt0 "$hcpu") % | $cpu_req | $wcpu % | $busy |")

  local commits writes csum
  commits=$(calc "$(metric "$raw.metrics1" houston_store_commit_batch_size_count) - $(metric "$raw.metrics0" houston_store_commit_batch_size_count)")
  writes=$(calc "$(metric "$raw.metrics1" houston_store_commit_batch_size_sum) - $(metric "$raw.metrics0" houston_store_commit_batch_size_sum)")
  csum=$(calc "$(metric "$raw.metrics1" houston_store_commit_duration_seconds_sum) - $(metric "$raw.metrics0" houston_store_commit_duration_seconds_sum)")
  if [[ $(fmt0 "$commits") != 0 ]]; then
    COMMIT_ROWS+=("| $label | $(fmt0 "$commits") | $(fmt0 "$(calc "$commits / $secs")") | $(calc "$writes / $commits" | xargs printf '%.1f') | $(hist_quantile "$raw.metrics0" "$raw.metrics1" houston_store_commit_batch_size 0.5) / $(hist_quantile "$raw.metrics0" "$raw.metrics1" houston_store_commit_batch_size 0.99) | $(calc "$csum / $commits * 1000" | xargs printf '%.2f') | $(hist_quantile "$raw.metrics0" "$raw.metrics1" houston_store_commit_duration_seconds 0.5 | awk '{ print ($1 == "n/a" || $1 == "+Inf") ? $1 : $1 * 1000 }') / $(hist_quantile "$raw.metrics0" "$raw.metrics1" houston_store_commit_duration_seconds 0.99 | awk '{ print ($1 == "n/a" || $1 == "+Inf") ? $1 : $1 * 1000 }') | $(fmt0 "$(calc "$csum / $secs * 100")") % | $notes |")
  fi
  echo "    $(fmt0 "$rps") req/s, p99 $(ms "$(field p99_us "$raw")") ms, 202s $ok, stored $stored, houston CPU $(fmt0 "$hcpu") %" >&2
}

# --- Alertmanager 0.25 -----------------------------------------------------------------------
# Two routing configs:
#   notify: research/perf-anchors.md §3.3: every alert its own group (group_by ['...']),
#           group_wait 0s, so each new alert also goes through the notification pipeline (to a
#           webhook on a local port where nothing listens: it fails at once and is retried).
#   ingest: group_by [alertname], Alertmanager's default waits (group_wait 30s): all the
#           benchmark's alerts fall into one group and nothing is notified during the run, so
#           only ingestion is measured. Alertmanager's best case.
am_case() {  # am_case REP notify|ingest; sets LAST_RPS
  local kind=$2
  CASE_N=$((CASE_N + 1))
  local raw=$RAW/$CASE_N-am-$kind dir=$TMP/am-$CASE_N port sink
  mkdir -p "$dir/data"
  port=$(free_port) sink=$(free_port)  # nothing listens on $sink: notifications fail fast
  if [[ $kind = notify ]]; then
    printf '%s\n' "route:" "  receiver: sink" "  group_by: ['...']" "  group_wait: 0s" \
      "  group_interval: 1s" "  repeat_interval: 4h" >"$dir/am.yml"
  else
    printf '%s\n' "route:" "  receiver: sink" "  group_by: [alertname]" "  group_wait: 30s" \
      "  group_interval: 5m" "  repeat_interval: 4h" >"$dir/am.yml"
  fi
  printf '%s\n' "receivers:" "  - name: sink" "    webhook_configs:" \
    "      - url: http://127.0.0.1:$sink/am" "        send_resolved: true" >>"$dir/am.yml"
  echo ">>> Alertmanager 0.25, $kind config (repetition $1)" >&2
  taskset -c "$SUT_CPU" "$AM_BIN" --config.file="$dir/am.yml" --storage.path="$dir/data" \
    --web.listen-address=127.0.0.1:"$port" --cluster.listen-address= --log.level=warn \
    >"$dir/am.log" 2>&1 &
  local apid=$!
  PIDS+=("$apid")
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
    kill -0 "$apid" 2>/dev/null || die "alertmanager exited at start: $(tail -3 "$dir/am.log")"
    sleep 0.05
  done
  local url=http://127.0.0.1:$port
  run_waited taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/am.lua" "$url" \
    >"$raw.warmup" 2>&1 || true
  sleep 0.5
  local r0 t0 t1 r1
  r0=$(curl -sf "$url/metrics" | awk '/^alertmanager_alerts_received_total\{/ { s += $2 } END { print s + 0 }')
  t0=$(cpu_ticks "$apid")
  local s0 w0 s1 w1
  s0=$(cpu_stat "$SUT_CPU") w0=$(cpu_stat "$WRK_CPU")
  run_waited /usr/bin/time -f '%U %S' -o "$raw.wrktime" taskset -c "$WRK_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/am.lua" "$url" >"$raw" 2>&1 \
    || die "wrk failed against alertmanager: $(tail -3 "$raw")"
  t1=$(cpu_ticks "$apid")
  s1=$(cpu_stat "$SUT_CPU") w1=$(cpu_stat "$WRK_CPU")
  r1=$(curl -sf "$url/metrics" | awk '/^alertmanager_alerts_received_total\{/ { s += $2 } END { print s + 0 }')
  kill -TERM "$apid"
  for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$apid" 2>/dev/null || true
  wait "$apid" 2>/dev/null || true
  forget_pid "$apid"
  local rps ok secs non2xx errs hcpu wcpu
  rps=$(field rps "$raw") ok=$(field ok "$raw") secs=$(field seconds "$raw")
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$raw")
  non2xx=${non2xx:-0}
  errs=$(( $(field err_connect "$raw") + $(field err_read "$raw") + $(field err_write "$raw") + $(field err_timeout "$raw") ))
  hcpu=$(calc "($t1 - $t0) / $CLK_TCK / $secs * 100")
  wcpu=$(awk -v s="$secs" '{ printf "%.0f", ($1 + $2) / s * 100 }' "$raw.wrktime")
  AM_ROWS+=("| Alertmanager 0.25, $kind config, rep $1 | $(fmt0 "$rps") | $(ms "$(field p50_us "$raw")") | $(ms "$(field p99_us "$raw")") | $(ms "$(field p999_us "$raw")") | $ok | $non2xx | $errs | received $((r1 - r0)) | $(fmt0 "$hcpu") % | $wcpu % | $(busy_pct "$s0" "$s1") / $(busy_pct "$w0" "$w1") % |")
  LAST_RPS=$rps
  echo "    $(fmt0 "$rps") req/s, p99 $(ms "$(field p99_us "$raw")") ms, 200s $ok, received $((r1 - r0))" >&2
}

RUNID=r$(date +%s)$RANDOM
AM_ROWS=()
H_RPS=() P_RPS=() A_RPS_notify=() A_RPS_ingest=() RATIOS_notify=() RATIOS_ingest=() RATIOS_prom=()
PROM_PATH=/integrations/prometheus/prom-bench/api/v2/alerts  # bench/org-intake.yaml

# W1 (a) all-new keys, durable, repeated side by side with Alertmanager.
for rep in $(seq "$REPEAT"); do
  houston_case "new-full-$rep" "W1a all-new keys, sync=full, rep $rep" full events_v2.lua new "$RUNID-a$rep"
  H_RPS+=("$LAST_RPS")
  if [[ ${SKIP_AM:-0} != 1 ]]; then
    # W1p: houston's Prometheus endpoint on Alertmanager's identical body, nothing paged.
    CASE_ORG=$INTAKE_ORG houston_case "prom-$rep" "W1p Prometheus endpoint, Alertmanager's body, sync=full, rep $rep" full am.lua "$PROM_PATH" "$RUNID-p$rep"
    P_RPS+=("$LAST_RPS")
    am_case "$rep" ingest
    A_RPS_ingest+=("$LAST_RPS")
    RATIOS_ingest+=("$(calc "${H_RPS[-1]} / $LAST_RPS")")
    RATIOS_prom+=("$(calc "${P_RPS[-1]} / $LAST_RPS")")
    am_case "$rep" notify
    A_RPS_notify+=("$LAST_RPS")
    RATIOS_notify+=("$(calc "${H_RPS[-1]} / $LAST_RPS")")
  fi
done
# W1 (d) all-new keys, durable, on a service whose escalation starts 24 h later: intake without
# the paging that examples/org.yaml starts for every new incident.
CASE_ORG=$INTAKE_ORG houston_case "new-full-nopage" "W1d all-new keys, sync=full, nothing paged (bench/org-intake.yaml)" full events_v2.lua new "$RUNID-d"
# W1 (b) dedup-heavy: 100 hot keys, durable.
houston_case "hot-full" "W1b dedup, 100 hot keys, sync=full" full events_v2.lua hot "$RUNID-b" 100
# W1 (c) all-new keys, --sync normal (not power-loss durable).
houston_case "new-normal" "W1c all-new keys, sync=normal" normal events_v2.lua new "$RUNID-c"
# Latency at a fixed offered rate.
PACED_CASES=("full $RATE" "normal $RATE")
[[ $QUICK = 1 ]] || PACED_CASES+=("full $LOW_RATE")
for pc in "${PACED_CASES[@]}"; do
  read -r sync rate <<<"$pc"
  houston_case "paced-$sync-$rate" "paced $rate/s, all-new keys, sync=$sync" "$sync" paced.lua "$RUNID-p$sync$rate" "$rate"
  PACED_ROWS+=("| sync=$sync | $rate | $(fmt0 "$LAST_RPS") | $(ms "$(field p50_us "$LAST_RAW")") | $(ms "$(field p90_us "$LAST_RAW")") | $(ms "$(field p99_us "$LAST_RAW")") | $(ms "$(field p999_us "$LAST_RAW")") | $(ms "$(field max_us "$LAST_RAW")") | $(awk -v p="$(field p99_us "$LAST_RAW")" 'BEGIN { print (p < 5000) ? "yes" : "no" }') |")
  if [[ $sync = full && $rate = "$RATE" ]]; then PACED_FULL_RAW=$LAST_RAW PACED_FULL_RPS=$LAST_RPS; fi
done

# The floor: bench/loopback_floor.cc, a minimal epoll responder, under the same wrk load and
# pinning: what a keep-alive request costs the kernel on this machine, whoever answers it.
floor_case() {  # floor_case NAME LABEL SCRIPT ARGS...
  local name=$1 label=$2 script=$3
  shift 3
  CASE_N=$((CASE_N + 1))
  local raw=$RAW/$CASE_N-$name pf=$TMP/floor-port.$CASE_N
  echo ">>> floor: $label" >&2
  taskset -c "$SUT_CPU" "$BUILD/bench/loopback_floor" "$pf" >"$TMP/floor.log" 2>&1 &
  local fpid=$!
  PIDS+=("$fpid")
  for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
  [[ -s $pf ]] || die "loopback_floor did not start: $(tail -3 "$TMP/floor.log")"
  local url=http://127.0.0.1:$(cat "$pf")
  run_waited taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH/$script" "$url" \
    -- "$@" >"$raw.warmup" 2>&1 || die "wrk warm-up failed: $(tail -3 "$raw.warmup")"
  local t0 t1 s0 w0 s1 w1
  t0=$(cpu_ticks "$fpid") s0=$(cpu_stat "$SUT_CPU") w0=$(cpu_stat "$WRK_CPU")
  run_waited /usr/bin/time -f '%U %S' -o "$raw.wrktime" taskset -c "$WRK_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/$script" "$url" -- "$@" \
    >"$raw" 2>&1 || die "wrk failed: $(tail -3 "$raw")"
  t1=$(cpu_ticks "$fpid") s1=$(cpu_stat "$SUT_CPU") w1=$(cpu_stat "$WRK_CPU")
  kill -TERM "$fpid"
  wait "$fpid" 2>/dev/null || true
  forget_pid "$fpid"
  local rps secs requests hcpu cpu_req wcpu
  rps=$(field rps "$raw") secs=$(field seconds "$raw") requests=$(field requests "$raw")
  hcpu=$(calc "($t1 - $t0) / $CLK_TCK / $secs * 100")
  cpu_req=$(fmt0 "$(calc "($t1 - $t0) / $CLK_TCK * 1000000 / ($requests > 0 ? $requests : 1)")")
  wcpu=$(awk -v s="$secs" '{ printf "%.0f", ($1 + $2) / s * 100 }' "$raw.wrktime")
  LAYER_ROWS+=("| $label | $(fmt0 "$rps") | $(ms "$(field p50_us "$raw")") | $(ms "$(field p99_us "$raw")") | $requests (all 200) | $(fmt0 "$hcpu") % | $cpu_req | $wcpu % | $(busy_pct "$s0" "$s1") / $(busy_pct "$w0" "$w1") % |")
  echo "    $(fmt0 "$rps") req/s, CPU $(fmt0 "$hcpu") %, $cpu_req µs/request" >&2
}

# Layers: what houston costs without the store (same wrk settings, fresh server), and the floor.
LAYER_ROWS=()
if [[ $QUICK != 1 ]]; then
  CASE_KIND=layer houston_case "layer-healthz" "GET /healthz (HTTP only)" full healthz.lua
  CASE_KIND=layer houston_case "layer-badkey" "POST /v2/enqueue, unknown routing key: HTTP + JSON parse, answered 400, no store" full events_v2.lua badkey "$RUNID-l"
  floor_case "floor-get" "floor: GET /healthz to bench/loopback_floor (kernel + loopback only)" healthz.lua
  floor_case "floor-post" "floor: the W1 POST to bench/loopback_floor (kernel + loopback only)" events_v2.lua new "$RUNID-f"
fi

# --- Report ----------------------------------------------------------------------------------
stats() {  # stats V...: "median (min–max)"
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s|%s|%s", m, v[1], v[NR] }'
}
out "## W1 intake throughput (wrk -t1 -c$CONNECTIONS -d${DURATION}s, keep-alive, POST /v2/enqueue, ~500 B events)"
out ""
if [[ -n $PAGING_ORG ]]; then
  # The sink counts the webhooks it received over every case on the paging org.
  kill -TERM "$SINK_PID" 2>/dev/null || true
  for _ in $(seq 100); do [[ -s $TMP/sink/sink.count ]] && break; sleep 0.05; done
  forget_pid "$SINK_PID"
  out "W1a-c and the paced cases use a generated org (\`bench/paging_latency.py --sink-only\`): every"
  out "new alert opens an incident whose escalation pages one of 2000 users at once, by webhook to a"
  out "sink on wrk's CPU (houston --allow-egress 127.0.0.1/32 --max-pages-per-minute 1000). The sink"
  out "received $(cat "$TMP/sink/sink.count" 2>/dev/null || echo '?') webhooks over these cases, warm-ups included."
else
  out "W1a-c and the paced cases use \`${ORG#$ROOT/}\`."
fi
out "W1d uses \`${INTAKE_ORG#$ROOT/}\`, where a new incident's escalation starts 24 h later, so nothing"
out "is paged during the run."
out ""
out "Commit time is measured by houston from BEGIN to the end of COMMIT (the writes' SQL plus the"
out "fsync). Batch size is capped by the number of requests in flight: at most $CONNECTIONS here."
out ""
out "Latency is wrk's, per request, in ms. \"202s\" counts responses with status 202 (wrk Lua"
out "\`response()\`); \"stored\" is the number of triggers committed during the run (sum of"
out "\`event_count\` in SQLite after houston stopped, minus before); it must equal the 202s plus at"
out "most one in-flight request per connection. CPU is % of one core during the run; the last column
is how busy each of the two CPUs was with *anything* (houston, wrk and whatever else the shared
machine was running): houston CPU well below its CPU's busy % means other processes took the rest."
out ""
out "| Case | req/s | p50 | p99 | p99.9 | 202s | non-2xx | socket errors | stored | 202s = stored | houston CPU | houston CPU µs/req | wrk CPU | CPU $SUT_CPU / CPU $WRK_CPU busy (all processes) |"
out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
for r in "${W1_ROWS[@]}"; do out "$r"; done
out ""
out "## Store group commit (houston /metrics, difference over the measured run)"
out ""
out "| Case | commits | commits/s | mean batch (sum/count) | batch p50 / p99 (bucket bound) | mean commit ms | commit p50 / p99 ms (bucket bound) | writer in transactions (Σ commit time / run time) | notifications queued (paging) |"
out "|---|---:|---:|---:|---|---:|---|---:|---:|"
for r in "${COMMIT_ROWS[@]}"; do out "$r"; done
out ""
if (( ${#LAYER_ROWS[@]} > 0 )); then
  out "## Layers (what each stage of the intake path costs; same wrk settings)"
  out ""
  out "| Layer | req/s | p50 ms | p99 ms | expected answers | houston CPU | houston CPU µs/req | wrk CPU | CPU $SUT_CPU / CPU $WRK_CPU busy |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${LAYER_ROWS[@]}"; do out "$r"; done
  out ""
  out "Compare with the W1 rows above: W1c adds the store without fsync, W1a adds the fsync. The"
  out "floor rows are a minimal epoll responder (bench/loopback_floor.cc) answering the same requests"
  out "with a fixed 200: the CPU a request costs on this machine whatever answers it (system calls,"
  out "loopback TCP); the rest of a houston row is houston's own."
  out ""
fi
out "## Latency at a fixed offered rate (bench/paced.lua, all-new keys)"
out ""
out "| Mode | offered/s | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p99 < 5 ms |"
out "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${PACED_ROWS[@]}"; do out "$r"; done
out ""
if [[ ${SKIP_AM:-0} != 1 ]]; then
  out "## Alertmanager 0.25 side by side (same wrk settings, POST /api/v2/alerts, one alert per request)"
  out ""
  out "| Case | req/s | p50 | p99 | p99.9 | 200s | non-2xx | socket errors | AM received | AM CPU | wrk CPU | CPU $SUT_CPU / CPU $WRK_CPU busy (all processes) |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${AM_ROWS[@]}"; do out "$r"; done
  out ""
  out "Alertmanager keeps alerts only in memory and answers 200; houston's W1a answers 202 after"
  out "an fsync. \"ingest\" config: \`group_by: [alertname]\`, \`group_wait: 30s\` (nothing is notified"
  out "during the run: ingestion only, Alertmanager's best case). \"notify\" config: research/perf-anchors.md"
  out "§3.3, \`group_by: ['...']\`, \`group_wait: 0s\`: every alert is its own group and is sent at once to"
  out "a webhook on a local port where nothing listens (the notification fails and is retried)."
  out ""
  # rps_row LABEL V...: a row of req/s, median, min and max.
  rps_row() {
    local label=$1 m lo hi
    shift
    IFS='|' read -r m lo hi <<<"$(stats "$@")"
    out "| $label | $(fmt0 "$m") | $(fmt0 "$lo") | $(fmt0 "$hi") |"
  }
  # ratio_row LABEL V...: a row of ratios taken per repetition (the median in bold); sets
  # ROW_MEDIAN.
  ratio_row() {
    local label=$1 lo hi
    shift
    IFS='|' read -r ROW_MEDIAN lo hi <<<"$(stats "$@")"
    out "| **$label**, per repetition | **$(printf '%.2f' "$ROW_MEDIAN")** | $(printf '%.2f' "$lo") | $(printf '%.2f' "$hi") |"
  }
  out "| ${REPEAT} repetitions, run alternately (houston W1a, houston W1p, AM ingest, AM notify) | median | min | max |"
  out "|---|---:|---:|---:|"
  rps_row "houston W1a (Events v2, all-new keys, every incident pages), sync=full, req/s" "${H_RPS[@]}"
  rps_row "houston W1p (Prometheus endpoint, Alertmanager's body, one incident, nothing paged), sync=full, req/s" "${P_RPS[@]}"
  ratio_row "ratio houston W1p / Alertmanager (ingest config), identical body" "${RATIOS_prom[@]}"
  RATIO_MEDIAN_prom=$ROW_MEDIAN
  for kind in ingest notify; do
    arr_a="A_RPS_$kind[@]" arr_r="RATIOS_$kind[@]"
    rps_row "Alertmanager 0.25, $kind config, req/s" "${!arr_a}"
    ratio_row "ratio houston / Alertmanager ($kind config)" "${!arr_r}"
    printf -v "RATIO_MEDIAN_$kind" '%s' "$ROW_MEDIAN"
  done
  out ""
fi

out "## Against the targets"
out ""
out "| Target | Measured | Met |"
out "|---|---|---|"
IFS='|' read -r hm _ _ <<<"$(stats "${H_RPS[@]}")"
out "| ≥ 100,000 events/s, all-new keys, sync=full | $(fmt0 "$hm") req/s (median of $REPEAT) | $(awk -v v="$hm" 'BEGIN { print (v >= 100000) ? "yes" : "**no**" }') |"
p99=$(field p99_us "$PACED_FULL_RAW")
out "| p99 < 5 ms at $RATE events/s, sync=full | p99 $(ms "$p99") ms at $(fmt0 "$PACED_FULL_RPS")/s achieved | $(awk -v p="$p99" -v a="$PACED_FULL_RPS" -v r="$RATE" 'BEGIN { print (p < 5000 && a >= 0.95 * r) ? "yes" : "**no**" }') |"
if [[ ${SKIP_AM:-0} != 1 ]]; then
  out "| ≥ 5x Alertmanager 0.25 (against its faster, ingest-only config) | $(printf '%.2f' "$RATIO_MEDIAN_ingest")x (median of $REPEAT); $(printf '%.2f' "$RATIO_MEDIAN_notify")x against the perf-anchors §3.3 config | $(awk -v v="$RATIO_MEDIAN_ingest" 'BEGIN { print (v >= 5) ? "yes" : "**no**" }') |"
  out "| Prometheus endpoint ≥ 5x Alertmanager 0.25 on the identical body (ingest config) | $(printf '%.2f' "$RATIO_MEDIAN_prom")x (median of $REPEAT) | $(awk -v v="$RATIO_MEDIAN_prom" 'BEGIN { print (v >= 5) ? "yes" : "**no**" }') |"
fi
out ""

# --- Micro-benchmarks --------------------------------------------------------------------------
if [[ ${SKIP_MICRO:-0} != 1 ]]; then
  out "## Micro-benchmarks (Google Benchmark, --benchmark_min_time=$MICRO_MIN_TIME, pinned to CPU $SUT_CPU)"
  out ""
  for b in ingest_bench store_bench; do
    if [[ -x $BUILD/bench/$b ]]; then
      echo ">>> $b" >&2
      out '```'
      out "\$ taskset -c $SUT_CPU ${BUILD#$ROOT/}/bench/$b --benchmark_min_time=$MICRO_MIN_TIME"
      out "$(HOUSTON_BENCH_DIR=$BENCH_DIR taskset -c "$SUT_CPU" "$BUILD/bench/$b" --benchmark_min_time="$MICRO_MIN_TIME" 2>/dev/null \
             | grep -E '^(BM_|Benchmark|-{10})')"
      out '```'
    else
      out "($b not built: \`cmake --build ${BUILD#$ROOT/} --target $b\`)"
    fi
    out ""
  done
fi

# --- Beside the baseline build -----------------------------------------------------------------
if [[ -n ${BASELINE:-} ]]; then
  echo ">>> beside the baseline build $BASELINE" >&2
  out "## Beside the baseline build (bench/compare_builds.sh)"
  out ""
  out "$(NEW_LABEL="${BUILD_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD)}" OLD_LABEL="${BASELINE}" \
    REPEAT="$REPEAT" DURATION="$DURATION" SUT_CPU="$SUT_CPU" WRK_CPU="$WRK_CPU" \
    "$BENCH/compare_builds.sh" "$BASELINE" "$BUILD" | sed -n '/^| case/,$p')"
  out ""
fi

out "Load at the end: \`$(uptime)\`"
out ""
out "<details><summary>Raw wrk output</summary>"
out ""
out '```'
for f in "$RAW"/*; do
  [[ $f = *.warmup || $f = *.metrics* || $f = *.wrktime ]] && continue
  out "== ${f##*/}"
  out "$(grep -v '^RESULT' "$f")"
done
out '```'
out "</details>"

cp "$TMP/report.md" "$REPORT"
echo "" >&2
echo "report written to ${REPORT#$ROOT/}" >&2
