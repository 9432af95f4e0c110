#!/usr/bin/env bash
# Installs every Debian package houston needs to build, run and test, the web UI's front-end
# libraries (web/, embedded into the binary at build time) and the npm test tools.
# Idempotent: packages already present are not touched, so a second run takes about a second.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libsimdjson-dev libsqlite3-dev libyaml-cpp-dev libhowardhinnant-date-dev tzdata
  libcurl4-openssl-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libkainjow-mustache-dev libpq-dev
  nodejs npm
)
TEST_PKGS=(
  curl sqlite3 openssl python3 python3-aiosmtpd prometheus-alertmanager prometheus clang-format wrk
  postgresql-15 chromium clang-16 libclang-rt-16-dev lld-16 faketime
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
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "install-deps: installing packages needs root, and sudo is not installed: run" \
        "scripts/install-deps.sh $* as root once (or apt-get install sudo)" >&2
      exit 1
    fi
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, each folder exactly as its package-lock.json says (`npm ci`, which npm 7 and later
# read, so Debian 12's npm 9 on Node 18 as well as newer ones): web/ (Preact and htm, which the
# build embeds into the binary; nothing is loaded from a CDN) and, for the tests, tests/e2e/
# (@pagerduty/pdjs, playwright-core driving Debian's Chromium). A stamp in node_modules records
# which lockfile was installed, so an interrupted install or a changed pin is installed again.
npm_ci() {
  local dir=$1
  local stamp="$dir/node_modules/.houston-installed"
  if [[ -f "$dir/package-lock.json" ]] &&
    ! { [[ -f "$stamp" ]] && cmp -s "$stamp" "$dir/package-lock.json"; }; then
    echo "install-deps: npm ci in $dir (node $(node --version), npm $(npm --version))" >&2
    # npm's own error is shown (not --silent): a failure here used to print nothing at all.
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
      cat >&2 <<'MSG'
install-deps: `npm ci` failed (its error is above). It downloads from
https://registry.npmjs.org. If the error names a certificate (SELF_SIGNED_CERT_IN_CHAIN,
UNABLE_TO_GET_ISSUER_CERT_LOCALLY), a proxy re-signs TLS traffic: trust its CA certificate
(copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates, which Debian's Node
reads; or point NODE_EXTRA_CA_CERTS at it), then run this again.
MSG
      exit 1
    fi
    cp "$dir/package-lock.json" "$stamp"
  fi
}
root=$(cd "$(dirname "$0")/.." && pwd)
npm_ci "$root/web"
if [[ "${1:-}" != "--build-only" ]]; then
  npm_ci "$root/tests/e2e"
fi
