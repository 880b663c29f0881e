#!/usr/bin/env bash
# Installs a Debian package when its command is not on PATH: ensure-deb.sh <command> <package> [how else].
# Used for the tools the tests run but npm and Go cannot bring (prometheus, hey, chromium).
set -euo pipefail
cmd="$1" pkg="$2" otherwise="${3:-put a $1 binary on PATH}"
if command -v "$cmd" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "$cmd is missing: install it (apt-get install $pkg) or $otherwise" >&2
  exit 1
fi
echo "installing Debian's $pkg package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
command -v "$cmd" >/dev/null
