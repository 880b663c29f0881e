#!/usr/bin/env bash
# Installs Debian's prometheus when no prometheus binary is on PATH (or in $SLUICE_PROMETHEUS).
set -euo pipefail
bin="${SLUICE_PROMETHEUS:-prometheus}"
if command -v "$bin" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "prometheus is missing: install it (apt-get install prometheus) or set SLUICE_PROMETHEUS to a binary" >&2
  exit 1
fi
echo "installing Debian's prometheus package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package may start a service on :9090; tests run their own instance on a free port.
(command -v service >/dev/null && service prometheus stop >/dev/null 2>&1) || true
command -v prometheus >/dev/null
