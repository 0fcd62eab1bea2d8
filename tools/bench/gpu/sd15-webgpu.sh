#!/usr/bin/env bash
# The GPU benchmark, on the GPU machine after `source .device-kit/setup.sh` (see docs/results.md):
#  1. sd15-size fixture; `sdq bench --device webgpu` at 512x512, 25 steps (makes the GPU recipe's FP32/FP16/INT8 dirs)
#  2. one UNet CFG step of each dir, side by side (min/median of 10), weight-only INT8 with DQ per run and folded at load
#  3. shapes-sd: `sdq bench --device webgpu` (12-prompt fidelity), and WebGPU images against the CPU FP32 image (PSNR)
# Usage: tools/bench/gpu/sd15-webgpu.sh   (W = work dir, OUT = results folder, RUNS = bench runs)
set -euo pipefail
W=${W:-/tmp/sdq-gpu}; OUT=${OUT:-out}; RUNS=${RUNS:-3}
SDQ="node packages/cli/dist/sdq.js"
# unet-profile.mjs imports @sdq/quant: carry packages/quant/dist to the GPU machine, linked here when not installed
[ -e node_modules/@sdq/quant ] || { mkdir -p node_modules/@sdq && ln -sfn ../../packages/quant node_modules/@sdq/quant; }
mkdir -p "$W" "$OUT"
t() { local s=$(date +%s%N); "$@"; echo "  ($(( ($(date +%s%N) - s) / 1000000 )) ms: $*)" | cut -c1-200; }
[ -f "$W/sd15/model_index.json" ] || t $SDQ fixture create --preset sd15 --out "$W/sd15" --quiet
t $SDQ bench "$W/sd15" --device webgpu --precisions fp32,fp16,int8 --runs "$RUNS" --warmup 1 --size 512x512 --steps 25 --guidance 7.5 \
  --prompt "a cat on a sofa" --fidelity-prompts none --sequential --cache "$W/sd15-cache" --report "$OUT/sd15-report" --quiet > "$OUT/sd15-bench.txt"
cat "$OUT/sd15-bench.txt"
C="$W/sd15-cache"
t node tools/bench/gpu/unet-profile.mjs "$C/gpu-fp32" "$C/gpu-fp16" "$C/gpu-int8-weights" --ep webgpu --runs 10 --out "$OUT/step"
t node tools/bench/gpu/unet-profile.mjs "$C/gpu-int8-weights" --ep webgpu --runs 10 --fold-dq --out "$OUT/step-fold"
t node tools/bench/gpu/unet-profile.mjs "$C/gpu-int8-weights" --ep webgpu --runs 3 --profile --out "$OUT/profile-w8" > /dev/null
du -sb "$W/sd15" "$C"/gpu-* | tee "$OUT/sizes.txt"
t $SDQ bench --device webgpu --cache "$W/shapes-cache" --report "$OUT/shapes-report" --quiet > "$OUT/shapes-bench.txt"; cat "$OUT/shapes-bench.txt"
S=fixtures/models/shapes-sd; SC="$W/shapes-cache"
$SDQ generate "$S" --out "$W/cpu-fp32.png" --quiet
for p in fp32 fp16 int8-weights; do $SDQ generate "$SC/gpu-$p" --device webgpu --out "$W/webgpu-$p.png" --quiet; done
node tools/bench/gpu/cross-device-psnr.mjs "$W/cpu-fp32.png" "$W"/webgpu-*.png | tee "$OUT/cross-device.txt"
cp "$W"/webgpu-fp16.png "$W"/cpu-fp32.png "$OUT/"
