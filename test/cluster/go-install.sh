#!/usr/bin/env bash
# go-install.sh OUT NAME PACKAGE@VERSION [LDFLAGS]: builds one Go command from the Go module proxy into OUT/NAME,
# a cache outside the repo (build-helm.sh, build-flagger.sh). A no-op when OUT/NAME exists. Prints it last.
set -euo pipefail

OUT="$1" NAME="$2" PKG="$3" LDFLAGS="${4:-}"
if [ -x "$OUT/$NAME" ]; then echo "$OUT/$NAME"; exit 0; fi

command -v go >/dev/null || { echo "go-install: Go >= 1.24 is required to build $NAME" >&2; exit 1; }
mkdir -p "$OUT"
echo "go-install: $PKG -> $OUT (a cold build takes minutes)" >&2
# Outside any module (cwd /) and with -mod=mod, so the command's own go.mod decides every dependency version.
# nice: the build is CPU-heavy.
(cd / && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS='-mod=mod -trimpath' GOBIN="$OUT/.build" \
  nice -n 10 go install -ldflags "-s -w $LDFLAGS" "$PKG")
mv "$OUT/.build/$NAME" "$OUT/$NAME"
rmdir "$OUT/.build" 2>/dev/null || true
echo "$OUT/$NAME"
