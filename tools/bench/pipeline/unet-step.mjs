// One UNet step (CFG batch 2) of a model dir on onnxruntime-node CPU: session load time and run time.
// SDXL UNets also get text_embeds and time_ids (original size, crop top-left, target size of the latent's image).
// Usage: node tools/bench/pipeline/unet-step.mjs <model dir> [--latent 64] [--threads 2] [--batch 2]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { latent: { type: 'string', default: '64' }, threads: { type: 'string', default: '2' }, batch: { type: 'string', default: '2' } } });
const dir = positionals[0];
const h = Number(values.latent);
const b = Number(values.batch);
const t0 = performance.now();
const s = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'), { intraOpNumThreads: Number(values.threads), interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const loadMs = performance.now() - t0;
const widthOf = (name) => s.inputMetadata.find((m) => m.name === name)?.shape.at(-1);
const ehsDim = widthOf('encoder_hidden_states');
const sample = new Float32Array(b * 4 * h * h).map((_, i) => Math.sin(i * 0.37));
const feeds = {
  sample: new ort.Tensor('float32', sample, [b, 4, h, h]),
  timestep: new ort.Tensor('float32', new Float32Array(b).fill(500), [b]),
  encoder_hidden_states: new ort.Tensor('float32', new Float32Array(b * 77 * ehsDim).map((_, i) => Math.cos(i * 0.11)), [b, 77, ehsDim]),
};
const textEmbedsDim = widthOf('text_embeds');
if (textEmbedsDim !== undefined) {
  const px = h * 8;
  feeds.text_embeds = new ort.Tensor('float32', new Float32Array(b * textEmbedsDim).map((_, i) => Math.sin(i * 0.05)), [b, textEmbedsDim]);
  feeds.time_ids = new ort.Tensor('float32', Float32Array.from({ length: b * 6 }, (_, i) => [px, px, 0, 0, px, px][i % 6]), [b, 6]);
}
const t1 = performance.now();
const out = await s.run(feeds);
const stepMs = performance.now() - t1;
const o = out[s.outputNames[0]].data;
let finite = 0;
for (const v of o) if (Number.isFinite(v)) finite++;
console.log(JSON.stringify({ dir, latent: h, batch: b, loadMs: Math.round(loadMs), stepMs: Math.round(stepMs), finiteOutputs: finite === o.length, rssGiB: +(process.memoryUsage().rss / 2 ** 30).toFixed(2) }));
