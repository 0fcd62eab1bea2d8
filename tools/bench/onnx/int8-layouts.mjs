/**
 * INT8 QDQ layouts of @sdq/onnx's insertQdq on a builder-made SD-shaped UNet (preset `small`, 64x64 latents, CFG
 * batch 2), timed against FP32 in the same run (interleaved, minimum of N), with SQNR vs FP32.
 * Ranges: min/max over one seeded random input, collected by exposing the needed tensors with addGraphOutputs.
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/int8-layouts.mjs [--preset small] [--size 64] [--runs 7] [--threads 2]
 */
import ort from 'onnxruntime-node';
import { addGraphOutputs, buildSdComponents, convertToFloat16, encodeModel, insertQdqWithReport, Mulberry32, SD_PRESETS } from '../../../packages/onnx/dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const preset = arg('preset', 'small');
const size = Number(arg('size', 64));
const runs = Number(arg('runs', 7));
const threads = Number(arg('threads', 2));
const hidden = SD_PRESETS[preset].unet.crossAttentionDim;

const { unet } = buildSdComponents(preset, { seed: 0 });
const normal = (n, seed) => new Mulberry32(seed).fillNormal(new Float32Array(n));
const feeds = {
  sample: new ort.Tensor('float32', normal(2 * 4 * size * size, 1), [2, 4, size, size]),
  timestep: new ort.Tensor('float32', Float32Array.from([500, 500]), [2]),
  encoder_hidden_states: new ort.Tensor('float32', normal(2 * 77 * hidden, 2), [2, 77, hidden]),
};
const session = (model) => ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 });

// Ranges of every input/output of Conv/MatMul/Gemm nodes (what the layouts below can need).
const wanted = new Set();
for (const n of unet.graph.node) if (['Conv', 'MatMul', 'Gemm'].includes(n.opType)) for (const x of [...n.input, ...n.output]) if (x) wanted.add(x);
for (const t of unet.graph.initializer) wanted.delete(t.name);
const probe = await session(addGraphOutputs(unet, wanted));
const captured = await probe.run(feeds);
const ranges = {};
for (const name of wanted) {
  const d = captured[name]?.data;
  if (!d) continue;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    if (d[i] < lo) lo = d[i];
    if (d[i] > hi) hi = d[i];
  }
  ranges[name] = { min: lo, max: hi };
}
await probe.release?.();

const layouts = [
  ['fp32', unet, null],
  ['fp16 (keepIoTypes)', convertToFloat16(unet, { keepIoTypes: true }), null],
  ['s8s8 Conv, outputs Q/DQ', null, { opTypes: ['Conv'], quantizeOutputs: true }],
  ['s8s8 Conv, inputs only', null, { opTypes: ['Conv'] }],
  ['s8s8 Conv+weight MatMul/Gemm, outputs Q/DQ', null, { quantizeOutputs: true }],
  ['s8s8 Conv+weight MatMul/Gemm, inputs only', null, {}],
  ['u8s8 Conv+MatMul+Gemm incl. attention, outputs Q/DQ', null, { activationType: 'uint8', activationMatMuls: true, quantizeOutputs: true }],
];
const sessions = [];
for (const [label, model, policy] of layouts) {
  let m = model;
  let qdq = '';
  if (policy) {
    const r = insertQdqWithReport(unet, ranges, policy);
    m = r.model;
    qdq = ` (${m.graph.node.filter((n) => n.opType === 'QuantizeLinear').length} Q, ${m.graph.node.filter((n) => n.opType === 'DequantizeLinear').length} DQ)`;
  }
  sessions.push({ label: label + qdq, s: await session(m), times: [] });
}
const ref = (await sessions[0].s.run(feeds)).out_sample.data;
const sqnr = (x) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    n += (ref[i] - x[i]) ** 2;
  }
  return 10 * Math.log10(s / n);
};
const quality = [];
for (const e of sessions) quality.push(sqnr((await e.s.run(feeds)).out_sample.data)); // also a warm-up run
for (let r = 0; r < runs; r++) {
  for (const e of sessions) {
    const t0 = performance.now();
    await e.s.run(feeds);
    e.times.push(performance.now() - t0);
  }
}
const fp32 = Math.min(...sessions[0].times);
console.log(`UNet preset ${preset}, latents ${size}x${size}, batch 2, ${threads} threads, min of ${runs} interleaved runs`);
sessions.forEach((e, i) => {
  const best = Math.min(...e.times);
  console.log(`${e.label.padEnd(72)} ${best.toFixed(0).padStart(6)} ms  x${(best / fp32).toFixed(2)} of fp32  SQNR ${i === 0 ? '   -' : quality[i].toFixed(1)} dB`);
});
