// INT8 / FP32 (and FP16 / FP32) UNet latency on onnxruntime-node CPU for the `small` preset at 64x64 latents
// (CFG batch 2), INT8 made by sdq's own path (quantizeModelDir: capture -> calibrate -> @sdq/calib's QDQ policy).
// Runs are interleaved and the minimum and median of N are reported (the machine is noisy).
// `int8-fast`: the same calibration set through @sdq/calib's FAST_UNET_INT8_POLICY (MatMul outputs float; quantizeUnet
// fuses attention into MultiHeadAttention for uint8 layouts). `fp32-fused`: the FP32 UNet with that same fusion.
// --dir is reused when it holds a model: use a fresh one after the builder's presets change (a stale dir gave 1.19x).
// Latency is measured in a fresh child process (--measure-only): timed in the process that had just calibrated and
// quantized, the same INT8 UNet read 0.74 of FP32 against 0.60 in a clean process (memory-bound kernels such as
// DequantizeLinear and Transpose, a bigger share of INT8 time, suffered most).
// Usage: node tools/bench/pipeline/unet-int8-ratio.mjs [--runs 9] [--threads 2] [--dir /tmp/sdq-small] [--measure-only]
// Build first: (cd packages/pipeline && npx tsup) and (cd packages/calib && npx tsup).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { convertPath, createFixture, quantizeModelDir, sizeOnDisk } from '../../../packages/pipeline/dist/index.js';
import { FAST_UNET_INT8_POLICY, quantizeUnet, readNpz } from '../../../packages/calib/dist/index.js';
import { sqnr } from '../../../packages/quant/dist/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, threads: { type: 'string', default: '2' }, dir: { type: 'string', default: '/tmp/sdq-bench-small' }, 'measure-only': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const threads = Number(values.threads);
const root = values.dir;
const model = path.join(root, 'model');
const made = path.join(root, 'made');

