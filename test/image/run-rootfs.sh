#!/usr/bin/env bash
# Runs a command of an unpacked image the way a container runtime does, for where podman cannot run here: its
# own mount and PID namespaces, the root filesystem read-only (ROOTFS_WRITABLE=1: left writable), /proc, /dev
# and an empty tmpfs /tmp mounted, only the given environment, as the given user. Needs root (for unshare).
#   run-rootfs.sh ROOTFS UID:GID [NAME=VALUE...] -- COMMAND [ARGS...]
# ROOTFS_TMP_FILES: host files copied into the container's /tmp (a kubeconfig), readable by the user.
set -euo pipefail
if [ "${1:-}" != --inside ]; then
  # --kill-child: stopping unshare (by its pid) stops the command, PID 1 of the namespace.
  exec unshare --mount --pid --fork --kill-child=SIGTERM -- bash "$0" --inside "$@"
fi
shift
rootfs=$(readlink -f "$1") user=$2
shift 2
env=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
[ "$#" -gt 1 ] || { echo "usage: run-rootfs.sh ROOTFS UID:GID [NAME=VALUE...] -- COMMAND [ARGS...]" >&2; exit 2; }
shift

mount --make-rprivate /
mount --bind "$rootfs" "$rootfs"
[ "${ROOTFS_WRITABLE:-}" = 1 ] || mount -o remount,bind,ro "$rootfs"
mount -t proc proc "$rootfs/proc"
mount --rbind /dev "$rootfs/dev"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$rootfs/tmp"
for f in ${ROOTFS_TMP_FILES:-}; do install -m 0644 "$f" "$rootfs/tmp/"; done
exec env -i "${env[@]}" "$(command -v chroot)" --userspec="$user" "$rootfs" "$@"
