// Interleaved UNet latency of several models against the first one (FP32), onnxruntime-node CPU, minimum of N runs.
// The machine is shared and noisy: every round runs each model once, in turn, and the minimum per model is compared.
// Usage: node tools/bench/calib/unet-latency.mjs [--runs 41] [--threads 2] [--npz inputs.npz] [--set 0] fp32.onnx name=int8.onnx ...
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { npzSampleSource } from '../../../packages/calib/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const take = (name, fallback) => { const i = args.indexOf(`--${name}`); if (i < 0) return fallback; const v = args[i + 1]; args.splice(i, 2); return v; };
const runs = Number(take('runs', 41));
const threads = Number(take('threads', 2));
const npz = take('npz', join(root, 'fixtures/quant/shapes_unet_calibration_inputs.npz'));
const set = Number(take('set', 0));
ort.env.logLevel = 'error';
const models = args.map((a, i) => (a.includes('=') ? a.split('=') : [i === 0 ? 'fp32' : a, a]));
const source = await npzSampleSource(npz);
const feeds = Object.fromEntries(Object.entries(await source.load(set)).map(([k, v]) => [k, new ort.Tensor('float32', v.data, [...v.dims])]));
await source.close();
const sessions = [];
for (const [name, path] of models) sessions.push([name, await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 })]);
for (const [, s] of sessions) await s.run(feeds);
const times = sessions.map(() => []);
for (let r = 0; r < runs; r++) {
  for (let i = 0; i < sessions.length; i++) {
    const t = performance.now();
    await sessions[i][1].run(feeds);
    times[i].push(performance.now() - t);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const base = Math.min(...times[0]);
console.log(`${runs} interleaved runs, ${threads} threads, input set ${set} (${feeds.sample.dims.join('x')})`);
console.log('| model | min ms | median ms | min vs first |');
console.log('|---|---|---|---|');
sessions.forEach(([name], i) => console.log(`| ${name} | ${Math.min(...times[i]).toFixed(2)} | ${med(times[i]).toFixed(2)} | ${(Math.min(...times[i]) / base).toFixed(3)} |`));
