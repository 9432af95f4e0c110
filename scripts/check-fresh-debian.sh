#!/usr/bin/env bash
# Checks that the README's two commands work on a bare Debian 12 machine, end to end:
#   1. debootstrap --variant=minbase bookworm into a temporary directory, with the bookworm,
#      bookworm-updates and bookworm-security sources, and nothing installed but git and make
#      (apt-get --no-install-recommends);
#   2. git clone of the current commit (HEAD of this checkout; uncommitted changes are not in it);
#   3. `make test` in the clone, as root (the full build and every unit and end-to-end test);
#   4. `make run`, then GET /healthz from inside the root, then the server is stopped;
#   5. a report: timings, ctest's summary, the answer of /healthz, where the logs are.
# It is a manual check, not part of CI: it downloads about 1 GB of packages and builds everything,
# which takes an hour or more on two busy cores (everything in the root runs under nice -n 19).
# Needs root (debootstrap, chroot, mounts) and debootstrap on the host.
#
# Usage: sudo scripts/check-fresh-debian.sh [options]
#   --dir DIR            where to make the root and keep the logs (default: a new
#                        ${TMPDIR:-/var/tmp}/houston-fresh-XXXXXX)
#   --keep               keep the root afterwards (to look around in it with chroot)
#   --mirror URL         Debian mirror (default http://deb.debian.org/debian)
#   --security-mirror URL  (default http://deb.debian.org/debian-security)
#   --extra-ca FILE      a CA certificate (PEM) that node in the root should trust, for hosts
#                        whose HTTPS goes through a TLS-intercepting proxy; the default is
#                        $NODE_EXTRA_CA_CERTS when that names a file. It is copied into the root
#                        and given to make as NODE_EXTRA_CA_CERTS (the report says so).
#   --no-extra-ca        do not pass any extra CA (the bare experience)
# On exit (also on failure or Ctrl-C) it stops what it started in the root, unmounts /proc, /sys
# and /dev from it, and deletes it unless --keep. Exit status 0 when both commands passed.
set -euo pipefail

mirror=http://deb.debian.org/debian
security_mirror=http://deb.debian.org/debian-security
dir=""
keep=0
extra_ca="${NODE_EXTRA_CA_CERTS:-}"
while (($#)); do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --mirror) mirror=$2; shift 2 ;;
    --security-mirror) security_mirror=$2; shift 2 ;;
    --extra-ca) extra_ca=$2; shift 2 ;;
    --no-extra-ca) extra_ca=""; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-fresh-debian: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "check-fresh-debian: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot and mounts)"
debootstrap=$(command -v debootstrap || echo /usr/sbin/debootstrap)
[[ -x $debootstrap ]] || die "debootstrap is not installed (apt-get install debootstrap)"
if [[ -n $extra_ca && ! -r $extra_ca ]]; then
  die "--extra-ca $extra_ca: not a readable file"
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse HEAD)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
  say "warning: $repo has uncommitted changes; they are not checked (only $commit is)"
fi

if [[ -z $dir ]]; then
  dir=$(mktemp -d "${TMPDIR:-/var/tmp}/houston-fresh-XXXXXX")
else
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
fi
root=$dir/root
logs=$dir/logs
[[ ! -e $root ]] || die "$root exists already: pick another --dir"
mkdir -p "$root" "$logs"

