#!/usr/bin/env bash
# Builds helm (HELM_VERSION, default v4.3.2) from the Go module proxy into a cache outside the repo, the way
# build-bins.sh builds the Kubernetes binaries (into $SLUICE_HELM when set, as make sets it). A second run is a
# no-op. Prints the helm binary on its last line.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.2}"
OUT="$(dirname "${SLUICE_HELM:-$HOME/.cache/sluice/helm-$HELM_VERSION/helm}")"
if [ -x "$OUT/helm" ]; then echo "$OUT/helm"; exit 0; fi

command -v go >/dev/null || { echo "build-helm: Go >= 1.24 is required to build helm" >&2; exit 1; }
mkdir -p "$OUT"
echo "build-helm: helm $HELM_VERSION -> $OUT (a cold build takes a few minutes)" >&2
# Outside any module (cwd /) and with -mod=mod, so helm's own go.mod decides every dependency version. The
# version is set as helm's Makefile sets it (`helm version` says v4.3 otherwise). nice: the build is CPU-heavy.
(cd / && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='-mod=mod -trimpath' GOBIN="$OUT/.build" \
  nice -n 10 go install -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION")
mv "$OUT/.build/helm" "$OUT/helm"
rmdir "$OUT/.build" 2>/dev/null || true
"$OUT/helm" version >&2
echo "$OUT/helm"
