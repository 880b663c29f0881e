#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (one Kubernetes
# version) and kwok from the Go module proxy into a cache outside the repo. A second run is a no-op.
# Prints the binary directory on its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
OUT="${SLUICE_K8S_BIN_DIR:-$HOME/.cache/sluice/k8s-v$K8S_VERSION}"
BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

have_all() { for b in "${BINS[@]}"; do [ -x "$OUT/$b" ] || return 1; done; }
if have_all; then echo "$OUT"; exit 0; fi

command -v go >/dev/null || { echo "build-bins: Go >= 1.24 is required to build the local control plane" >&2; exit 1; }
MINOR="$(cut -d. -f2 <<<"$K8S_VERSION")"; PATCH="$(cut -d. -f3 <<<"$K8S_VERSION")"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath
mkdir -p "$OUT"
SRC="$(mktemp -d)"; trap 'rm -rf "$SRC"' EXIT
cd "$SRC"
log() { printf 'build-bins: %s\n' "$*" >&2; }

log "Kubernetes v$K8S_VERSION, kwok $KWOK_VERSION -> $OUT (a cold build takes 10-25 minutes)"
go mod init example.invalid/sluice-k8s-bins >/dev/null 2>&1
GOMOD="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')"
# Kubernetes requires its staging modules at v0.0.0 with ./staging replaces; point them at v0.MINOR.PATCH.
count=0
for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$GOMOD"); do
  go mod edit -replace="$m=$m@v0.$MINOR.$PATCH"; count=$((count+1))
done
log "generated $count staging replaces"
[ "$count" -gt 20 ] || { log "too few staging replaces found in $GOMOD"; exit 1; }

log "resolving modules"
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl >&2
ETCD_V="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
go get -tool "go.etcd.io/etcd/server/v3@$ETCD_V" >&2
go mod tidy >&2

commit="$(printf '%040d' 0)"; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ver=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
  ver+=" -X $p.gitCommit=$commit -X $p.buildDate=$date"
done
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$OUT/$cmd" ] && continue
  log "building $cmd"
  go build -ldflags "-s -w$ver" -o "$OUT/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" && mv "$OUT/$cmd.tmp" "$OUT/$cmd"
done
if [ ! -x "$OUT/etcd" ]; then
  log "building etcd $ETCD_V"
  go build -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 && mv "$OUT/etcd.tmp" "$OUT/etcd"
fi
if [ ! -x "$OUT/kwok" ]; then
  log "building kwok $KWOK_VERSION"
  # Outside the wrapper module: kwok pins its own k8s libraries.
  GOBIN="$OUT/.kwok" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" && mv "$OUT/.kwok/kwok" "$OUT/kwok"
  rmdir "$OUT/.kwok" 2>/dev/null || true
fi
have_all || { log "some binaries are missing in $OUT"; exit 1; }
"$OUT/kube-apiserver" --version >&2
echo "$OUT"
