#!/usr/bin/env bash
# sdq's INT8 UNet against onnxruntime's own quantizer (quantize_static, Python, in the trixie chroot of
# setup-trixie.sh) on one SDXL model: both calibrated on the same captured UNet inputs (sdq calibrate's
# unet_inputs.npz), then held-out SQNR against FP32 and one CFG step at 128x128 latents on the CPU, side by side in
# one process (compare-int8.mjs). Each phase is its own process under /usr/bin/time (peak RSS) with the
# memory watchdog of tools/bench/phase.sh; finished phases are reused when the script is run again.
# Usage (as root: the chroot; run big models under flock /work/notes/bigjob.lock):
#   tools/bench/ort/compare-sdxl.sh <work dir> [model: a model dir | mid | sdxl] [rounds, default 2]
#   mid = tools/bench/ort/sdxl-shaped-fixture.mjs --width 192 (SDXL's structure at 192/384/768, 1.0B-param UNet);
#   sdxl = sdq fixture create --preset sdxl (2.57B, 10.3 GB FP32 UNet).
# Env: SIZE (calibration and held-out image size, default 256x256), STEPS (4), SAMPLES (8), LATENT (128),
#      PHASES (default all: calibrate quantize variants fused ort ort-fused compare), KEEP_SESSIONS=1 (every model's
#      session held through the rounds: steadier for small models; SDXL-sized ones need one at a time).
# Rows: fp32 (as built), fp32-fused (attention as MultiHeadAttention: the lossless part of sdq's layout),
# sdq (sdq quantize with its defaults: the recipe for the dir's family), sdq-default / sdq-fast (tools/bench/ort/sdq-variants.mjs: the
# layouts without the SDXL float layers; sdq-fast-shortcut is made for SQNR runs: with Gemm float it is the sdq row),
# ort (quantize_static on the FP32 model as built, sdq's settings: Conv + weight MatMuls, U8 per-tensor
# activations, S8 per-channel weights, percentile 99.999 asymmetric, conv_in/conv_out/time embedding float),
# ort-fused (the same on the attention-fused FP32 model).
set -euo pipefail
W=${1:?usage: compare-sdxl.sh <work dir> [model dir | mid | sdxl] [rounds]}
SRC=${2:-mid}
RUNS=${3:-2}
SIZE=${SIZE:-256x256}; STEPS=${STEPS:-4}; SAMPLES=${SAMPLES:-8}; LATENT=${LATENT:-128}
PHASES=${PHASES:-calibrate quantize variants fused ort ort-fused compare}
HERE=$(cd "$(dirname "$0")" && pwd)
SDQ="node $(pwd)/packages/cli/dist/sdq.js"
mkdir -p "$W"
. "$HERE/../phase.sh"
want() { [[ " $PHASES " == *" $1 "* ]]; }
case "$SRC" in
  mid) MODEL=$W/model; [ -f "$MODEL/model_index.json" ] || phase fixture node "$HERE/sdxl-shaped-fixture.mjs" "$MODEL" --width 192 ;;
  sdxl) MODEL=$W/model; [ -f "$MODEL/model_index.json" ] || phase fixture $SDQ fixture create --preset sdxl --out "$MODEL" --quiet ;;
  *) MODEL=$(realpath "$SRC") ;;
esac
UNET=$MODEL/unet/model.onnx
FLOAT_LAYERS=(--exclude-regex '(^|/)conv_in(/|$)' --exclude-regex '(^|/)conv_out(/|$)' --exclude-regex '(^|/)time_embedding(/|$)' --const-b-matmuls-only)
ORT_BIND="/tmp $(realpath "$W") $(dirname "$MODEL")"; export ORT_BIND
"$HERE/setup-trixie.sh" > "$W/setup-trixie.log" 2>&1 || { echo "setup-trixie.sh failed: $W/setup-trixie.log"; exit 1; }
if want calibrate && [ ! -f "$W/calib/ranges.json" ]; then phase calibrate $SDQ calibrate "$MODEL" --out "$W/calib" --size "$SIZE" --steps "$STEPS" --samples "$SAMPLES" --quiet; fi
if want quantize && [ ! -f "$W/sdq-int8/model_index.json" ]; then phase quantize $SDQ quantize "$MODEL" "$W/sdq-int8" --calibration "$W/calib" --quiet; fi
if want variants && [ ! -f "$W/variants/fast-shortcut/model.onnx" ]; then phase variants node "$HERE/sdq-variants.mjs" "$UNET" "$W/calib" "$W/variants" default fast fast-shortcut; fi
if want fused && [ ! -f "$W/fp32-fused/model.onnx" ]; then phase fused $SDQ convert "$UNET" "$W/fp32-fused/model.onnx" --to fp32 --fuse-attention --quiet; fi
if want ort && [ ! -f "$W/ort-int8/model.onnx" ]; then phase ort "$HERE/in-chroot.sh" python3 "$HERE/quantize_static.py" --model "$UNET" --calibration "$W/calib/unet_inputs.npz" --out "$W/ort-int8/model.onnx" "${FLOAT_LAYERS[@]}"; fi
if want ort-fused && [ ! -f "$W/ort-int8-fused/model.onnx" ]; then phase ort-fused "$HERE/in-chroot.sh" python3 "$HERE/quantize_static.py" --model "$W/fp32-fused/model.onnx" --calibration "$W/calib/unet_inputs.npz" --out "$W/ort-int8-fused/model.onnx" "${FLOAT_LAYERS[@]}"; fi
if want compare; then
  rows=(fp32="$UNET")
  [ -f "$W/fp32-fused/model.onnx" ] && rows+=(fp32-fused="$W/fp32-fused/model.onnx")
  [ -f "$W/sdq-int8/unet/model.onnx" ] && rows+=(sdq="$W/sdq-int8/unet/model.onnx")
  for v in default fast; do [ -f "$W/variants/$v/model.onnx" ] && rows+=(sdq-$v="$W/variants/$v/model.onnx"); done
  [ -f "$W/ort-int8/model.onnx" ] && rows+=(ort="$W/ort-int8/model.onnx")
  [ -f "$W/ort-int8-fused/model.onnx" ] && rows+=(ort-fused="$W/ort-int8-fused/model.onnx")
  phase compare node "$HERE/compare-int8.mjs" --held-out "$W/held-out.npz" --capture "$MODEL" --capture-size "$SIZE" --capture-steps "$STEPS" --latent "$LATENT" --runs "$RUNS" ${KEEP_SESSIONS:+--keep-sessions} --json "$W/compare.json" "${rows[@]}"
  grep '^|' "$W/compare.log"
fi
du -sh "$W"
