#!/usr/bin/env bash
# Runs a command with a given Node version first on PATH: `bash scripts/with-node.sh 22.12.0 npm test`.
# The Node binary comes from the npm registry's `node-linux-<arch>` package (the one the registry's
# `node` package installs), fetched once with `npm pack` (integrity checked by npm) into
# ~/.cache/brokerage-recon/node/<version>, so the machine's own Node does not decide what is tested.
set -euo pipefail
version=${1:?usage: with-node.sh VERSION COMMAND...}
shift
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
cache="${XDG_CACHE_HOME:-$HOME/.cache}/brokerage-recon/node/$version-$arch"
if [ ! -x "$cache/bin/node" ]; then
  command -v npm >/dev/null 2>&1 || { echo "with-node.sh: npm is needed to fetch Node $version" >&2; exit 1; }
  echo "with-node.sh: fetching Node $version (npm package node-linux-$arch@$version) into $cache, to run: $*" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  mkdir -p "$cache"
  tar -xzf "$tmp"/node-linux-*.tgz -C "$cache" --strip-components=1 package/bin/node
  rm -rf "$tmp"
  trap - EXIT
fi
export PATH="$cache/bin:$PATH"
exec "$@"