# Mount points under $root, deepest first (from /proc/self/mountinfo; our paths have no spaces).
mounts_under_root() {
  awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
    awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

# Processes whose root directory is $root: only ever ones this script started there.
procs_in_root() {
  local p
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/root" 2>/dev/null) == "$root" ]]; then echo "${p#/proc/}"; fi
  done
  return 0
}

run_pid=""
cleanup() {
  local status=$? pids m i
  trap - EXIT INT TERM
  set +e
  if [[ -n $run_pid ]]; then kill -TERM -- "-$run_pid" 2>/dev/null; fi
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(procs_in_root)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086
    if ((i < 10)); then kill -TERM $pids 2>/dev/null; else kill -KILL $pids 2>/dev/null; fi
    sleep 1
  done
  for m in $(mounts_under_root); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "cannot unmount $m"
  done
  if [[ -n $(mounts_under_root) ]]; then
    say "mounts are left under $root; not deleting it"
  elif ((keep)); then
    say "kept the root: chroot $root /bin/bash"
  else
    rm -rf --one-file-system "$root"
  fi
  say "logs: $logs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a shell command as root inside $root with a clean environment, as a login on a fresh
# machine would have it (plus the extra CA and proxy settings described above).
env_in_root=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
  TERM=dumb DEBIAN_FRONTEND=noninteractive)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [[ -n ${!v:-} ]]; then env_in_root+=("$v=${!v}"); fi
done
in_root() { chroot "$root" /usr/bin/env -i "${env_in_root[@]}" /bin/bash -c "$1"; }
# The same for long steps, with the output to the log $2: bash runs a trap (Ctrl-C, kill) only
# once the foreground command has finished, but interrupts `wait` at once. (The redirection is
# not on the call, where it would also catch what the trap prints.)
in_root_long() {
  in_root "$1" >"$2" 2>&1 &
  wait $!
}

now() { date +%s; }
elapsed() { local s=$(($(now) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
t_all=$(now)

say "debootstrap --variant=minbase bookworm into $root (log: $logs/debootstrap.log)"
t=$(now)
"$debootstrap" --variant=minbase bookworm "$root" "$mirror" >"$logs/debootstrap.log" 2>&1 &
wait $! || die "debootstrap failed: $(tail -n 5 "$logs/debootstrap.log")"
t_debootstrap=$(elapsed "$t")

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
if [[ -n $extra_ca ]]; then
  cp -L "$extra_ca" "$root/etc/houston-check-extra-ca.pem"
  env_in_root+=(NODE_EXTRA_CA_CERTS=/etc/houston-check-extra-ca.pem)
fi

say "apt-get install git make"
t=$(now)
in_root_long 'apt-get update -qq && apt-get install -y -qq --no-install-recommends git make' \
  "$logs/git-make.log" || die "installing git and make failed: $(tail -n 5 "$logs/git-make.log")"
t_gitmake=$(elapsed "$t")

git -C "$repo" bundle create "$root/tmp/houston.bundle" HEAD 2>"$logs/bundle.log"
in_root "git clone -q /tmp/houston.bundle /src 2>/dev/null && cd /src &&
  git -c advice.detachedHead=false checkout -q --detach $commit && rm /tmp/houston.bundle" ||
  die "git clone of $commit in the root failed"
say "cloned $commit to $root/src"

say "make test (log: $logs/make-test.log)"
t=$(now)
test_rc=0
in_root_long 'cd /src && nice -n 19 make test' "$logs/make-test.log" || test_rc=$?
t_test=$(elapsed "$t")

# `make run` listens on 127.0.0.1:8080; the root shares the host's network, so another port is
# taken when 8080 is in use there.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=8080
while port_busy "$port"; do port=$((20000 + RANDOM % 40000)); done
say "make run on 127.0.0.1:$port (log: $logs/make-run.log)"
t=$(now)
setsid chroot "$root" /usr/bin/env -i "${env_in_root[@]}" /bin/bash -c \
  "cd /src && exec nice -n 19 make run LISTEN=127.0.0.1:$port" >"$logs/make-run.log" 2>&1 &
run_pid=$!
health=""
# Up to an hour: make run builds first when make test failed before building.
for ((i = 0; i < 3600; i++)); do
  health=$(in_root "if command -v curl >/dev/null; then curl -fsS --max-time 2 http://127.0.0.1:$port/healthz
    else exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 &&
    cat <&3 | tr -d '\r' | sed '1,/^$/d'; fi" 2>/dev/null) && [[ -n $health ]] && break
  health=""
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 1
done
t_run=$(elapsed "$t")
run_ok=0
if [[ -n $health ]]; then run_ok=1; fi
kill -TERM -- "-$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null || true
run_pid=""

# shellcheck disable=SC2016 # expanded in the root
versions=$(in_root 'for p in nodejs npm g++ cmake postgresql-15; do
  printf "%s %s; " "$p" "$(dpkg-query -W -f="\${Version}" "$p" 2>/dev/null || echo -)"; done')
summary=$(grep -E 'tests passed|tests failed' "$logs/make-test.log" | tail -n 1 || true)
{
  echo
  echo "== houston on a bare Debian 12 root: $commit"
  echo "packages: ${versions% }"
  if [[ -n $extra_ca ]]; then echo "extra CA given to node: $extra_ca"; fi
  echo "debootstrap: $t_debootstrap; git+make: $t_gitmake"
  if ((test_rc == 0)); then echo "make test: PASS in $t_test: $summary"; else
    echo "make test: FAIL (exit $test_rc) after $t_test: ${summary:-no ctest summary}"
    echo "--- last 40 lines of $logs/make-test.log"
    tail -n 40 "$logs/make-test.log"
    echo "---"
  fi
  if ((run_ok)); then echo "make run: PASS, /healthz answered after $t_run: $health"; else
    echo "make run: FAIL, /healthz did not answer (after $t_run)"
    echo "--- last 20 lines of $logs/make-run.log"
    tail -n 20 "$logs/make-run.log"
    echo "---"
  fi
  echo "total: $(elapsed "$t_all")"
} | tee "$logs/report.txt"
((test_rc == 0 && run_ok))
