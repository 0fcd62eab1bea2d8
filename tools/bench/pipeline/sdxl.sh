#!/usr/bin/env bash
# SDXL-base-size run: fixture (2567.5M-param UNet, 13.7 GB), FP16 conversion, INT8 calibration + quantization, one
# UNet step per precision at 128x128 latents (1024x1024 images). Each phase is its own process under
# /usr/bin/time -v: wall time and peak RSS. A watchdog stops a phase (and the run) when the machine's available
# memory falls under 2 GiB, so a shared machine is not pushed into the OOM killer.
# Usage: tools/bench/pipeline/sdxl.sh [work dir, default /tmp/sdq-sdxl] [step batch, default 2]   (build the CLI first: npm run build -w @sdq/cli)
# Delete the work dir afterwards: the three model dirs take about 27 GB.
set -euo pipefail
W=${1:-/tmp/sdq-sdxl}
BATCH=${2:-2}
SDQ="node $(pwd)/packages/cli/dist/sdq.js"
mkdir -p "$W"
printf 'a photo of a cat on a sofa\n' > "$W/prompts.txt"
. "$(dirname "$0")/../phase.sh"
[ -f "$W/model/model_index.json" ] || phase fixture $SDQ fixture create --preset sdxl --out "$W/model" --quiet
# FP16 for onnxruntime: attention fused (as sdq bench makes it).
[ -f "$W/fp16/model_index.json" ] && cat "$W/convert-fp16.time" || phase convert-fp16 $SDQ convert "$W/model" "$W/fp16" --to fp16 --fuse-attention --quiet
# Calibrate at 256x256 (32x32 latents): 1 generation x 1 step, 1 UNet input set (memory and path check, not quality).
[ -f "$W/calib/ranges.json" ] && cat "$W/calibrate.time" || phase calibrate $SDQ calibrate "$W/model" --prompts "$W/prompts.txt" --out "$W/calib" --samples 1 --steps 1 --size 256x256 --quiet
[ -f "$W/int8/model_index.json" ] && cat "$W/quantize-int8.time" || phase quantize-int8 $SDQ quantize "$W/model" "$W/int8" --calibration "$W/calib" --quiet
for p in int8 fp16 model; do phase "unet-step-$p" node tools/bench/pipeline/unet-step.mjs "$W/$p" --latent 128 --batch "$BATCH"; done
du -sh "$W/model" "$W/fp16" "$W/int8"
