#!/usr/bin/env bash
# The job queue on the GPU machine (issue 15 with --device webgpu), after `source .device-kit/setup.sh`:
#  1. a loopback redis-server from Debian's packages carried in .device-kit/redis/ (unpacked to /tmp/redis, not /)
#  2. sd15-size fixture; `sdq calibrate --device webgpu` in one process, then the same on the queue with 2
#     `sdq worker --device webgpu` processes: ranges.json compared byte for byte
#  3. `sdq bench --sweep` on the queue (1 worker, so cells do not share the GPU while timed), rerun (every cell
#     reused), and the same sweep in process: rows compared
# The kit needs BullMQ and ioredis: device-node-kit pngjs adm-zip bullmq ioredis <their dependencies> (docs/results.md).
# Usage: tools/bench/gpu/queue-webgpu.sh   (W = work dir, OUT = results folder; PRESET, DEVICE, CAL_SIZE, SIZE, STEPS
# shrink it for a dry run on the CPU: PRESET=tiny DEVICE=cpu CAL_SIZE=64x64 SIZE=64x64 STEPS=2)
set -euo pipefail
W=${W:-/tmp/sdq-gpu-queue}; OUT=${OUT:-out}; PRESET=${PRESET:-sd15}; DEVICE=${DEVICE:-webgpu}
CAL_SIZE=${CAL_SIZE:-256x256}; SIZE=${SIZE:-512x512}; STEPS=${STEPS:-25}
SDQ="node packages/cli/dist/sdq.js"
mkdir -p "$W" "$OUT"
R=/tmp/redis; mkdir -p "$R"; for f in .device-kit/redis/*.deb; do dpkg -x "$f" "$R"; done
LD_LIBRARY_PATH="$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" "$R/usr/bin/redis-server" --port 6390 --bind 127.0.0.1 \
  --dir "$W" --save '' --appendonly no --daemonize yes --logfile "$W/redis.log"
Q=redis://127.0.0.1:6390
trap 'LD_LIBRARY_PATH="$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" "$R/usr/bin/redis-cli" -p 6390 shutdown nosave >/dev/null 2>&1 || true' EXIT
t() { local s=$(date +%s%N); "$@"; echo "  ($(( ($(date +%s%N) - s) / 1000000 )) ms: $*)" | cut -c1-220; }
[ -f "$W/$PRESET/model_index.json" ] || t $SDQ fixture create --preset $PRESET --out "$W/$PRESET" --quiet

CAL=(--samples 2 --steps 2 --size "$CAL_SIZE" --device "$DEVICE" --quiet)
t $SDQ calibrate "$W/$PRESET" "${CAL[@]}" --out "$W/cal-single" --json > "$OUT/cal-single.json"
workers=()
for i in 1 2; do $SDQ worker --queue "$Q" --device "$DEVICE" --work-dir "$W/worker$i" > "$OUT/worker$i.log" 2>&1 & workers+=($!); done
t $SDQ calibrate "$W/$PRESET" "${CAL[@]}" --out "$W/cal-queue" --queue "$Q" --shard-store "$W/store" --json > "$OUT/cal-queue.json"
cmp "$W/cal-single/ranges.json" "$W/cal-queue/ranges.json" && echo "calibration ranges: queue (2 webgpu workers) = one process, byte for byte" | tee "$OUT/cal-compare.txt" \
  || echo "calibration ranges DIFFER between the queue and one process" | tee "$OUT/cal-compare.txt"
kill "${workers[1]}"; wait "${workers[1]}" 2>/dev/null || true

cat > "$W/sweep.json" <<JSON
{ "model": "$W/$PRESET", "device": "$DEVICE", "precisions": ["fp32", "fp16", "int8"], "schedulers": ["ddim"], "steps": [$STEPS],
  "sizes": ["$SIZE"], "prompt": "a cat on a sofa", "guidance": 7.5, "runs": 3, "warmup": 1 }
JSON
SW=(--sweep "$W/sweep.json" --cache "$W/cache" --json)
t $SDQ bench "${SW[@]}" --queue "$Q" --shard-store "$W/store" --report "$W/sweep-queue" > "$OUT/sweep-queue.json"
t $SDQ bench "${SW[@]}" --queue "$Q" --shard-store "$W/store" --report "$W/sweep-rerun" > "$OUT/sweep-rerun.json"
kill "${workers[0]}"; wait "${workers[0]}" 2>/dev/null || true
t $SDQ bench "${SW[@]}" --report "$W/sweep-single" > "$OUT/sweep-single.json"
cp "$W/sweep-queue/report.md" "$OUT/sweep-queue.md"; cp "$W/sweep-single/report.md" "$OUT/sweep-single.md"
for p in "$W"/sweep-queue/*.png; do cmp "$p" "$W/sweep-single/$(basename "$p")" && echo "same image: $(basename "$p")"; done | tee "$OUT/sweep-compare.txt"
