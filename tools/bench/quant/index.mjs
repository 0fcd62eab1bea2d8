// Quantization throughput vs memory copy, measured side by side in one run (the machine is noisy).
// Build first: (cd packages/quant && npx tsup). Usage: node tools/bench/quant/index.mjs [millions of values, default 64] [rounds, default 11]
// Each round times, interleaved: a TypedArray.prototype.set copy of the 64M float32 values, quantize -> int8 (per
// tensor), another copy, float32 -> float16. The best of each is kept, both as wall time and as this process's CPU
// time (process.cpuUsage: less disturbed when other jobs share the cores). Ratio = copy time / operation time.
import { quantize, quantizeReference, float32ToFloat16, float32BitsToFloat16Bits } from '../../../packages/quant/dist/index.js';

const count = Math.round(Number(process.argv[2] ?? 64) * 1024 * 1024);
const rounds = Number(process.argv[3] ?? 11);

const x = new Float32Array(count);
let seed = 12345;
for (let i = 0; i < count; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  x[i] = (seed / 4294967296 - 0.5) * 8; // activation-like spread: most values inside the int8 range, some saturate
}
const copyTarget = new Float32Array(count);
const int8Out = new Int8Array(count);
const halfOut = new Uint16Array(count);
const scale = Math.fround(6 / 255);

function time(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}
const keep = (best, t) => ({ wall: Math.min(best.wall, t.wall), cpu: Math.min(best.cpu, t.cpu) });

// warm up: compiles the WebAssembly kernels, faults in every page of the outputs
copyTarget.set(x);
quantize(x, scale, 0, 'int8', int8Out);
float32ToFloat16(x, halfOut);

// spot check against the scalar reference (the tests do this exhaustively)
const probe = x.subarray(0, 1 << 20);
const ref = quantizeReference(probe, scale, 0, 'int8');
for (let i = 0; i < probe.length; i++) if (ref[i] !== int8Out[i]) throw new Error(`quantize mismatch at ${i}`);
const probeBits = new Uint32Array(probe.buffer, probe.byteOffset, probe.length);
for (let i = 0; i < probe.length; i++) if (float32BitsToFloat16Bits(probeBits[i]) !== halfOut[i]) throw new Error(`float16 mismatch at ${i}`);

let copy = { wall: Infinity, cpu: Infinity };
let quant = { wall: Infinity, cpu: Infinity };
let half = { wall: Infinity, cpu: Infinity };
for (let r = 0; r < rounds; r++) {
  copy = keep(copy, time(() => copyTarget.set(x)));
  quant = keep(quant, time(() => quantize(x, scale, 0, 'int8', int8Out)));
  copy = keep(copy, time(() => copyTarget.set(x)));
  half = keep(half, time(() => float32ToFloat16(x, halfOut)));
}
const mb = (count * 4) / 1e6;
const line = (name, t) => `${name.padEnd(28)} wall ${t.wall.toFixed(1).padStart(7)} ms (${(mb / t.wall).toFixed(2).padStart(5)} GB/s)   cpu ${t.cpu.toFixed(1).padStart(7)} ms`;
console.log(`values: ${count} (${(count / 1048576).toFixed(0)}M float32, ${mb.toFixed(0)} MB), rounds: ${rounds}, best of each`);
console.log(line('copy (TypedArray.set)', copy));
console.log(line('quantize float32 -> int8', quant));
console.log(line('float32 -> float16', half));
const ratio = (op) => `wall ${(copy.wall / op.wall).toFixed(2)}, cpu ${(copy.cpu / op.cpu).toFixed(2)}`;
console.log(`ratio quantize/copy speed: ${ratio(quant)}   (target >= 0.5)`);
console.log(`ratio float16/copy speed:  ${ratio(half)}   (target >= 0.3)`);
