#!/usr/bin/env bash
# Installs Debian's hey (the HTTP load generator `sluice loadtester` allows by default, looked up on PATH)
# when no hey is on PATH.
set -euo pipefail
if command -v hey >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "hey is missing: install it (apt-get install hey) or put a hey binary on PATH" >&2
  exit 1
fi
echo "installing Debian's hey package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends hey >/dev/null
command -v hey >/dev/null
