#!/usr/bin/env bash
# bench/pg_replicas.sh: houston on PostgreSQL with 1 and 2 servers, beside SQLite, in one run.
#
#   bench/pg_replicas.sh            # about 4 minutes
#   REPEAT=1 DURATION=5 bench/pg_replicas.sh   # a smoke test, not a result
#
# Three configurations, all durable (a 202 is answered after the write is on disk):
#   sqlite  one houston on a SQLite file, --sync full;
#   pg1     one houston on a PostgreSQL 15 database (fsync=on, synchronous_commit=on);
#   pg2     two houston servers on the same PostgreSQL database.
# (a) Intake events/s: all-new dedup keys (bench/events_v2.lua, mode new) on
#     bench/org-intake.yaml (nothing is paged), wrk -t1 -cCONNECTIONS, after WARMUP s of warm-up.
#     pg2: one wrk per server, CONNECTIONS/2 connections each, run together; rates are summed.
#     REPEAT repetitions, the order of the three configurations rotating between repetitions;
#     every run on a fresh database. After each run houston is stopped and the triggers stored
#     (sum of alerts.event_count, read with sqlite3 or psql) must equal the 202s wrk counted, plus
#     at most one in-flight request per connection. Reports the median, min-max and the ratio to
#     SQLite, houston's and PostgreSQL's CPU per event, houston's group commits, and PostgreSQL's
#     own transaction and WAL counters. Before its warm-up, each run first watches the started
#     servers for IDLE_SECONDS with no load at all (CPU, PostgreSQL transactions/s).
# (b) First-page latency (event accepted -> webhook received at a loopback sink) at RATE
#     events/s for PAGING_SECONDS, with bench/pg_replicas.py (bench/paging_latency.py's org,
#     sender and percentiles; it starts the servers itself, and spreads the events over them),
#     once per configuration: p50/p90/p99/max, and every page delivered exactly once (counted by
#     incident and by message_id), and from the database where each page's time went (escalation
#     step fired, claimed by a sender, sent).
#
# Pinning (2 CPUs): houston and PostgreSQL (the postmaster is started under taskset, so every
# backend, the WAL writer and the checkpointer inherit its CPU) on SUT_CPU; wrk and the paging
# harness on WRK_CPU. PostgreSQL runs from a new cluster (initdb) in a directory under BENCH_DIR,
# Unix socket only (listen_addresses=''), default settings apart from that (and log_lock_waits
# on: lock waits over deadlock_timeout, 1 s, are logged and counted per run); as root it runs as
# the `postgres` user (runuser). Loopback only; everything started (houston, wrk, the harness,
# PostgreSQL) is stopped on exit, including on Ctrl-C, and the temporary directory removed.
#
# Environment (defaults in brackets):
#   BUILD            build directory holding houston [build]
#   REPEAT           repetitions of the intake comparison [3]
#   DURATION         seconds of measured wrk load per intake run [10]
#   WARMUP           seconds of warm-up load per intake run, not measured [2]
#   CONNECTIONS      wrk connections in all (pg2: half on each server) [32]
#   RATE             offered events/s of the paging-latency case [200]
#   PAGING_SECONDS   seconds of paced events in the paging case [10]
#   PAGING_USERS     round-robin webhook targets [200];  PAGING_WORKERS  --notify-workers [4]
#   PAGING_CONNECTIONS  sender connections in all [16]
#   PAGING_DUMP      a directory: keep each paging run's per-event latencies there
#                    (paging-<config>.txt: send time s, latency ms, dedup key) [none]
#   IDLE_SECONDS     seconds each intake run first watches the servers with no load (CPU and
#                    PostgreSQL transactions of an idle deployment) [3]
#   SUT_CPU          CPU for houston [1];  PG_CPU  CPU list for PostgreSQL [SUT_CPU]
#   WRK_CPU          CPU for wrk and the paging harness [0]
#   BENCH_DIR        where the SQLite files and the PostgreSQL cluster go; its filesystem decides
#                    what an fsync costs [a new directory under /tmp]
#   PG_BIN           PostgreSQL server binaries [/usr/lib/postgresql/15/bin]
#   PG_PORT          port number of the Unix socket [a free one]
#   CONFIGS          configurations to run ["sqlite pg1 pg2"]
#   SKIP_INTAKE=1, SKIP_PAGING=1   leave out (a) or (b)
#   OUT              also write the report to this file [only stdout]
#   BUILD_COMMIT, SOURCE_NOTE  when BUILD was not built from this working tree: the commit it was
#                    built from and a note on its source (e.g. "git archive 02b725a"), for the report
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
if [[ ${1:-} = -h || ${1:-} = --help ]]; then sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0; fi
[[ $# -eq 0 ]] || { echo "usage: bench/pg_replicas.sh [--help] (knobs are environment variables)" >&2; exit 2; }

BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
HOUSTON=$BUILD/houston
REPEAT=${REPEAT:-3} DURATION=${DURATION:-10} WARMUP=${WARMUP:-2} CONNECTIONS=${CONNECTIONS:-32}
RATE=${RATE:-200} PAGING_SECONDS=${PAGING_SECONDS:-10} PAGING_USERS=${PAGING_USERS:-200}
PAGING_WORKERS=${PAGING_WORKERS:-4} PAGING_CONNECTIONS=${PAGING_CONNECTIONS:-16}
SUT_CPU=${SUT_CPU:-1} WRK_CPU=${WRK_CPU:-0} PG_CPU=${PG_CPU:-$SUT_CPU} IDLE_SECONDS=${IDLE_SECONDS:-3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CONFIGS=${CONFIGS:-"sqlite pg1 pg2"}
ROUTING_KEY=0123456789abcdef0123456789abcdef
# houston needs a secrets key on PostgreSQL (every server the same one); a throwaway one here.
HOUSTON_SECRETS_KEY=${HOUSTON_SECRETS_KEY:-$(head -c 32 /dev/urandom | base64)}
export HOUSTON_SECRETS_KEY
INTAKE_ORG=$BENCH/org-intake.yaml
CLK_TCK=$(getconf CLK_TCK)

die() { echo "bench/pg_replicas.sh: $*" >&2; exit 1; }
[[ -x $HOUSTON ]] || die "no $HOUSTON: run 'make build' (or set BUILD=<dir>)"
for tool in wrk taskset sqlite3 psql curl jq python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install wrk util-linux sqlite3 postgresql-client curl jq python3 time)"
done
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] || die "no PostgreSQL server in $PG_BIN (apt-get install postgresql-15, or set PG_BIN)"
(( CONNECTIONS % 2 == 0 )) || die "CONNECTIONS must be even (pg2 splits it over two servers)"

# --- Everything started is stopped on exit. ----------------------------------------------------
PIDS=()
TMP=$(mktemp -d /tmp/houston-pgbench.XXXXXX)
BENCH_DIR=${BENCH_DIR:-$TMP/db}
mkdir -p "$BENCH_DIR"
PGDIR=$(mktemp -d "$BENCH_DIR/pg.XXXXXX")  # data directory and socket
if [[ $(id -u) = 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run PostgreSQL"
  AS_PG=(runuser -u postgres --)
  chown postgres: "$PGDIR"
  chmod 755 "$TMP"  # the postgres user must reach PGDIR
  if [[ $BENCH_DIR = "$TMP"/* ]]; then chmod 755 "$BENCH_DIR"; fi
else
  AS_PG=()
fi
PG_STARTED=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true  # wrk under /usr/bin/time or taskset
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ $PG_STARTED = 1 ]]; then
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -t 20 stop >/dev/null 2>&1 \
      || "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP" "$PGDIR"
  [[ $BENCH_DIR = "$TMP"/* ]] || rm -f "$BENCH_DIR"/pgr-*.db* "$BENCH_DIR"/fsync-probe
}
trap cleanup EXIT
trap 'echo "bench/pg_replicas.sh: line $LINENO: command failed (status $?): $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p = "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt0() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
fmt1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }  # µs -> ms
field() { grep '^RESULT ' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_stat() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
busy_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? (y[1] - x[1]) / t * 100 : 0) }'
}
metric() { awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }
stats() {  # stats V...: "median|min|max"
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s|%s|%s", m, v[1], v[NR] }'
}

if [[ -n ${BUILD_COMMIT:-} ]]; then
  COMMIT=$BUILD_COMMIT DIRTY=''
else
  COMMIT=$(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo unknown)
  DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -c1 || true)
fi
: >"$TMP/report.md"
out() { printf '%s\n' "$*"; printf '%s\n' "$*" >>"$TMP/report.md"; }
RAW=$TMP/raw
mkdir -p "$RAW"
# A copy of the binary: a rebuild of BUILD during the run does not change what is measured.
BIN_MTIME=$(stat -c %y "$HOUSTON" | cut -d. -f1)
BIN_SHA=$(sha256sum "$HOUSTON" | cut -c1-12)
cp "$HOUSTON" "$TMP/houston"
HOUSTON_SRC=$HOUSTON HOUSTON=$TMP/houston

# --- PostgreSQL: a new cluster, pinned to SUT_CPU. ---------------------------------------------
PG_PORT=${PG_PORT:-$(free_port)}
PGSQL=(psql -X -h "$PGDIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
echo ">>> initdb in $PGDIR" >&2
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$TMP/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$TMP/initdb.log")"
PG_OPTS="-c listen_addresses='' -c unix_socket_directories=$PGDIR -p $PG_PORT -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c track_wal_io_timing=on -c log_lock_waits=on"
PG_STARTED=1
taskset -c "$PG_CPU" "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w -t 30 \
  -o "$PG_OPTS" start >/dev/null || die "PostgreSQL did not start: $(tail -5 "$PGDIR/pg.log")"
PG_PID=$(head -1 "$PGDIR/data/postmaster.pid")
"${PGSQL[@]}" -c "CREATE ROLE houston LOGIN" >/dev/null
# Log lines written since a mark: log_mark FILE prints its line count; log_since FILE MARK.
log_mark() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }
log_since() { tail -n +"$(($2 + 1))" "$1" 2>/dev/null || true; }
# pg_log_summary FILE: "N errors (X deadlocks) / M lock waits > 1 s" from PostgreSQL log lines
# (FATAL "connection to client lost" when houston stops is not counted).
pg_log_summary() {
  local e d w
  e=$(grep -cE '(ERROR|PANIC):' "$1" || true)
  d=$(grep -c 'deadlock detected' "$1" || true)
  w=$(grep -c 'still waiting for' "$1" || true)
  echo "$e ($d deadlock) / $w"
}
pg_xacts() { "${PGSQL[@]}" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"; }
pg_url() { echo "postgresql://houston@/$1?host=$PGDIR&port=$PG_PORT"; }
# pg_ticks: "pid ticks" of the postmaster and every process it forked.
pg_ticks() {
  local p
  for p in "$PG_PID" $(pgrep -P "$PG_PID" || true); do
    if [[ -r /proc/$p/stat ]]; then echo "$p $(cpu_ticks "$p")"; fi  # a backend may just have exited
  done
  return 0
}
pg_ticks_delta() {  # pg_ticks_delta BEFORE_FILE AFTER_FILE: ticks used in between
  awk 'FNR == NR { b[$1] = $2; next } { d += $2 - ($1 in b ? b[$1] : 0) } END { print d + 0 }' "$1" "$2"
}
pg_affinity() {  # distinct CPU affinity lists of PostgreSQL's processes
  local p
  for p in "$PG_PID" $(pgrep -P "$PG_PID" || true); do
    taskset -cp "$p" 2>/dev/null | sed 's/.*: //'
  done | sort | uniq -c | awk '{ printf "%s%d process(es) on CPU %s", (NR > 1 ? ", " : ""), $1, $2 }'
}

# --- The machine. ---------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
probe=$BENCH_DIR/fsync-probe
dd_ms() { awk -v s="$(sed -n 's/.*copied, \([0-9.]*\) s.*/\1/p' <<<"$1")" 'BEGIN { printf "%.2f", s * 1000 / 200 }'; }
FSYNC_APPEND_MS=$(dd_ms "$(dd if=/dev/zero of="$probe" bs=4k count=200 oflag=dsync 2>&1 | tail -1)")
FSYNC_OVERWRITE_MS=$(dd_ms "$(dd if=/dev/zero of="$probe" bs=4k count=200 oflag=dsync conv=notrunc 2>&1 | tail -1)")
rm -f "$probe"

out "# houston on PostgreSQL, 1 and 2 servers, beside SQLite: $(date -u '+%F %T UTC')"
out ""
out "Commit \`$COMMIT\` ($(git -C "$ROOT" log -1 --format=%ci "$COMMIT" 2>/dev/null))$([[ -n $DIRTY ]] && echo ', working tree has uncommitted changes')${SOURCE_NOTE:+ ($SOURCE_NOTE)}; binary \`${HOUSTON_SRC#$ROOT/}\` built $BIN_MTIME, sha256 $BIN_SHA… (copied at the start and run from the copy)."
out "Command: \`$([[ $BUILD != "$ROOT/build" ]] && echo "BUILD=$BUILD ")REPEAT=$REPEAT DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS RATE=$RATE PAGING_SECONDS=$PAGING_SECONDS bench/pg_replicas.sh\`"
out ""
out '```'
out "\$ lscpu | grep -E 'Model name|^CPU\(s\)|Hypervisor'"
out "$(lscpu | grep -E 'Model name|^CPU\(s\)|Hypervisor')"
out "\$ uname -r; nproc; free -g | head -2"
out "$(uname -r)"
out "$(nproc)"
out "$(free -g | head -2)"
out "\$ df -T $BENCH_DIR"
out "$(df -T "$BENCH_DIR")"
out "\$ dpkg-query -W postgresql-15 libpq5 libsqlite3-0 wrk"
out "$(dpkg-query -W postgresql-15 libpq5 libsqlite3-0 wrk 2>&1)"
out "\$ uptime"
out "$(uptime)"
out "\$ ps -eo pcpu,comm --sort=-pcpu | head -6   # other load at the start"
out "$(ps -eo pcpu,comm --sort=-pcpu | head -6)"
out "\$ psql -c 'SHOW ...'   # the PostgreSQL cluster used"
out "$("${PGSQL[@]}" -c "SELECT version()")"
out "$("${PGSQL[@]}" -F' = ' -c "SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','wal_level','shared_buffers','max_wal_size','checkpoint_timeout','commit_delay','max_connections') ORDER BY name")"
out '```'
out ""
out "fsync probe on $BENCH_DIR (200 synchronous 4 KiB writes, \`dd oflag=dsync\`): appending $FSYNC_APPEND_MS ms per write, overwriting in place $FSYNC_OVERWRITE_MS ms per write."
out ""
out "Pinning: houston on CPU $SUT_CPU; PostgreSQL started with \`taskset -c $PG_CPU pg_ctl start\`, so the postmaster and every process it forks (backends, WAL writer, checkpointer, autovacuum) inherit CPU $PG_CPU (at start: $(pg_affinity)); wrk and the paging harness on CPU $WRK_CPU.$([[ $PG_CPU = "$SUT_CPU" ]] && echo " houston and PostgreSQL share one CPU: the PostgreSQL configurations have no more CPU than SQLite's single process, and a second server adds no CPU.")"
out ""

# --- houston servers ------------------------------------------------------------------------------
HPIDS=() HPORTS=()
start_servers() {  # start_servers DB N: N houston processes on DB, one after the other
  local db=$1 n=$2 i pf pid
  HPIDS=() HPORTS=()
  for i in $(seq "$n"); do
    pf=$TMP/port.$RANDOM$i
    taskset -c "$SUT_CPU" "$HOUSTON" serve --config "$INTAKE_ORG" --db "$db" --listen 127.0.0.1:0 \
      --port-file "$pf" --sync full --log-level warn >>"$TMP/houston.log" 2>&1 &
    pid=$!
    PIDS+=("$pid") HPIDS+=("$pid")
    for _ in $(seq 300); do
      [[ -s $pf ]] && break
      kill -0 "$pid" 2>/dev/null || die "houston exited at start; log: $(tail -5 "$TMP/houston.log")"
      sleep 0.05
    done
    [[ -s $pf ]] || die "houston did not write its port file"
    HPORTS+=("$(cat "$pf")")
    curl -sf "http://127.0.0.1:${HPORTS[-1]}/healthz" >/dev/null || die "houston /healthz failed"
  done
}
# server_died WHAT: stop with what is known about the houston processes (exit status, log tail).
server_died() {
  local pid st msg="$1:"
  for pid in "${HPIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then msg+=" houston $pid running;"
    else wait "$pid" 2>/dev/null && st=0 || st=$?; msg+=" houston $pid EXITED (status $st);"; fi
  done
  die "$msg houston log: $(tail -20 "$TMP/houston.log")"
}
stop_servers() {
  local pid
  for pid in "${HPIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${HPIDS[@]}"; do
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "houston $pid did not stop on SIGTERM within 10 s; killing it" >&2
      kill -KILL "$pid"
    fi
    local st=0
    wait "$pid" 2>/dev/null || st=$?
    (( st == 0 )) || BAD_EXITS+=("houston $pid (${CUR_CASE:-?}) exited with status $st on SIGTERM")
    forget_pid "$pid"
  done
}
BAD_EXITS=()
stored_events() {  # stored_events KIND DB: triggers committed for the routing key
  # Every alert is ROUTING_KEY's (the only key sent on; the database holds it sealed).
  local q="SELECT COALESCE(SUM(event_count),0) FROM alerts"
  if [[ $1 = sqlite ]]; then sqlite3 -readonly "$2" "$q"
  else psql -X -h "$PGDIR" -p "$PG_PORT" -U houston -d "$2" -Atqc "$q"; fi
}
# run_wrks SECONDS PREFIX OUTBASE [--latency]: one wrk per server, CONNECTIONS split evenly, run
# together on WRK_CPU; output OUTBASE.<i>.
run_wrks() {
  local secs=$1 prefix=$2 base=$3 lat=${4:-} n=${#HPORTS[@]} i pids=() rc=0
  local c=$((CONNECTIONS / n))
  for i in $(seq 0 $((n - 1))); do
    /usr/bin/time -f '%U %S' -o "$base.$i.time" taskset -c "$WRK_CPU" wrk -t1 -c"$c" -d"${secs}s" \
      $lat -s "$BENCH/events_v2.lua" "http://127.0.0.1:${HPORTS[$i]}" -- new "$prefix-s$i" \
      >"$base.$i" 2>&1 &
    pids+=("$!") PIDS+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || rc=$?; forget_pid "$i"; done
  return "$rc"
}

RUNID=p$(date +%s)$RANDOM
CASE_N=0
declare -A RPS  # RPS[config] = "v1 v2 ..."
INTAKE_ROWS=() PGSTAT_ROWS=() IDLE_ROWS=() CHECK_FAIL=0
intake_case() {  # intake_case CONFIG REP
  local cfg=$1 rep=$2 n db kind
  CASE_N=$((CASE_N + 1))
  case $cfg in
    sqlite) n=1 kind=sqlite db=$BENCH_DIR/pgr-$CASE_N.db ;;
    pg1) n=1 kind=pg db=pgr$CASE_N ;;
    pg2) n=2 kind=pg db=pgr$CASE_N ;;
    *) die "unknown configuration $cfg" ;;
  esac
  echo ">>> intake: $cfg, repetition $rep" >&2
  CUR_CASE="intake $cfg rep $rep"
  local raw=$RAW/$CASE_N-$cfg-$rep url=$db
  if [[ $kind = pg ]]; then
    "${PGSQL[@]}" -c "CREATE DATABASE $db OWNER houston" >/dev/null
    url=$(pg_url "$db")
  fi
  "${PGSQL[@]}" -c "CHECKPOINT" >/dev/null  # the same disk for every configuration: start clean
  [[ $kind = pg ]] && "${PGSQL[@]}" -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
  local pgmark hmark
  pgmark=$(log_mark "$PGDIR/pg.log") hmark=$(log_mark "$TMP/houston.log")
  start_servers "$url" "$n"
  # Idle: no requests at all. What do the servers (and PostgreSQL) do on their own?
  local i ih0=0 ih1=0 ix0=0 ix1=0 it0 it1
  sleep 0.5
  for i in "${!HPIDS[@]}"; do ih0=$((ih0 + $(cpu_ticks "${HPIDS[$i]}"))); done
  pg_ticks >"$raw.idle0"
  [[ $kind = pg ]] && ix0=$(pg_xacts "$db")
  it0=$(date +%s.%N)
  sleep "$IDLE_SECONDS"
  for i in "${!HPIDS[@]}"; do ih1=$((ih1 + $(cpu_ticks "${HPIDS[$i]}"))); done
  pg_ticks >"$raw.idle1"
  [[ $kind = pg ]] && ix1=$(pg_xacts "$db")
  it1=$(date +%s.%N)
  local idle_h idle_pg idle_x
  idle_h=$(fmt0 "$(calc "($ih1 - $ih0) / $CLK_TCK / ($it1 - $it0) * 100")")
  if [[ $kind = pg ]]; then
    idle_pg=$(fmt0 "$(calc "$(pg_ticks_delta "$raw.idle0" "$raw.idle1") / $CLK_TCK / ($it1 - $it0) * 100")")
    idle_x=$(fmt0 "$(calc "($ix1 - $ix0) / ($it1 - $it0)")")
  else idle_pg=– idle_x=–; fi
  IDLE_ROWS+=("| $cfg | $rep | $idle_h % | $idle_pg % | $idle_x |")
  echo "    idle: houston CPU $idle_h %, PostgreSQL CPU $idle_pg %, PostgreSQL transactions/s $idle_x" >&2
  run_wrks "$WARMUP" "$RUNID-$CASE_N-warm" "$raw.warmup" || server_died "wrk warm-up failed: $(tail -3 "$raw.warmup.0")"
  sleep 0.5
  local before after
  before=$(stored_events "$kind" "$db") || server_died "reading the stored triggers failed"
  local h0=0 h1=0 s0 w0 s1 w1
  for i in "${!HPIDS[@]}"; do
    curl -sf -m 10 "http://127.0.0.1:${HPORTS[$i]}/metrics" >"$raw.m0.$i" || server_died "GET /metrics of server $i before the run failed"
    h0=$((h0 + $(cpu_ticks "${HPIDS[$i]}")))
  done
  pg_ticks >"$raw.pg0"
  s0=$(cpu_stat "$SUT_CPU") w0=$(cpu_stat "$WRK_CPU")
  run_wrks "$DURATION" "$RUNID-$CASE_N" "$raw" --latency || server_died "wrk failed: $(tail -3 "$raw.0")"
  s1=$(cpu_stat "$SUT_CPU") w1=$(cpu_stat "$WRK_CPU")
  pg_ticks >"$raw.pg1"
  for i in "${!HPIDS[@]}"; do h1=$((h1 + $(cpu_ticks "${HPIDS[$i]}"))); done
  sleep 0.3
  for i in "${!HPIDS[@]}"; do
    curl -sf -m 10 "http://127.0.0.1:${HPORTS[$i]}/metrics" >"$raw.m1.$i" || server_died "GET /metrics of server $i after the run failed"
  done
  stop_servers  # SIGTERM flushes the store
  after=$(stored_events "$kind" "$db") || die "reading the stored triggers failed"
  log_since "$PGDIR/pg.log" "$pgmark" >"$raw.pglog"
  log_since "$TMP/houston.log" "$hmark" >"$raw.hlog"
  local pglog hlog
  if [[ $kind = pg ]]; then pglog=$(pg_log_summary "$raw.pglog"); else pglog=–; fi
  hlog=$(grep -ciE ' (warn|error|critical) ' "$raw.hlog" || true)

  local rps=0 ok=0 other=0 requests=0 errs=0 secs p50s='' p99s='' wcpu=0 f commits=0 writes=0 csum=0
  for i in "${!HPORTS[@]}"; do
    f=$raw.$i
    rps=$(calc "$rps + $(field rps "$f")")
    ok=$((ok + $(field ok "$f"))) other=$((other + $(field other "$f")))
    requests=$((requests + $(field requests "$f")))
    errs=$((errs + $(field err_connect "$f") + $(field err_read "$f") + $(field err_write "$f") + $(field err_timeout "$f")))
    secs=$(field seconds "$f")
    p50s+="${p50s:+ / }$(ms "$(field p50_us "$f")")"
    p99s+="${p99s:+ / }$(ms "$(field p99_us "$f")")"
    wcpu=$(calc "$wcpu + $(awk '{ print $1 + $2 }' "$f.time")")
    commits=$(calc "$commits + $(metric "$raw.m1.$i" houston_store_commit_batch_size_count) - $(metric "$raw.m0.$i" houston_store_commit_batch_size_count)")
    writes=$(calc "$writes + $(metric "$raw.m1.$i" houston_store_commit_batch_size_sum) - $(metric "$raw.m0.$i" houston_store_commit_batch_size_sum)")
    csum=$(calc "$csum + $(metric "$raw.m1.$i" houston_store_commit_duration_seconds_sum) - $(metric "$raw.m0.$i" houston_store_commit_duration_seconds_sum)")
  done
  local stored=$((after - before)) extra check
  extra=$((stored - ok))
  if (( extra >= 0 && extra <= CONNECTIONS )); then check="ok (+$extra in flight)"
  else check="**MISMATCH ($extra)**"; CHECK_FAIL=1; fi
  local pgt hcpu_us pgcpu_us
  pgt=$(pg_ticks_delta "$raw.pg0" "$raw.pg1")
  hcpu_us=$(fmt0 "$(calc "($h1 - $h0) / $CLK_TCK * 1000000 / ($requests > 0 ? $requests : 1)")")
  if [[ $kind = pg ]]; then pgcpu_us=$(fmt0 "$(calc "$pgt / $CLK_TCK * 1000000 / ($requests > 0 ? $requests : 1)")"); else pgcpu_us=–; fi
  local mean_batch=– mean_commit=– wbusy=– cap
  if [[ $(fmt0 "$commits") != 0 ]]; then
    mean_batch=$(fmt1 "$(calc "$writes / $commits")") mean_commit=$(fmt2 "$(calc "$csum / $commits * 1000")")
    wbusy="$(fmt0 "$(calc "$csum / $secs / $n * 100")") %"
  fi
  # Events/s the measured CPU cost allows if CPU SUT_CPU ran nothing else (houston + PostgreSQL).
  cap=$(fmt0 "$(calc "1000000 / ($hcpu_us + $([[ $kind = pg ]] && echo "$pgcpu_us" || echo 0))")")
  RPS[$cfg]+=" $rps"
  INTAKE_ROWS+=("| $cfg | $rep | $(fmt0 "$rps") | $p50s | $p99s | $ok | $other | $errs | $stored | $check | $hcpu_us | $pgcpu_us | $(fmt0 "$(calc "$wcpu / $secs * 100")") % | $(busy_pct "$s0" "$s1") / $(busy_pct "$w0" "$w1") % | $(fmt0 "$commits") | $mean_batch | $mean_commit | $wbusy | $cap | $pglog | $hlog |")
  echo "    $(fmt0 "$rps") events/s, 202s $ok, other $other, errors $errs, stored $stored ($check), houston $hcpu_us µs/event, PostgreSQL $pgcpu_us µs/event" >&2

  if [[ $kind = pg ]]; then
    sleep 0.3  # the backends' statistics are flushed when they exit
    local total xacts wal
    total=$after
    xacts=$("${PGSQL[@]}" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
    wal=$("${PGSQL[@]}" -F' ' -c "SELECT wal_records, wal_bytes, wal_write, wal_sync, round(wal_sync_time::numeric, 1) FROM pg_stat_wal")
    local wrec wbytes wwrite wsync wsynct
    read -r wrec wbytes wwrite wsync wsynct <<<"$wal"
    PGSTAT_ROWS+=("| $cfg | $rep | $total | $xacts | $(fmt2 "$(calc "$xacts / $total")") | $(fmt1 "$(calc "$wrec / $total")") | $(fmt0 "$(calc "$wbytes / $total")") | $wsync | $(fmt2 "$(calc "$total / ($wsync > 0 ? $wsync : 1)")") | $(fmt2 "$(calc "$wsynct / ($wsync > 0 ? $wsync : 1)")") |")
    "${PGSQL[@]}" -c "DROP DATABASE $db" >/dev/null
  else
    rm -f "$db" "$db-wal" "$db-shm" "$db.link-key"
  fi
}

if [[ ${SKIP_INTAKE:-0} != 1 ]]; then
  read -r -a CFGS <<<"$CONFIGS"
  for rep in $(seq "$REPEAT"); do
    for k in $(seq 0 $((${#CFGS[@]} - 1))); do
      intake_case "${CFGS[$(( (k + rep - 1) % ${#CFGS[@]} ))]}" "$rep"
    done
  done

  out "## (a) Intake: all-new dedup keys, bench/org-intake.yaml (nothing paged), durable"
  out ""
  out "wrk -t1 -c$CONNECTIONS -d${DURATION}s (after ${WARMUP} s of warm-up) with bench/events_v2.lua \`new\`; pg2: two wrk processes, $((CONNECTIONS / 2)) connections each, one per server, run together, rates summed. Order of the configurations rotated between repetitions; a fresh database per run."
  out ""
  out "| Config | events/s median | min–max | ratio to SQLite (medians) | ratio per repetition, min–max |"
  out "|---|---:|---|---:|---|"
  IFS='|' read -r SQ_MED _ _ <<<"$(stats ${RPS[sqlite]:-0})"
  for cfg in $CONFIGS; do
    read -r -a v <<<"${RPS[$cfg]}"
    IFS='|' read -r med mn mx <<<"$(stats "${v[@]}")"
    if [[ -n ${RPS[sqlite]:-} ]]; then
      read -r -a sq <<<"${RPS[sqlite]}"
      ratios=()
      for i in "${!v[@]}"; do ratios+=("$(calc "${v[$i]} / ${sq[$i]}")"); done
      IFS='|' read -r _ rmin rmax <<<"$(stats "${ratios[@]}")"
      out "| $cfg | **$(fmt0 "$med")** | $(fmt0 "$mn")–$(fmt0 "$mx") | **$(fmt2 "$(calc "$med / $SQ_MED")")** | $(fmt2 "$rmin")–$(fmt2 "$rmax") |"
    else
      out "| $cfg | **$(fmt0 "$med")** | $(fmt0 "$mn")–$(fmt0 "$mx") | – | – |"
    fi
  done
  out ""
  out "Every run: \"202s\" from wrk's Lua \`response()\`; \"stored\" = triggers committed during the measured run (sum of \`event_count\`, read with sqlite3 or psql after houston stopped, minus before); it must equal the 202s plus at most one in-flight request per connection ($CONNECTIONS). Latency in ms (pg2: each wrk's, server 1 / server 2). CPU µs/event: CPU time of the houston process(es) / of every PostgreSQL process, per request of the measured run. Commits: the transactions of houston's store writer (its /metrics, all servers: intake's group commits and every other write, e.g. notification claims), mean writes per commit, mean commit time (BEGIN to end of COMMIT), and the share of the run each server's writer spent inside transactions (Σ commit time / run time / servers: near 100 % means the single writer thread is the bottleneck). "10^6 / CPU µs per event": the events/s houston (+ PostgreSQL) could reach with CPU $SUT_CPU to themselves, at the CPU cost measured. Socket errors are wrk's (timeouts: no answer within 2 s). Log columns: lines the PostgreSQL server and houston (--log-level warn) wrote during the run, from start to stop."
  out ""
  out "| Config | rep | events/s | p50 | p99 | 202s | other statuses | socket errors | stored | 202s = stored | houston CPU µs/event | PostgreSQL CPU µs/event | wrk CPU | CPU $SUT_CPU / CPU $WRK_CPU busy (all processes) | houston commits | mean batch | mean commit ms | writer in transactions (per server) | 10^6 / CPU µs per event | PostgreSQL log: errors (deadlocks) / lock waits > 1 s | houston warn/error log lines |"
  out "|---|---:|---:|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  for r in "${INTAKE_ROWS[@]}"; do out "$r"; done
  out ""
  out "Idle, before the warm-up: the servers started, no request sent for ${IDLE_SECONDS} s. CPU in % of one core (houston: all servers; PostgreSQL: all its processes); PostgreSQL transactions/s of the run's database (\`pg_stat_database\`, which backends update about once a second: approximate)."
  out ""
  out "| Config | rep | houston CPU, idle | PostgreSQL CPU, idle | PostgreSQL transactions/s, idle |"
  out "|---|---:|---:|---:|---:|"
  for r in "${IDLE_ROWS[@]}"; do out "$r"; done
  out ""
  if (( ${#PGSTAT_ROWS[@]} > 0 )); then
    out "PostgreSQL's own counters for each run's database (warm-up and measured run together, read after houston stopped; \`pg_stat_database.xact_commit\` counts read transactions too; \`pg_stat_wal\` is cluster-wide, reset before each run):"
    out ""
    out "| Config | rep | triggers stored | transactions committed | per trigger | WAL records per trigger | WAL bytes per trigger | WAL fsyncs | triggers per WAL fsync | ms per WAL fsync |"
    out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for r in "${PGSTAT_ROWS[@]}"; do out "$r"; done
    out ""
  fi
fi

# --- (b) paging latency --------------------------------------------------------------------------
PAGING_ROWS=() STAGE_ROWS=() PAGING_FAIL=0
# Where a page's time went, from the database after the run (times in ms, houston's clock):
# incident created -> page queued (the escalation step fired), queued -> claimed by a sender
# (attempted_at), claimed -> sent.
STAGE_SQL="SELECT n.created_at - i.created_at, n.attempted_at - n.created_at, n.sent_at - n.attempted_at, n.attempts FROM notifications n JOIN incidents i ON i.id = n.incident_id WHERE n.kind = 'page'"
col_stats() {  # col_stats FILE COLUMN: "p50 / p99 / max"
  awk -v c="$2" '$c != "" { print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "–"; exit }
    i50 = int(0.50 * NR); if (i50 >= NR) i50 = NR - 1
    i99 = int(0.99 * NR); if (i99 >= NR) i99 = NR - 1
    printf "%s / %s / %s", v[i50 + 1], v[i99 + 1], v[NR] }'
}
if [[ ${SKIP_PAGING:-0} != 1 ]]; then
  for cfg in $CONFIGS; do
    CASE_N=$((CASE_N + 1))
    case $cfg in
      sqlite) n=1 db=$BENCH_DIR/pgr-$CASE_N.db url=$db ;;
      pg1) n=1 db=pgr$CASE_N ;;
      pg2) n=2 db=pgr$CASE_N ;;
    esac
    if [[ $cfg != sqlite ]]; then
      "${PGSQL[@]}" -c "CREATE DATABASE $db OWNER houston" >/dev/null
      url=$(pg_url "$db")
    fi
    "${PGSQL[@]}" -c "CHECKPOINT" >/dev/null
    echo ">>> paging latency: $cfg, $RATE events/s for $PAGING_SECONDS s" >&2
    pgmark=$(log_mark "$PGDIR/pg.log")
    mkdir -p "$RAW/paging-$cfg"
    rc=0
    taskset -c "$WRK_CPU" python3 "$BENCH/pg_replicas.py" --houston "$HOUSTON" --db "$url" \
      --servers "$n" --rate "$RATE" --seconds "$PAGING_SECONDS" --users "$PAGING_USERS" \
      --connections "$PAGING_CONNECTIONS" --workers "$PAGING_WORKERS" --cpu "$SUT_CPU" \
      --keep-logs "$RAW/paging-$cfg" ${PAGING_DUMP:+--dump "$PAGING_DUMP/paging-$cfg.txt"} >"$RAW/paging-$cfg.json" 2>"$RAW/paging-$cfg.err" &
    ppid=$!
    PIDS+=("$ppid")
    wait "$ppid" || rc=$?
    forget_pid "$ppid"
    if ! jq -e . "$RAW/paging-$cfg.json" >/dev/null 2>&1; then
      PAGING_FAIL=1
      PAGING_ROWS+=("| $cfg | $RATE | harness failed (exit $rc): $(tail -1 "$RAW/paging-$cfg.err" | tr '|' '/') |$(printf ' |%.0s' {1..12})")
      echo "    harness failed: $(tail -3 "$RAW/paging-$cfg.err")" >&2
    else
      [[ $rc = 0 ]] || PAGING_FAIL=1
      PAGING_ROWS+=("$(jq -r --arg c "$cfg" '"| \($c) | \(.offered_rate) | \(.achieved_rate) | \(.delivered) of \(.sent) | \(.missing) | \(.webhook_requests) | \(.distinct_message_ids) | \(.duplicate_message_ids) | \(.incidents_paged_more_than_once) | \(.unknown_titles) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.max_ms) | \(.houston_cpu_s | map(tostring) | join(" + ")) |"' "$RAW/paging-$cfg.json")")
      echo "    $(jq -c '{sent, delivered, missing, duplicate_message_ids, extra_pages, p50_ms, p99_ms, max_ms}' "$RAW/paging-$cfg.json")" >&2
    fi
    log_since "$PGDIR/pg.log" "$pgmark" >"$RAW/paging-$cfg.pglog"
    if [[ $cfg = sqlite ]]; then sqlite3 -readonly -separator ' ' "$db" "$STAGE_SQL" >"$RAW/paging-$cfg.stages" 2>/dev/null || true
    else psql -X -h "$PGDIR" -p "$PG_PORT" -U houston -d "$db" -AtqF' ' -c "$STAGE_SQL" >"$RAW/paging-$cfg.stages" 2>/dev/null || true; fi
    STAGE_ROWS+=("| $cfg | $(wc -l <"$RAW/paging-$cfg.stages") | $(col_stats "$RAW/paging-$cfg.stages" 1) | $(col_stats "$RAW/paging-$cfg.stages" 2) | $(col_stats "$RAW/paging-$cfg.stages" 3) | $(awk '$4 > 1' "$RAW/paging-$cfg.stages" | wc -l) |")
    if [[ $cfg = sqlite ]]; then pglog=–; else pglog=$(pg_log_summary "$RAW/paging-$cfg.pglog"); fi
    hlog=$(cat "$RAW/paging-$cfg"/*.log 2>/dev/null | grep -ciE ' (warn|error|critical) ' || true)
    PAGING_ROWS[-1]="${PAGING_ROWS[-1]} $pglog | $hlog |"
    if [[ $cfg = sqlite ]]; then rm -f "$db" "$db-wal" "$db-shm" "$db.link-key"
    else "${PGSQL[@]}" -c "DROP DATABASE $db" >/dev/null; fi
  done
  out "## (b) First page: event accepted → webhook received"
  out ""
  out "bench/pg_replicas.py (bench/paging_latency.py's org, paced sender and percentiles): $RATE new incidents/s for $PAGING_SECONDS s, $PAGING_CONNECTIONS sender connections, a policy paging one of $PAGING_USERS users round-robin at once (webhook to the harness's loopback sink), houston \`--notify-workers $PAGING_WORKERS --max-pages-per-minute 1000\` per server. pg2: one paced sender per server at half the rate. Latency: send of the event → first arrival of its incident's webhook, same clock. Every webhook is counted by \`message_id\` and by incident."
  out ""
  out "| Config | offered/s | achieved/s | delivered | missing | webhooks received | distinct message_ids | duplicate message_ids | incidents paged more than once | pages for unknown incidents | p50 ms | p90 ms | p99 ms | max ms | houston CPU s (each server) | PostgreSQL log: errors (deadlocks) / lock waits > 1 s | houston warn/error log lines |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  for r in "${PAGING_ROWS[@]}"; do out "$r"; done
  out ""
  out "Where the time went, from each run's database (houston's own timestamps, ms, p50 / p99 / max over all pages): the incident's creation → its page queued (the escalation step fired: \`notifications.created_at\`), queued → claimed by a sender (\`attempted_at\`), claimed → sent (\`sent_at\`)."
  out ""
  out "| Config | pages in the database | incident → page queued | queued → claimed | claimed → sent | pages attempted more than once |"
  out "|---|---:|---:|---:|---:|---:|"
  for r in "${STAGE_ROWS[@]}"; do out "$r"; done
  out ""
fi

out "PostgreSQL processes at the end: $(pg_affinity)."
if (( ${#BAD_EXITS[@]} > 0 )); then out ""; out "**houston exits:** ${BAD_EXITS[*]}"; out ""; fi
PGLOG_BAD=$(grep -cE '(ERROR|FATAL|PANIC):' "$PGDIR/pg.log" || true)
out "PostgreSQL log, whole run: $PGLOG_BAD ERROR/FATAL/PANIC line(s)$( ((PGLOG_BAD > 0)) && printf ', by message: %s' "$(grep -oE '(ERROR|FATAL|PANIC): .*' "$PGDIR/pg.log" | sort | uniq -c | sort -rn | head -5 | awk '{ $1 = $1 "x"; print }' | paste -sd';' | sed 's/;/; /g')"); $(grep -c 'still waiting for' "$PGDIR/pg.log" || true) lock wait(s) over deadlock_timeout."
if grep -qE '(ERROR|PANIC):|still waiting for' "$PGDIR/pg.log"; then
  out ""
  out "<details><summary>PostgreSQL log: errors and lock waits, with their context (first 40 lines)</summary>"
  out ""
  out '```'
  out "$(grep -E -A6 '(ERROR|PANIC):|still waiting for' "$PGDIR/pg.log" | grep -v '^--$' | cut -c1-500 | head -40)"
  out '```'
  out "</details>"
  out ""
fi
HLOG_ALL=$(cat "$TMP/houston.log" "$RAW"/paging-*/*.log 2>/dev/null | grep -iE ' (warn|error|critical) ' | sed -E 's/^[0-9TZ:.-]+ +//' | cut -c1-200 | sort | uniq -c | sort -rn | head -10 || true)
if [[ -n $HLOG_ALL ]]; then
  out "houston warnings and errors (all runs, by message, first 10):"
  out ""
  out '```'
  out "$HLOG_ALL"
  out '```'
  out ""
fi
out "Load average: $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
if [[ $CHECK_FAIL = 1 ]]; then out ""; out "**Some intake runs stored a different number of triggers than wrk counted 202s: see the table.**"; fi
if [[ $PAGING_FAIL = 1 ]]; then out ""; out "**Some paging runs lost, duplicated or failed pages: see the table.**"; fi
out ""
out "<details><summary>Raw wrk output</summary>"
out ""
out '```'
for f in "$RAW"/*; do
  [[ -f $f ]] || continue
  case $f in *.warmup*|*.m0.*|*.m1.*|*.pg0|*.pg1|*.idle0|*.idle1|*.time|*.err|*.pglog|*.hlog|*.stages) continue ;; esac
  out "== ${f##*/}"
  out "$(grep -v '^RESULT' "$f")"
done
out '```'
out "</details>"
if [[ -n ${OUT:-} ]]; then cp "$TMP/report.md" "$OUT"; echo "report written to $OUT" >&2; fi
[[ $CHECK_FAIL = 0 && $PAGING_FAIL = 0 ]]
