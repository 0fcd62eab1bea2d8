/**
 * Write an SD-shaped synthetic model dir with @sdq/onnx's builder and report time, peak memory and sizes.
 * The weights stream into unet/weights.pb (and text_encoder/weights.pb above 256 MiB), so peak RSS should stay far
 * below the model's weight bytes even for the sd15 preset (3.4 GB UNet).
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/sd-model-write.mjs [--preset sd15] [--out /tmp/sdq-sd15] [--keep]
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSdModelDir } from '../../../packages/onnx/dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const preset = arg('preset', 'small');
const out = arg('out', `/tmp/sdq-${preset}-${process.pid}`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const t0 = performance.now();
const summary = writeSdModelDir(out, preset, { overwrite: true });
const seconds = (performance.now() - t0) / 1000;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
clearInterval(sampler);

const bytes = Object.fromEntries(summary.files.map((f) => [f, statSync(join(out, f)).size]));
const weightBytes = (summary.parameters.unet + summary.parameters.textEncoder + summary.parameters.vaeDecoder) * 4;
console.log(JSON.stringify({ preset, seconds: +seconds.toFixed(1), parameters: summary.parameters, weightBytes, peakRssBytes: peakRss, peakRssOverWeights: +(peakRss / weightBytes).toFixed(3), files: bytes }, null, 2));
console.log(`note: the RSS sampler runs between synchronous steps only, so it can miss a short peak; use /usr/bin/time -v for the exact max RSS`);
if (!process.argv.includes('--keep')) rmSync(out, { recursive: true, force: true });