const fastUnet = path.join(root, 'int8-fast', 'unet', 'model.onnx');
// The FP32 model with the same attention fusion the INT8 one gets (`sdq convert --to fp32 --fuse-attention`): INT8
// against it is the quantization's own share.
const fusedFp32 = path.join(root, 'fp32-fused', 'unet', 'model.onnx');
if (!values['measure-only']) {
  const t0 = performance.now();
  if (!existsSync(path.join(model, 'model_index.json'))) {
    await createFixture('small', model, { tokenizerDir: path.resolve('fixtures/models/tiny-sd/tokenizer') });
  }
  const made0 = performance.now();
  await quantizeModelDir(model, made, {
    precisions: ['fp16', 'int8'],
    // Calibrate at 256x256 (32x32 latents): calibrating at 64x64 latents ran out of memory (23 GB RSS) in
    // collectRanges, which also exposes attention's 4096x4096 score tensors on this preset.
    int8: { prompts: ['a photo of a cat on a sofa', 'a mountain lake at sunrise', 'portrait of an old man, oil painting', 'a red sports car at night'], steps: 4, samples: 12, guidance: 7.5, size: { width: 256, height: 256 } },
    threads,
    onProgress: (e) => e.done === e.total && console.error(`${e.task}: ${e.done}/${e.total} ${e.detail ?? ''}`),
  });
  console.error(`fixture + quantizeModelDir: ${((performance.now() - t0) / 1000).toFixed(1)} s (quantize ${((performance.now() - made0) / 1000).toFixed(1)} s)`);

  // The same calibration set through @sdq/calib's FAST_UNET_INT8_POLICY.
  await quantizeUnet(path.join(model, 'unet', 'model.onnx'), fastUnet, { calibration: path.join(made, 'int8', 'calibration', 'unet_inputs.npz'), policy: FAST_UNET_INT8_POLICY, threads });
  await convertPath(model, path.join(root, 'fp32-fused'), { to: 'fp32', fuseAttention: true });
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure-only', '--runs', String(runs), '--threads', String(threads), '--dir', root], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

// UNet inputs at 64x64 latents (CFG batch 2): text embeddings and timestep from a captured calibration set,
// the latent a seeded N(0,1) draw (what the first denoising step sees).
const npz = await readNpz(path.join(made, 'int8', 'calibration', 'unet_inputs.npz'));
const pick = (name) => (npz instanceof Map ? npz.get(name) : npz[name]);
const ehs = pick('encoder_hidden_states_1');
const ts = pick('timestep_1');
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const sample = new Float32Array(2 * 4 * 64 * 64);
for (let i = 0; i < sample.length; i += 2) {
  const r = Math.sqrt(-2 * Math.log(rand() || 1e-12));
  const a = 2 * Math.PI * rand();
  sample[i] = r * Math.cos(a);
  sample[i + 1] = r * Math.sin(a);
}
const feeds = {
  sample: new ort.Tensor('float32', sample, [2, 4, 64, 64]),
  timestep: new ort.Tensor('float32', new Float32Array(ts.data), ts.dims),
  encoder_hidden_states: new ort.Tensor('float32', new Float32Array(ehs.data), ehs.dims),
};
console.error(`inputs: sample [${feeds.sample.dims}], encoder_hidden_states [${feeds.encoder_hidden_states.dims}]`);

const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] };
const sessions = {
  fp32: await ort.InferenceSession.create(path.join(model, 'unet', 'model.onnx'), opts),
  'fp32-fused': await ort.InferenceSession.create(fusedFp32, opts),
  fp16: await ort.InferenceSession.create(path.join(made, 'fp16', 'unet', 'model.onnx'), opts),
  int8: await ort.InferenceSession.create(path.join(made, 'int8', 'unet', 'model.onnx'), opts),
  'int8-fast': await ort.InferenceSession.create(fastUnet, opts),
};
const files = { fp32: path.join(model, 'unet', 'model.onnx'), 'fp32-fused': fusedFp32, fp16: path.join(made, 'fp16', 'unet', 'model.onnx'), int8: path.join(made, 'int8', 'unet', 'model.onnx'), 'int8-fast': fastUnet };
const outputs = {};
const times = Object.fromEntries(Object.keys(sessions).map((p) => [p, []]));
for (const p of Object.keys(sessions)) outputs[p] = (await sessions[p].run(feeds)).out_sample.data; // warm-up
for (let r = 0; r < runs; r++) {
  for (const p of Object.keys(sessions)) {
    const s = performance.now();
    await sessions[p].run(feeds);
    times[p].push(performance.now() - s);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const min = (a) => Math.min(...a);
const rows = [];
for (const p of Object.keys(sessions)) {
  rows.push({
    precision: p,
    'min ms': min(times[p]).toFixed(1),
    'median ms': med(times[p]).toFixed(1),
    'min ratio vs FP32': (min(times[p]) / min(times.fp32)).toFixed(3),
    'median ratio vs FP32': (med(times[p]) / med(times.fp32)).toFixed(3),
    'SQNR dB': p === 'fp32' ? '-' : sqnr(outputs.fp32, outputs[p]).toFixed(1),
    'UNet size MB': ((await sizeOnDisk(path.dirname(files[p]))) / 2 ** 20).toFixed(1),
  });
}
console.table(rows);
console.log(JSON.stringify({ runs, threads, ratioInt8Min: min(times.int8) / min(times.fp32), ratioInt8Median: med(times.int8) / med(times.fp32), ratioInt8FastMin: min(times['int8-fast']) / min(times.fp32), ratioInt8FastMedian: med(times['int8-fast']) / med(times.fp32), ratioFp16Min: min(times.fp16) / min(times.fp32), ratioInt8FastVsFusedFp32Min: min(times['int8-fast']) / min(times['fp32-fused']), ratioInt8FastVsFusedFp32Median: med(times['int8-fast']) / med(times['fp32-fused']), target: 0.5 }));
