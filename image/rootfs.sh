#!/usr/bin/env bash
# The image's root filesystem, assembled from a checkout: the one list of what the image holds, run by the
# Containerfile's build stage and by `make image` on this machine (where no base image can be pulled).
#   image/rootfs.sh DEST
# The checkout's node_modules must hold its devDependencies: npm's `node` package (the Node 24 the tests run
# on), which the image runs, and esbuild, which bundles sluice and its production dependencies into one file.
set -euo pipefail
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: image/rootfs.sh DEST}
[ "$(readlink -f "$dest")" != / ] || { echo "rootfs.sh: DEST must not be /" >&2; exit 2; }
uid=65534 # the manifests' runAsUser; also the image's USER (Containerfile)

node=$(readlink -f "$root/node_modules/node/bin/node")
[ -x "$node" ] || { echo "rootfs.sh: $root/node_modules/node/bin/node is missing: run npm ci first" >&2; exit 1; }
ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || { echo "rootfs.sh: $ca is missing (Debian's ca-certificates package)" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"/{app/bin,usr/local/bin,etc/ssl/certs,proc,sys,dev,tmp}
# /tmp is the only place Node or its libraries may write; the manifests mount an emptyDir there (read-only root).
chmod 1777 "$dest/tmp"

# Node, and the shared libraries it links (glibc, libstdc++, libgcc_s): ldd lists them and the loader.
install -m 0755 "$node" "$dest/usr/local/bin/node"
ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
done

# The app: bin/sluice.ts with sluice's sources and its production dependencies bundled into one file, and the
# few files it reads at run time (image/bundle.ts; esbuild is a devDependency of the checkout).
(cd "$root" && "$node" image/bundle.ts "$dest/app")
[ -s "$dest/app/bin/sluice.mjs" ] || { echo "rootfs.sh: image/bundle.ts wrote no $dest/app/bin/sluice.mjs" >&2; exit 1; }
# `sluice` on PATH (the CLI, and the load tester's `command: [sluice]`) without a shell or /usr/bin/env
# for the shebang. V8 sized for memory: --optimize-for-size keeps the young generation and the heap's headroom
# small (at 100 canaries analysing 136 MB RSS instead of 326 MB, for more CPU; `make bench-controller` runs with
# it). The kernel passes a shebang's arguments as one: one flag only. The webhook, which parses a large review
# per write, runs `node --max-semi-space-size=2 /app/bin/sluice.mjs` instead, and the controller Node with flags of
# its own too (manifests/deployment.yaml).
NODE_FLAGS=--optimize-for-size
# V8 flags beyond the shebang's one, set by the launcher before sluice loads (V8 reads this one at each full
# collection). Under --optimize-for-size alone the old generation grew by 10-35% before the next full
# collection, one every 2-4 s at 100 canaries analysing; room to grow by half removes a third of them, about
# 4 ms of CPU a second, at the same RSS (README, "Room for the old generation"). The benchmarks pass both as flags
# (Makefile).
V8_FLAGS=--heap-growing-percent=50
printf '%s\n' "#!/usr/local/bin/node $NODE_FLAGS" "require('node:v8').setFlagsFromString('$V8_FLAGS')" "import('/app/bin/sluice.mjs')" >"$dest/usr/local/bin/sluice"
chmod 0755 "$dest/usr/local/bin/sluice"

# Users without a shell; the fixed UID owns nothing in the image (everything is root's, read-only to it).
printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' "nobody:x:$uid:$uid:nobody:/nonexistent:/usr/sbin/nologin" >"$dest/etc/passwd"
printf '%s\n' 'root:x:0:' "nogroup:x:$uid:" >"$dest/etc/group"
printf '%s\n' 'hosts: files dns' >"$dest/etc/nsswitch.conf"
cp -L "$ca" "$dest/etc/ssl/certs/ca-certificates.crt"
