#!/usr/bin/env bash
# Builds Flagger (FLAGGER_VERSION, default v1.44.0) from the Go module proxy into a cache outside the repo, the
# way build-helm.sh builds helm (into $SLUICE_FLAGGER when set, as make sets it), for the peer benchmark
# (bench/peer/). A cold build takes up to half an hour on 2 cores; a second run is a no-op. Prints the flagger
# binary on its last line.
set -euo pipefail

FLAGGER_VERSION="${FLAGGER_VERSION:-v1.44.0}"
OUT="$(dirname "${SLUICE_FLAGGER:-$HOME/.cache/sluice/flagger-$FLAGGER_VERSION/flagger}")"
bash "$(dirname "$0")/go-install.sh" "$OUT" flagger "github.com/fluxcd/flagger/cmd/flagger@$FLAGGER_VERSION"
