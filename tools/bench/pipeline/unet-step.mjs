// One UNet step (CFG batch 2) of a model dir on onnxruntime-node CPU: session load time and run time.
// Usage: node tools/bench/pipeline/unet-step.mjs <model dir> [--latent 64] [--threads 2]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { latent: { type: 'string', default: '64' }, threads: { type: 'string', default: '2' } } });
const dir = positionals[0];
const h = Number(values.latent);
const t0 = performance.now();
const s = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'), { intraOpNumThreads: Number(values.threads), interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const loadMs = performance.now() - t0;
const ehsDim = s.inputMetadata.find((m) => m.name === 'encoder_hidden_states').shape.at(-1);
const sample = new Float32Array(2 * 4 * h * h).map((_, i) => Math.sin(i * 0.37));
const feeds = {
  sample: new ort.Tensor('float32', sample, [2, 4, h, h]),
  timestep: new ort.Tensor('float32', new Float32Array([500, 500]), [2]),
  encoder_hidden_states: new ort.Tensor('float32', new Float32Array(2 * 77 * ehsDim).map((_, i) => Math.cos(i * 0.11)), [2, 77, ehsDim]),
};
const t1 = performance.now();
const out = await s.run(feeds);
const stepMs = performance.now() - t1;
const o = out[s.outputNames[0]].data;
let finite = 0;
for (const v of o) if (Number.isFinite(v)) finite++;
console.log(JSON.stringify({ dir, latent: h, loadMs: Math.round(loadMs), stepMs: Math.round(stepMs), finiteOutputs: finite === o.length, rssGiB: +(process.memoryUsage().rss / 2 ** 30).toFixed(2) }));
