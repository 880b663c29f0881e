#!/usr/bin/env bash
# Builds Flagger (FLAGGER_VERSION, default v1.44.0) from the Go module proxy into a cache outside the repo, the
# way build-helm.sh builds helm, for the peer benchmark (bench/peer/) that runs it beside sluice. A second run is
# a no-op. Prints the flagger binary on its last line.
set -euo pipefail

FLAGGER_VERSION="${FLAGGER_VERSION:-v1.44.0}"
OUT="$(dirname "${SLUICE_FLAGGER:-$HOME/.cache/sluice/flagger-$FLAGGER_VERSION/flagger}")"
if [ -x "$OUT/flagger" ]; then echo "$OUT/flagger"; exit 0; fi

command -v go >/dev/null || { echo "build-flagger: Go >= 1.24 is required to build flagger" >&2; exit 1; }
mkdir -p "$OUT"
echo "build-flagger: flagger $FLAGGER_VERSION -> $OUT (a cold build takes up to half an hour on 2 cores)" >&2
# Outside any module (cwd /) and with -mod=mod, so Flagger's own go.mod decides every dependency version.
# nice: the build is CPU-heavy.
(cd / && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='-mod=mod -trimpath' GOBIN="$OUT/.build" \
  nice -n 10 go install -ldflags "-s -w" "github.com/fluxcd/flagger/cmd/flagger@$FLAGGER_VERSION")
mv "$OUT/.build/flagger" "$OUT/flagger"
rmdir "$OUT/.build" 2>/dev/null || true
echo "$OUT/flagger"
