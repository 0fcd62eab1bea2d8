// INT8 UNets against their FP32 UNet, side by side in one process: SQNR of the outputs on held-out UNet inputs
// (inputs from prompts and seeds no calibration used) and CPU latency of one CFG step (batch 2) at --latent, every
// model run once per round in turn, minimum over --runs rounds, ratio to the first model (FP32) of the same run.
// Usage: node tools/bench/ort/compare-int8.mjs --held-out <npz> [--capture <model dir>] [--latent 128] [--runs 2]
//        [--threads 2] [--json <file>] [--keep-sessions] fp32=<unet.onnx> <name>=<unet.onnx> ...
// --capture: when <npz> is missing, capture it first from FP32 generations of <model dir> (HELD_OUT_PROMPTS below,
// seeds 1000.., DDIM --capture-steps steps at --capture-size; build @sdq/pipeline first). SQNR = 10 log10(sum ref^2 /
// sum (ref - int8)^2) over all sets' outputs together, as docs/calibration.md; the mean of per-set SQNRs too.
// --runs 0 skips the latency part, --no-sqnr the SQNR part. Sessions are opened per run (one model in memory at a
// time) unless --keep-sessions.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sqnr } from '@sdq/quant';
import { npzSampleSource } from '@sdq/calib';
import { captureCalibrationSet } from '@sdq/pipeline';
import { unetFeeds } from '../unet-feeds.mjs';

/** Prompts outside the recipe's generic calibration prompts (packages/pipeline/src/int8.ts). */
const HELD_OUT_PROMPTS = ['a green glass bottle on a beach at sunset', 'a snowy village street, oil painting'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'held-out': { type: 'string' },
    capture: { type: 'string' },
    'capture-steps': { type: 'string', default: '4' },
    'capture-size': { type: 'string', default: '256x256' },
    latent: { type: 'string', default: '128' },
    runs: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    'no-sqnr': { type: 'boolean', default: false },
    'keep-sessions': { type: 'boolean', default: false },
  },
});
const models = positionals.map((a) => {
  const at = a.indexOf('=');
  if (at <= 0) throw new Error(`${a}: pass <name>=<unet.onnx>`);
  return { name: a.slice(0, at), file: a.slice(at + 1) };
});
if (models.length < 2) throw new Error('pass fp32=<unet.onnx> and at least one <name>=<unet.onnx>');
const threads = Number(values.threads);
const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
const open = (file) => ort.InferenceSession.create(file, sessionOptions);
const rssGiB = () => +(process.memoryUsage().rss / 2 ** 30).toFixed(2);
const result = { latent: Number(values.latent), threads, models: models.map((m) => ({ ...m })) };

if (!values['no-sqnr']) {
  const npz = values['held-out'];
  if (!npz) throw new Error('--held-out <npz> is required (or --no-sqnr)');
  if (!fs.existsSync(npz)) {
    if (!values.capture) throw new Error(`${npz} does not exist; pass --capture <model dir> to capture it`);
    const [width, height] = values['capture-size'].split('x').map(Number);
    const steps = Number(values['capture-steps']);
    const r = await captureCalibrationSet(values.capture, npz, { prompts: HELD_OUT_PROMPTS, steps, guidance: 5, samples: HELD_OUT_PROMPTS.length * steps, seed: 1000, width, height, threads });
    console.error(`held-out inputs: ${r.sets} sets from ${r.generations} generations -> ${npz}`);
  }
  const source = await npzSampleSource(npz);
  const feeds = [];
  for (let i = 0; i < source.count; i++) {
    const sample = await source.load(i);
    feeds.push(Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, new ort.Tensor('float32', Float32Array.from(v.data, Number), [...v.dims])])));
  }
  await source.close?.();
  // One session at a time: the outputs of every set, per model.
  const outputs = [];
  for (const m of models) {
    const s = await open(m.file);
    const parts = [];
    for (const f of feeds) parts.push(Float32Array.from((await s.run(f))[s.outputNames[0]].data));
    await s.release();
    outputs.push(parts);
  }
  const concat = (parts) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  };
  const reference = concat(outputs[0]);
  result.heldOut = { npz, sets: feeds.length, shape: feeds[0].sample.dims };
  models.forEach((m, i) => {
    if (i === 0) return;
    result.models[i].sqnrDb = +sqnr(reference, concat(outputs[i])).toFixed(2);
    result.models[i].meanSetSqnrDb = +(outputs[i].reduce((a, p, k) => a + sqnr(outputs[0][k], p), 0) / feeds.length).toFixed(2);
    console.error(`held-out SQNR ${m.name}: ${result.models[i].sqnrDb} dB (mean set ${result.models[i].meanSetSqnrDb} dB)`);
  });
}

const runs = Number(values.runs);
if (runs > 0) {
  // One session at a time unless --keep-sessions: SDXL-sized models held together (FP32 ones, unfused attention's
  // score tensors at 128x128) took 21 GiB. Each run is then a session's first at this shape; load time is not counted.
  const keep = values['keep-sessions'];
  const held = keep ? await Promise.all(models.map((m) => open(m.file))) : [];
  const times = models.map(() => []);
  let feeds;
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < models.length; i++) {
      const s = keep ? held[i] : await open(models[i].file);
      feeds ??= unetFeeds(s, result.latent);
      const t = performance.now();
      await s.run(feeds);
      times[i].push(performance.now() - t);
      result.rssGiB = Math.max(result.rssGiB ?? 0, rssGiB());
      if (!keep) await s.release();
      console.error(`round ${r + 1}/${runs} ${models[i].name}: ${(times[i].at(-1) / 1000).toFixed(1)} s`);
    }
  }
  const base = Math.min(...times[0]);
  models.forEach((m, i) => {
    result.models[i].minMs = Math.round(Math.min(...times[i]));
    result.models[i].timesMs = times[i].map(Math.round);
    result.models[i].vsFirst = +(Math.min(...times[i]) / base).toFixed(3);
  });
  for (const s of held) await s.release();
}

console.log(`| model | held-out SQNR dB (all sets) | mean set SQNR dB | min s @ ${result.latent}x${result.latent} (${runs} rounds) | vs ${models[0].name} |`);
console.log('|---|---:|---:|---:|---:|');
for (const m of result.models) {
  console.log(`| ${m.name} | ${m.sqnrDb ?? '-'} | ${m.meanSetSqnrDb ?? '-'} | ${m.minMs === undefined ? '-' : (m.minMs / 1000).toFixed(1)} | ${m.vsFirst?.toFixed(3) ?? '-'} |`);
}
if (values.json) fs.writeFileSync(values.json, `${JSON.stringify(result, null, 1)}\n`);
