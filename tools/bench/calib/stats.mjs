// Activation-statistics throughput and memory of @sdq/calib's collectRanges on the tiny UNet.
// Throughput = calibrated tensors x samples / second; peak RSS is measured in a fresh child process per run, so the
// numbers can be compared against the calibration data size (samples x bytes per UNet input set).
// Build first: (cd packages/quant && npx tsup) && (cd packages/onnx && npx tsup) && (cd packages/calib && npx tsup)
// Usage: node tools/bench/calib/stats.mjs [--methods minmax,entropy,percentile] [--samples 8,32,128]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), '../../..');
const MODEL = join(root, 'fixtures/models/tiny-sd/unet/model.onnx');
const NPZ = join(root, 'fixtures/quant/unet_calibration_inputs.npz');

if (process.argv[2] === '--child') {
  const [method, samples] = [process.argv[3], Number(process.argv[4])];
  const { openCalibrationData, collectRanges } = await import(join(root, 'packages/calib/dist/index.js'));
  // The fixture has 8 input sets; larger data sets cycle through them (same cost per sample as new data).
  const indices = Array.from({ length: samples }, (_, i) => i % 8);
  const reader = await openCalibrationData(NPZ, { indices });
  let bytesPerSample = 0;
  for await (const f of reader) {
    bytesPerSample = Object.values(f).reduce((s, t) => s + t.data.byteLength, 0);
    break;
  }
  const t0 = performance.now();
  const r = await collectRanges(MODEL, reader, { method, threads: 2 });
  const seconds = (performance.now() - t0) / 1000;
  await reader.close();
  const tensors = Object.keys(r.ranges).length;
  console.log(JSON.stringify({ method, samples, tensors, seconds, tensorSamplesPerSecond: (tensors * samples) / seconds, dataBytes: bytesPerSample * samples, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
} else {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
  const methods = opt('methods', 'minmax,entropy,percentile').split(',');
  const sizes = opt('samples', '8,32,128').split(',').map(Number);
  console.log('| method | samples | data MB | tensors | seconds | tensors x samples / s | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const method of methods) {
    for (const samples of sizes) {
      const out = execFileSync(process.execPath, [here, '--child', method, String(samples)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(out.trim().split('\n').pop());
      console.log(`| ${method} | ${samples} | ${(r.dataBytes / 1e6).toFixed(2)} | ${r.tensors} | ${r.seconds.toFixed(2)} | ${Math.round(r.tensorSamplesPerSecond)} | ${(r.peakRssBytes / 1e6).toFixed(0)} |`);
    }
  }
}
