#!/usr/bin/env bash
# On the GPU machine, after `source .device-kit/setup.sh`: makes the sd15-size fixture and its FP32/FP16 attention-fused
# copies once (in $W), then profiles one UNet CFG step of each on WebGPU: latency and per-op kernel time by provider.
# Usage: tools/bench/gpu/sd15-profile.sh [extra unet-profile.mjs args]   (W=work dir, OUT=where summaries go)
set -euo pipefail
W=${W:-/tmp/sdq-gpu}; OUT=${OUT:-out}
SDQ="node packages/cli/dist/sdq.js"
# unet-profile.mjs imports @sdq/quant: carry packages/quant/dist to the GPU machine, linked here when not installed
[ -e node_modules/@sdq/quant ] || { mkdir -p node_modules/@sdq && ln -sfn ../../packages/quant node_modules/@sdq/quant; }
mkdir -p "$W" "$OUT"
t() { local s=$(date +%s%N); "$@"; echo "  ($(( ($(date +%s%N) - s) / 1000000 )) ms: $*)" | cut -c1-160; }
[ -f "$W/sd15/model_index.json" ] || t $SDQ fixture create --preset sd15 --out "$W/sd15" --quiet
[ -f "$W/fp32f/model_index.json" ] || t $SDQ convert "$W/sd15" "$W/fp32f" --to fp32 --fuse-attention --quiet
[ -f "$W/fp16f/model_index.json" ] || t $SDQ convert "$W/sd15" "$W/fp16f" --to fp16 --fuse-attention --quiet
t node tools/bench/gpu/unet-profile.mjs "$W/sd15" "$W/fp32f" "$W/fp16f" --ep webgpu --profile --runs 5 --out "$OUT" "$@"
