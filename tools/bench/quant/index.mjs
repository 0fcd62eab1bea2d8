// Quantization throughput vs memory copy, measured side by side in one run (the machine is noisy).
// Build first: (cd packages/quant && npx tsup). Usage: node tools/bench/quant/index.mjs [millions of values, default 64] [rounds, default 5]
import { quantize, float32ToFloat16 } from '../../../packages/quant/dist/index.js';

const count = Math.round(Number(process.argv[2] ?? 64) * 1024 * 1024);
const rounds = Number(process.argv[3] ?? 5);

const x = new Float32Array(count);
let seed = 12345;
for (let i = 0; i < count; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  x[i] = (seed / 4294967296 - 0.5) * 8; // activations-like spread, many values within range
}
const copyTarget = new Float32Array(count);
const int8Out = new Int8Array(count);
const halfOut = new Uint16Array(count);
const scale = 8 / 255;

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const best = { copy: Infinity, quant: Infinity, half: Infinity };
// warm up (compiles the WebAssembly kernels, faults in the pages)
copyTarget.set(x);
quantize(x.subarray(0, 1 << 20), scale, 0, 'int8', int8Out);
float32ToFloat16(x.subarray(0, 1 << 20), halfOut);
quantize(x, scale, 0, 'int8', int8Out);
float32ToFloat16(x, halfOut);
for (let r = 0; r < rounds; r++) {
  // interleaved, minimum of each
  best.copy = Math.min(best.copy, time(() => copyTarget.set(x)));
  best.quant = Math.min(best.quant, time(() => quantize(x, scale, 0, 'int8', int8Out)));
  best.copy = Math.min(best.copy, time(() => copyTarget.set(x)));
  best.half = Math.min(best.half, time(() => float32ToFloat16(x, halfOut)));
}
const mb = (count * 4) / 1e6;
const line = (name, ms) => `${name.padEnd(30)} ${ms.toFixed(1).padStart(8)} ms  ${(mb / ms).toFixed(2).padStart(7)} GB/s of float32 input`;
console.log(`values: ${count} (${(count / 1048576).toFixed(0)}M), rounds: ${rounds}, best of each`);
console.log(line('copy (TypedArray.set)', best.copy));
console.log(line('quantize float32 -> int8', best.quant));
console.log(line('float32 -> float16', best.half));
console.log(`ratio quantize/copy speed: ${(best.copy / best.quant).toFixed(2)} (target >= 0.5)`);
console.log(`ratio float16/copy speed:  ${(best.copy / best.half).toFixed(2)} (target >= 0.3)`);
