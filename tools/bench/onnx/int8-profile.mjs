/**
 * Where the time goes: onnxruntime's profiler (sessionOptions.enableProfiling) on the builder's SD-shaped UNet
 * (preset `small`, 64x64 latents, CFG batch 2), FP32 vs INT8 QDQ layouts of @sdq/onnx's insertQdq. Sums the
 * kernel times of the profiled runs by op type (after onnxruntime's graph fusions, e.g. QLinearConv), and times every
 * layout interleaved against FP32 (minimum of --runs) with SQNR vs FP32.
 * Ranges: min/max over one seeded random input (addGraphOutputs), as in int8-layouts.mjs.
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/int8-profile.mjs [--layouts 'a;b'] [--runs 9] [--profile-runs 3] [--threads 2]
 *     [--size 64] [--preset small] [--top N: slowest nodes per layout] [--files 'label=model.onnx;...': also profile files]
 *     [--session-config '{"intra_op":{"allow_spinning":"0"}}': onnxruntime session config keys under session.*]
 *   --profile-runs 0 skips profiling (latency only). Profiling slows every run: compare shares, not ms.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { sqnr as sqnrOf } from '../../../packages/quant/dist/index.js';
import { arg, probeRanges, unetFeeds } from './unet-setup.mjs';
import { buildSdComponents, encodeModel, insertQdqWithReport } from '../../../packages/onnx/dist/index.js';

const preset = arg('preset', 'small');
const size = Number(arg('size', 64));
const runs = Number(arg('runs', 9));
const profileRuns = Number(arg('profile-runs', 3));
const threads = Number(arg('threads', 2));
const SKIP_IO = [/(^|\/)conv_in(\/|$)/, /(^|\/)conv_out(\/|$)/, /(^|\/)time_embedding(\/|$)/];

const { unet } = buildSdComponents(preset, { seed: 0 });
const feeds = unetFeeds(preset, size);
const baseOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };

const ranges = await probeRanges(unet, feeds, baseOptions);

const u8 = { activationType: 'uint8', perChannel: true, quantizeOutputs: true, bias: 'int32', skipNodes: SKIP_IO, missingRange: 'skip-node' };
const LAYOUTS = {
  fp32: { policy: null },
  'default (u8 Conv+wMatMul, out Q/DQ)': { policy: { ...u8, opTypes: ['Conv', 'MatMul'] } },
  'u8 Conv+allMatMul, out Q/DQ': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], activationMatMuls: true } },
  'u8 Conv only, out Q/DQ': { policy: { ...u8, opTypes: ['Conv'] } },
  'u8 Conv+allMatMul+Gemm, out Q/DQ, skip nothing': { policy: { ...u8, opTypes: ['Conv', 'MatMul', 'Gemm'], activationMatMuls: true, skipNodes: [] } },
  'u8 Conv+allMatMul, per-tensor': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], activationMatMuls: true, perChannel: false } },
  'u8 Conv+wMatMul, per-tensor': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], perChannel: false } },
  'u8 Conv+wMatMul, to_q/to_k outputs float': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], floatOutputNodes: [/\/to_[qk]\//] } },
  'u8 Conv+wMatMul, to_q/k/v outputs float': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], floatOutputNodes: [/\/to_[qkv]\//] } },
  'FAST + attn.V quantized': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], activationMatMuls: true, skipNodes: [...SKIP_IO, /\/attn\d\/MatMul$/], floatOutputNodes: [/\/to_[qk]\//] } },
  'FAST + attn.V and Q.K^T quantized': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], activationMatMuls: true, floatOutputNodes: [/\/to_[qk]\//] } },
  'u8 Conv+wMatMul, MatMul outputs float': { policy: { ...u8, opTypes: ['Conv', 'MatMul'], floatOutputNodes: (n) => n.opType === 'MatMul' } },
  's8 Conv+allMatMul, out Q/DQ': { policy: { ...u8, activationType: 'int8', opTypes: ['Conv', 'MatMul'], activationMatMuls: true } },
};
// --files 'label=path;...': also profile model files (e.g. the INT8 UNet that quantizeModelDir wrote).
for (const spec of arg('files', '').split(';').filter(Boolean)) {
  const [label, file] = spec.split('=');
  LAYOUTS[label] = { file };
}
const chosen = arg('layouts', undefined)?.split(';') ?? Object.keys(LAYOUTS);
for (const label of Object.keys(LAYOUTS)) if (LAYOUTS[label].file && !chosen.includes(label)) chosen.push(label);
if (!chosen.includes('fp32')) chosen.unshift('fp32');

const extra = JSON.parse(arg('session-config', '{}'));
const sessions = [];
for (const label of chosen) {
  const l = LAYOUTS[label];
  if (!l) throw new Error(`unknown layout ${label}; have: ${Object.keys(LAYOUTS).join(' | ')}`);
  let m = unet;
  let qdq = '';
  if (l.policy) {
    m = insertQdqWithReport(unet, ranges, l.policy).model;
    qdq = ` (${m.graph.node.filter((n) => n.opType === 'QuantizeLinear').length} Q)`;
  }
  const bytes = l.file ?? encodeModel(m);
  const opts = { ...baseOptions, extra: { session: { ...extra } } };
  sessions.push({ label: label + qdq, bytes, s: await ort.InferenceSession.create(bytes, opts), times: [] });
}

// 1. Profiles: one extra session per layout with enableProfiling; sum node kernel times by op type.
const profiles = [];
for (const e of profileRuns > 0 ? sessions : []) {
  const prefix = `/tmp/sdq-int8-profile-${process.pid}-${profiles.length}`;
  const s = await ort.InferenceSession.create(e.bytes, { ...baseOptions, enableProfiling: true, profileFilePrefix: prefix });
  await s.run(feeds); // warm-up, dropped below
  for (let r = 0; r < profileRuns; r++) await s.run(feeds);
  s.endProfiling(); // writes <prefix>_<date>.json; onnxruntime-node does not return the name
  await s.release?.();
  const base = prefix.slice(prefix.lastIndexOf('/') + 1);
  const file = (await readdir('/tmp')).filter((f) => f.startsWith(`${base}_`)).map((f) => `/tmp/${f}`)[0];
  const trace = JSON.parse(await readFile(file, 'utf8'));
  await rm(file, { force: true });
  const runsSeen = trace.filter((x) => x.cat === 'Session' && x.name === 'model_run');
  const keep = runsSeen.slice(1); // drop the warm-up run
  const inKept = (ts) => keep.some((r) => ts >= r.ts && ts <= r.ts + r.dur);
  const byOp = {};
  const byNode = {};
  let total = 0;
  for (const x of trace) {
    if (x.cat !== 'Node' || !x.name.endsWith('_kernel_time') || !inKept(x.ts)) continue;
    const op = x.args?.op_name ?? '?';
    byOp[op] = (byOp[op] ?? 0) + x.dur / 1000 / keep.length;
    const node = `${op} ${x.name.slice(0, -'_kernel_time'.length)}`;
    byNode[node] = (byNode[node] ?? 0) + x.dur / 1000 / keep.length;
    total += x.dur / 1000 / keep.length;
  }
  const runMs = keep.reduce((a, r) => a + r.dur, 0) / 1000 / keep.length;
  profiles.push({ label: e.label, byOp, total, runMs });
  const top = Number(arg('top', 0));
  if (top > 0) {
    console.log(`\ntop ${top} nodes, ${e.label}:`);
    for (const [n, ms] of Object.entries(byNode).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${n}`);
  }
}
const ops = [...new Set(profiles.flatMap((p) => Object.keys(p.byOp)))].sort((a, b) => Math.max(...profiles.map((p) => p.byOp[b] ?? 0)) - Math.max(...profiles.map((p) => p.byOp[a] ?? 0)));
if (profileRuns > 0) console.log(`\nProfile: mean ms per run by op type (kernel time, ${profileRuns} runs after a warm-up), preset ${preset}, ${size}x${size} latents, batch 2, ${threads} threads`);
console.log(`| op type | ${profiles.map((p) => p.label).join(' | ')} |`);
console.log(`|---|${profiles.map(() => '---').join('|')}|`);
for (const op of ops) console.log(`| ${op} | ${profiles.map((p) => (p.byOp[op] === undefined ? '-' : p.byOp[op].toFixed(1))).join(' | ')} |`);
console.log(`| **sum of kernels** | ${profiles.map((p) => p.total.toFixed(1)).join(' | ')} |`);
console.log(`| model_run (profiled) | ${profiles.map((p) => p.runMs.toFixed(1)).join(' | ')} |`);

// 2. Latency interleaved + SQNR.
const ref = (await sessions[0].s.run(feeds)).out_sample.data;
const sqnr = (x) => sqnrOf(ref, x);
const quality = [];
for (const e of sessions) quality.push(sqnr((await e.s.run(feeds)).out_sample.data));
for (let r = 0; r < runs; r++) {
  for (const e of sessions) {
    const t0 = performance.now();
    await e.s.run(feeds);
    e.times.push(performance.now() - t0);
  }
}
const fp32 = Math.min(...sessions[0].times);
console.log(`\nLatency: min of ${runs} interleaved runs, session config ${JSON.stringify(extra)}`);
sessions.forEach((e, i) => {
  const best = Math.min(...e.times);
  console.log(`${e.label.padEnd(60)} ${best.toFixed(0).padStart(6)} ms  x${(best / fp32).toFixed(2)} of fp32  SQNR ${i === 0 ? '   -' : quality[i].toFixed(1)} dB`);
});
