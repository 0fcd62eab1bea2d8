#!/usr/bin/env bash
# SD 1.5-size run: fixture (859.5M-param UNet), FP16 conversion, INT8 calibration + quantization, one UNet step per
# precision at 64x64 latents (plus FP32 with INT8's attention fusion). Each phase is its own process under /usr/bin/time -v: wall time and peak RSS.
# Usage: tools/bench/pipeline/sd15.sh [work dir, default /tmp/sdq-sd15]   (build the CLI first: npm run build -w @sdq/cli)
set -euo pipefail
W=${1:-/tmp/sdq-sd15}
SDQ="node $(pwd)/packages/cli/dist/sdq.js"
mkdir -p "$W"
printf 'a photo of a cat on a sofa\na mountain lake at sunrise\n' > "$W/prompts.txt"
phase() {
  local name=$1; shift
  /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o "$W/$name.time" "$@" > "$W/$name.log" 2>&1 || { echo "$name FAILED"; tail -3 "$W/$name.log"; cat "$W/$name.time"; exit 1; }
  cat "$W/$name.time"; tail -1 "$W/$name.log"
}
[ -f "$W/model/model_index.json" ] || phase fixture $SDQ fixture create --preset sd15 --out "$W/model" --quiet
# FP16 for onnxruntime: attention fused (as sdq bench makes it; plain `sdq convert` keeps standard ops for TensorRT).
[ -f "$W/fp16/model_index.json" ] && cat "$W/convert-fp16.time" || phase convert-fp16 $SDQ convert "$W/model" "$W/fp16" --to fp16 --fuse-attention --quiet
# Calibrate at 256x256 (32x32 latents): 2 generations x 2 steps, 2 UNet input sets (latency and memory check, not quality).
[ -f "$W/calib/ranges.json" ] && cat "$W/calibrate.time" || phase calibrate $SDQ calibrate "$W/model" --prompts "$W/prompts.txt" --out "$W/calib" --samples 2 --steps 2 --size 256x256 --quiet
[ -f "$W/int8/model_index.json" ] && cat "$W/quantize-int8.time" || phase quantize-int8 $SDQ quantize "$W/model" "$W/int8" --calibration "$W/calib" --quiet
# The FP32 UNet with the attention fusion the INT8 one has (INT8 vs this = the quantization's own share).
[ -f "$W/fp32-fused/model_index.json" ] && cat "$W/fuse-fp32.time" || phase fuse-fp32 $SDQ convert "$W/model" "$W/fp32-fused" --to fp32 --fuse-attention --quiet
for p in model fp32-fused fp16 int8; do phase "unet-step-$p" node tools/bench/pipeline/unet-step.mjs "$W/$p"; done
du -sh "$W/model" "$W/fp16" "$W/int8"
