#!/usr/bin/env bash
# Installs Debian's prometheus when no prometheus binary is on PATH (or in $SLUICE_PROMETHEUS).
set -euo pipefail
bin="${SLUICE_PROMETHEUS:-prometheus}"
if command -v "$bin" >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "$0")/ensure-deb.sh" prometheus prometheus "set SLUICE_PROMETHEUS to a binary"
# The package may start a service on :9090; tests run their own instance on a free port.
(command -v service >/dev/null && service prometheus stop >/dev/null 2>&1) || true
