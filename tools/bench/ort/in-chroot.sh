#!/usr/bin/env bash
# Run a command in the trixie chroot of setup-trixie.sh (Python onnxruntime), in the current directory, with /proc,
# the current directory and the folders holding models bind-mounted at the same paths; unmounted afterwards.
# Usage: [ORT_CHROOT=/work/ort-trixie] [ORT_BIND="/tmp /data"] tools/bench/ort/in-chroot.sh <command> [args...]
# Needs root. Paths given to the command are the same inside (the folders are mounted where they are).
set -euo pipefail
ROOT=${ORT_CHROOT:-/work/ort-trixie}
[ -x "$ROOT/usr/bin/python3" ] || { echo "in-chroot.sh: no chroot at $ROOT; run tools/bench/ort/setup-trixie.sh first" >&2; exit 1; }
HERE=$(pwd)
mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done; }
trap cleanup EXIT
bind() {
  local src=$1 dst="$ROOT$1"
  mkdir -p "$dst"
  if ! mountpoint -q "$dst"; then mount --bind "$src" "$dst"; mounted+=("$dst"); fi
}
if ! mountpoint -q "$ROOT/proc"; then mount -t proc proc "$ROOT/proc"; mounted+=("$ROOT/proc"); fi
for d in ${ORT_BIND:-/tmp} "$HERE"; do bind "$(realpath "$d")"; done
chroot "$ROOT" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$HERE" "$@"
