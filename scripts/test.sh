#!/usr/bin/env bash
# The test command (README "Tests"). On a fresh Debian machine it installs what the tests need:
# OpenSSH (a real sshd for the SFTP tests), Chromium (renders the HTML report), the npm packages;
# the mocha root hooks then build and start FerretDB (needs Go) and the tests start sshd themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} (apt-get install them, or run as root)" >&2
    exit 1
  fi
fi
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  echo "Go (1.24 or newer) is needed to build the FerretDB test server, or set MONGO_URI to a MongoDB" >&2
  [ -n "${MONGO_URI:-}" ] || exit 1
fi

npm ci --no-audit --no-fund
npm test
