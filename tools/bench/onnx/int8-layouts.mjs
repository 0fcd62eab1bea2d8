/**
 * INT8 QDQ layouts of @sdq/onnx's insertQdq on a builder-made SD-shaped UNet (preset `small`, 64x64 latents, CFG
 * batch 2), timed against FP32 in the same run (interleaved, minimum of N), with SQNR vs FP32.
 * Ranges: min/max over one seeded random input, collected by exposing the needed tensors with addGraphOutputs.
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/int8-layouts.mjs [--preset small] [--size 64] [--runs 7] [--threads 2]
 */
import ort from 'onnxruntime-node';
import { sqnr as sqnrOf } from '../../../packages/quant/dist/index.js';
import { arg, probeRanges, unetFeeds } from './unet-setup.mjs';
import { buildSdComponents, convertToFloat16, encodeModel, insertQdqWithReport } from '../../../packages/onnx/dist/index.js';

const preset = arg('preset', 'small');
const size = Number(arg('size', 64));
const runs = Number(arg('runs', 7));
const threads = Number(arg('threads', 2));

const { unet } = buildSdComponents(preset, { seed: 0 });
const feeds = unetFeeds(preset, size);
const session = (model) => ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 });

// Ranges of every input/output of Conv/MatMul/Gemm nodes (what the layouts below can need).
const ranges = await probeRanges(unet, feeds, { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 });

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
const sqnr = (x) => sqnrOf(ref, x);
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
