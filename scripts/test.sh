#!/usr/bin/env bash
# The test command (README "Tests"). Says what it needs, and installs only what is missing, saying
# what and why:
#   - Node 22.18 or newer (package.json engines): an older `node` runs this script again with the Node of .nvmrc, fetched from
#     the npm registry into ~/.cache/brokerage-recon (scripts/with-node.sh);
#   - openssh-server / openssh-client: a real sshd and ssh-keygen for the SFTP tests;
#   - chromium: renders the HTML report;
#   - python3-minimal: compiles the Airflow DAG (deploy/airflow);
#   - python3-dbfread: the reference DBF reader that scripts/dbf-corpus-check.py compares against;
#   - the npm packages (`npm ci`), only when node_modules is missing or does not match package-lock.json.
# System packages are installed with apt-get when run as root; otherwise it lists them and stops.
# The mocha root hooks then build (once, with Go; cached) and start FerretDB, and the SFTP tests start
# sshd themselves. Programs are found on PATH, or named by RECON_TEST_SSHD, RECON_TEST_SSH_KEYGEN,
# RECON_TEST_CHROMIUM, RECON_TEST_PYTHON, RECON_TEST_SCRIPT, GO. `npm test` alone installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

oldest=$(node -p "require('./package.json').engines.node.match(/\\d+\\.\\d+/)[0]" 2>/dev/null || echo none)
if ! node -e "
  const [a, b] = process.versions.node.split('.').map(Number), [x, y] = '$oldest'.split('.').map(Number);
  process.exit(a > x || (a === x && b >= y) ? 0 : 1)" 2>/dev/null; then
  want=$(cat .nvmrc)
  echo "test.sh: Node $(node -v 2>/dev/null || echo '(none)') is older than the supported $oldest: using Node $want (.nvmrc) from the npm registry"
  exec bash scripts/with-node.sh "$want" bash "$0" "$@"
fi
echo "test.sh: Node $(node -v) ($(command -v node))"

on_path() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }
need=()
why=()
if [ -z "${RECON_TEST_SSHD:-}" ] && ! on_path sshd; then need+=(openssh-server); why+=("openssh-server: a real sshd for the SFTP tests"); fi
if [ -z "${RECON_TEST_SSH_KEYGEN:-}" ] && ! on_path ssh-keygen; then need+=(openssh-client); why+=("openssh-client: ssh-keygen makes the test host and user keys"); fi
if [ -z "${RECON_TEST_CHROMIUM:-}" ] && ! on_path chromium; then need+=(chromium); why+=("chromium: renders the HTML report in a test"); fi
if ! on_path unshare; then need+=(util-linux); why+=("util-linux: unshare gives the test sshd a private mount namespace"); fi
if [ -z "${RECON_TEST_PYTHON:-}" ] && ! on_path python3; then need+=(python3-minimal); why+=("python3-minimal: py_compile checks the Airflow DAG in deploy/airflow"); fi
if ! python3 -c 'import dbfread' 2>/dev/null && ! /usr/bin/python3 -c 'import dbfread' 2>/dev/null; then need+=(python3-dbfread); why+=("python3-dbfread: the reference reader scripts/dbf-corpus-check.py compares the decoder with"); fi
if ! on_path script; then need+=(bsdutils); why+=("bsdutils: script gives the CLI tests a pseudo-terminal"); fi
if ! on_path perl; then need+=(perl-base); why+=("perl-base: crypt(3) for the test sshd's temporary password"); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing with apt-get: ${need[*]}"
    printf '  %s\n' "${why[@]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing: ${need[*]}; install them (Debian: apt-get install ${need[*]}) or name the programs by RECON_TEST_* variables:" >&2
    printf '  %s\n' "${why[@]}" >&2
    exit 1
  fi
fi
if [ -z "${MONGO_URI:-}" ] && ! command -v "${GO:-go}" >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ] \
  && ! ls "${XDG_CACHE_HOME:-$HOME/.cache}"/brokerage-recon/ferretdb-test-* >/dev/null 2>&1; then
  echo "test.sh: Go 1.24 or newer is needed once to build the FerretDB test server (or set MONGO_URI to a MongoDB)" >&2
  exit 1
fi

if npm ls --all >/dev/null 2>&1; then
  echo "test.sh: node_modules matches package-lock.json: not reinstalling"
else
  echo "test.sh: installing the npm packages (npm ci): node_modules is missing or does not match package-lock.json"
  npm ci --no-audit --no-fund
fi
npm test
