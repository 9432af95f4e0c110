#!/usr/bin/env bash
# Installs every Debian package houston needs to build, run and test, and the npm test tools.
# Idempotent: packages already present are not touched, so a second run takes about a second.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libsimdjson-dev libsqlite3-dev libyaml-cpp-dev libhowardhinnant-date-dev tzdata
  libcurl4-openssl-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libkainjow-mustache-dev libpq-dev
)
TEST_PKGS=(
  curl sqlite3 openssl python3 python3-aiosmtpd prometheus-alertmanager nodejs npm clang-format wrk
  postgresql-15
)

pkgs=("${BUILD_PKGS[@]}")
if [[ "${1:-}" != "--build-only" ]]; then pkgs+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# nodejs/npm may come from another source on developer machines; accept any working binaries.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm test tools (only for the end-to-end tests), pinned in tests/e2e/package.json.
if [[ "${1:-}" != "--build-only" ]]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [[ -f "$here/tests/e2e/package.json" && ! -d "$here/tests/e2e/node_modules/@pagerduty/pdjs" ]]; then
    echo "install-deps: npm install in tests/e2e" >&2
    (cd "$here/tests/e2e" && npm install --no-audit --no-fund --silent)
  fi
fi
