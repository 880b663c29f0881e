#!/usr/bin/env bash
# Builds helm (HELM_VERSION, default v4.3.2) from the Go module proxy into a cache outside the repo, the way
# build-bins.sh builds the Kubernetes binaries (into $SLUICE_HELM when set, as make sets it). A second run is a
# no-op. Prints the helm binary on its last line.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.2}"
OUT="$(dirname "${SLUICE_HELM:-$HOME/.cache/sluice/helm-$HELM_VERSION/helm}")"
if [ -x "$OUT/helm" ]; then echo "$OUT/helm"; exit 0; fi
# The version is set as helm's Makefile sets it (`helm version` says v4.3 otherwise).
bash "$(dirname "$0")/go-install.sh" "$OUT" helm "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" >/dev/null
"$OUT/helm" version >&2
echo "$OUT/helm"
