#!/usr/bin/env bash
# SDXL base size on the GPU machine, after `source .device-kit/setup.sh`: the sdxl preset fixture, then per GPU recipe
# dir (FP16 fused, FP32 fused, weight-only INT8) the conversion time and one UNet CFG step at 128x128 latents on WebGPU.
# Each dir is measured as soon as it exists, so a run cut short still reports what it reached.
# Usage: tools/bench/gpu/sdxl-webgpu.sh   (W = work dir, OUT = results folder, RUNS = step runs)
set -euo pipefail
W=${W:-/tmp/sdq-sdxl-gpu}; OUT=${OUT:-out}; RUNS=${RUNS:-5}
SDQ="node packages/cli/dist/sdq.js"
# unet-profile.mjs imports @sdq/quant: carry packages/quant/dist to the GPU machine, linked here when not installed
[ -e node_modules/@sdq/quant ] || { mkdir -p node_modules/@sdq && ln -sfn ../../packages/quant node_modules/@sdq/quant; }
mkdir -p "$W" "$OUT"
t() { local s=$(date +%s%N); "$@"; echo "  ($(( ($(date +%s%N) - s) / 1000000 )) ms: $*)" | cut -c1-200; }
[ -f "$W/sdxl/model_index.json" ] || t $SDQ fixture create --preset sdxl --out "$W/sdxl" --quiet
step() { t node tools/bench/gpu/unet-profile.mjs "$1" --ep webgpu --latent 128 --runs "$RUNS" --warmup 1 --out "$OUT/$(basename "$1")"; }
t $SDQ convert "$W/sdxl" "$W/sdxl-fp16" --to fp16 --fuse-attention --quiet; step "$W/sdxl-fp16"
t $SDQ convert "$W/sdxl" "$W/sdxl-fp32" --to fp32 --fuse-attention --quiet; step "$W/sdxl-fp32"
t $SDQ convert "$W/sdxl" "$W/sdxl-int8-weights" --to int8-weights --quiet; step "$W/sdxl-int8-weights"
du -sb "$W"/sdxl* | tee "$OUT/sizes.txt"
