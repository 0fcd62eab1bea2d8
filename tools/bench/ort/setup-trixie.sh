#!/usr/bin/env bash
# Python onnxruntime (for its own quantizer, onnxruntime.quantization) in a Debian trixie chroot: bookworm has no
# python3-onnxruntime, trixie has 1.21.0. Needs root. Idempotent: each step is skipped when already done.
# Not run by CI; tools/bench/ort/compare-sdxl.sh calls it.
# Usage: tools/bench/ort/setup-trixie.sh [chroot dir, default /work/ort-trixie]
# Then: tools/bench/ort/in-chroot.sh <dir with models> python3 tools/bench/ort/quantize_static.py ...
set -euo pipefail
ROOT=${1:-/work/ort-trixie}
MIRROR=http://deb.debian.org/debian
command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap
if [ ! -x "$ROOT/usr/bin/apt-get" ] || [ ! -f "$ROOT/etc/debian_version" ]; then
  debootstrap --variant=minbase trixie "$ROOT" "$MIRROR"
fi
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT; }
# onnx.reference before onnxruntime: see quantize_static.py (Debian's shared libonnx).
if ! chroot "$ROOT" python3 -c 'import onnx.reference, onnxruntime.quantization, numpy' >/dev/null 2>&1; then
  chroot "$ROOT" apt-get update
  DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get install -y --no-install-recommends \
    python3-onnxruntime python3-onnx python3-numpy
fi
chroot "$ROOT" python3 -c 'import onnx, onnx.reference, onnxruntime, numpy; print("onnxruntime", onnxruntime.__version__, "onnx", onnx.__version__, "numpy", numpy.__version__)' 2>/dev/null
