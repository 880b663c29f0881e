#!/usr/bin/env bash
# Installs Debian's hey (the HTTP load generator `sluice loadtester` runs by default) when no hey binary is
# on PATH (or in $SLUICE_HEY).
set -euo pipefail
bin="${SLUICE_HEY:-hey}"
if command -v "$bin" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "hey is missing: install it (apt-get install hey) or set SLUICE_HEY to a binary" >&2
  exit 1
fi
echo "installing Debian's hey package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends hey >/dev/null
command -v hey >/dev/null
