// INT8 UNet recipe bench on the trained shapes-sd model: for each (method, policy) variant, quantize the UNet
// calibrated on fixtures/quant/shapes_unet_calibration_inputs.npz, then measure
//   - SQNR vs FP32 on UNet inputs captured from OTHER generations (prompts/seeds not in the calibration set),
//   - prompt fidelity over 12 prompts (DDIM 25 steps, guidance 5; the judge of fixtures/PROVENANCE.md),
//   - UNet latency vs FP32 in onnxruntime-node (2 threads, interleaved runs, minimum of --runs).
// Build first: (cd packages/<quant|onnx|diffusion|pipeline|calib> && npx tsup)
// Usage: node tools/bench/calib/int8-unet.mjs [--variants 'name;name'] [--runs 15] [--no-fidelity] [--json out.json]
import { mkdir, mkdtemp, readdir, symlink, copyFile, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { captureUnetInputs, npzSampleSource, quantizeUnet, DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, UNET_SENSITIVE_LAYERS } from '../../../packages/calib/dist/index.js';
import { openPipelineGenerator, judgeFidelity, fidelityPromptSet, readPromptLanguage } from '../../../packages/pipeline/dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MODEL_DIR = join(root, 'fixtures/models/shapes-sd');
const UNET = join(MODEL_DIR, 'unet/model.onnx');
const CALIB = join(root, 'fixtures/quant/shapes_unet_calibration_inputs.npz');
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const RUNS = Number(opt('runs', 15));
const THREADS = 2;
const work = opt('work', join(tmpdir(), 'sdq-int8-bench'));
await mkdir(work, { recursive: true });
ort.env.logLevel = 'error';

const base = { ...DEFAULT_UNET_INT8_POLICY };
const VARIANTS = {
  'DEFAULT recipe (quantizeUnet defaults)': { policy: undefined },
  'FAST recipe (FAST_UNET_INT8_POLICY, default calibration)': { policy: FAST_UNET_INT8_POLICY },
  'MatMul outputs float (default calibration)': { policy: { ...base, floatOutputNodes: (n) => n.opType === 'MatMul' } },
  'conv s8 (no skips)': { method: 'minmax', policy: { ...base, opTypes: ['Conv'], activationType: 'int8', skipNodes: [] } },
  'conv s8 skip-io': { method: 'minmax', policy: { ...base, opTypes: ['Conv'], activationType: 'int8' } },
  'conv u8 skip-io': { method: 'minmax', policy: { ...base, opTypes: ['Conv'] } },
  'conv+wMatMul s8 skip-io (TensorRT)': { method: 'minmax', policy: { ...base, activationType: 'int8' } },
  'conv+wMatMul u8 skip-io (default)': { method: 'minmax', policy: base },
  'conv+wMatMul u8 skip-io, no output Q/DQ': { method: 'minmax', policy: { ...base, quantizeOutputs: false } },
  'conv+allMatMul u8 skip-io': { method: 'minmax', policy: { ...base, activationMatMuls: true } },
  'conv+wMatMul+Gemm u8 (skip conv_in/out only)': { method: 'minmax', policy: { ...base, opTypes: ['Conv', 'MatMul', 'Gemm'], skipNodes: UNET_SENSITIVE_LAYERS.slice(0, 2) } },
  'default, percentile 99.999': { method: 'percentile', policy: base, methodOptions: { symmetric: false } },
  'default, entropy 2048/128': { method: 'entropy', policy: base, methodOptions: { numBins: 2048, numQuantizedBins: 128 } },
  'default, percentile 99.99': { method: 'percentile', policy: base, methodOptions: { symmetric: false, percentile: 99.99 } },
  'default, percentile 99.9999': { method: 'percentile', policy: base, methodOptions: { symmetric: false, percentile: 99.9999 } },
  'default, percentile 99.999 symmetric': { method: 'percentile', policy: base, methodOptions: { symmetric: true } },
  'default, entropy 8192/256': { method: 'entropy', policy: base, methodOptions: { numBins: 8192, numQuantizedBins: 256 } },
  'TensorRT layout, percentile 99.999': { method: 'percentile', policy: { ...base, activationType: 'int8' }, methodOptions: { symmetric: false } },
  'conv u8 skip-io, percentile 99.999': { method: 'percentile', policy: { ...base, opTypes: ['Conv'] }, methodOptions: { symmetric: false } },
};
const chosen = opt('variants', undefined)?.split(';') ?? Object.keys(VARIANTS);

// 1. Evaluation inputs from other generations: prompts and seeds the calibration set does not use.
const language = await readPromptLanguage(MODEL_DIR);
const evalPath = join(work, 'eval_unet_inputs.npz');
const EVAL_PROMPTS = ['a green triangle on a white background', 'a orange square on a blue background', 'a white circle on a purple background', 'a red triangle on a yellow background'];
if (!(await stat(evalPath).catch(() => undefined))) {
  let hook = () => {};
  const gen = await openPipelineGenerator(MODEL_DIR, { scheduler: 'ddim', threads: THREADS, onUnetInputs: (f) => hook(f) });
  await captureUnetInputs(evalPath, EVAL_PROMPTS, async (prompt, { seed }, onUnetInputs) => {
    hook = onUnetInputs;
    await gen.generate({ prompt, negativePrompt: '', steps: 10, guidance: 5, seed, width: 128, height: 128 });
  }, { seed: 1000, onProgress: (p) => console.error(`capture ${p.generation}/${p.generations} (${p.sets} sets)`) });
  await gen.dispose();
}
const evalSource = await npzSampleSource(evalPath);
const evalFeeds = [];
for (let i = 0; i < evalSource.count; i++) {
  const f = await evalSource.load(i);
  evalFeeds.push(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, new ort.Tensor('float32', v.data, [...v.dims])])));
}
await evalSource.close();

const sessionOptions = { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
const fp32 = await ort.InferenceSession.create(UNET, sessionOptions);
const ref = [];
for (const f of evalFeeds) ref.push((await fp32.run(f)).out_sample.data);

async function modelDirWith(unetPath, name) {
  const dir = join(work, name.replace(/[^a-z0-9]+/gi, '_'));
  await mkdir(dir, { recursive: true });
  for (const e of await readdir(MODEL_DIR)) if (e !== 'unet') await symlink(join(MODEL_DIR, e), join(dir, e)).catch(() => {});
  return dir;
}

async function fidelity(modelDir) {
  const gen = await openPipelineGenerator(modelDir, { scheduler: 'ddim', threads: THREADS });
  let ok = 0;
  const misses = [];
  const prompts = fidelityPromptSet(language, 12);
  for (let i = 0; i < prompts.length; i++) {
    const { image } = await gen.generate({ prompt: prompts[i], negativePrompt: '', steps: 25, guidance: 5, seed: i, width: 128, height: 128 });
    const v = judgeFidelity(image, prompts[i], language);
    if (v?.faithful) ok++; else misses.push(`${prompts[i]} (fg ${v?.fg.toFixed(3)} bg ${v?.bg.toFixed(3)})`);
  }
  await gen.dispose();
  return { ok, total: prompts.length, misses };
}

const results = [];
const sessions = { fp32 };
const doFidelity = !args.includes('--no-fidelity');
const fpFid = doFidelity ? await fidelity(MODEL_DIR) : undefined;
if (fpFid) console.error(`fp32 fidelity ${fpFid.ok}/${fpFid.total}`);
for (const name of chosen) {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name}; have: ${Object.keys(VARIANTS).join(' | ')}`);
  const dir = await modelDirWith(null, name);
  const out = join(dir, 'unet/model.onnx');
  const t0 = performance.now();
  let q;
  try {
    q = await quantizeUnet(UNET, out, { calibration: CALIB, method: v.method, methodOptions: v.methodOptions, policy: v.policy, threads: THREADS });
  } catch (e) {
    console.error(`${name}: ${e.message}`);
    results.push({ name, error: e.message });
    continue;
  }
  const quantizeMs = performance.now() - t0;
  await copyFile(join(MODEL_DIR, 'unet/config.json'), join(dir, 'unet/config.json')).catch(() => {});
  const s = await ort.InferenceSession.create(out, sessionOptions);
  let num = 0, den = 0;
  const per = [];
  for (let i = 0; i < evalFeeds.length; i++) {
    const o = (await s.run(evalFeeds[i])).out_sample.data;
    let n = 0, d = 0;
    for (let j = 0; j < o.length; j++) { n += ref[i][j] ** 2; d += (ref[i][j] - o[j]) ** 2; }
    num += n; den += d; per.push(10 * Math.log10(n / d));
  }
  const fid = doFidelity ? await fidelity(dir) : undefined;
  const r = { name, method: v.method ?? `${q.ranges.method} ${JSON.stringify(q.ranges.options)}`, quantized: q.report.quantizedNodes.length, sqnrDb: 10 * Math.log10(num / den), meanSetSqnrDb: per.reduce((a, b) => a + b) / per.length, minSetSqnrDb: Math.min(...per), fidelity: fid, quantizeMs };
  console.error(JSON.stringify(r));
  results.push(r);
  sessions[name] = s;
}

// 3. Latency: every model in turn, RUNS rounds, minimum per model (the machine is shared and noisy).
if (RUNS === 0) { for (const r of results) console.log(JSON.stringify({ name: r.name, sqnrDb: r.sqnrDb, meanSetSqnrDb: r.meanSetSqnrDb, fidelity: r.fidelity?.ok })); process.exit(0); }
const times = Object.fromEntries(Object.keys(sessions).map((k) => [k, []]));
const feeds = evalFeeds[0];
for (const s of Object.values(sessions)) await s.run(feeds);
for (let r = 0; r < RUNS; r++) {
  for (const [k, s] of Object.entries(sessions)) {
    const t = performance.now();
    await s.run(feeds);
    times[k].push(performance.now() - t);
  }
}
const fpMin = Math.min(...times.fp32);
console.log(`\nUNet batch 2 x 4 x 16 x 16, ${THREADS} threads, ${RUNS} interleaved runs; SQNR on ${evalFeeds.length} UNet input sets of ${EVAL_PROMPTS.length} other generations`);
console.log(`| variant | method | nodes | SQNR dB (all sets) | mean set SQNR dB | fidelity | latency min ms | vs FP32 |`);
console.log(`|---|---|---|---|---|---|---|---|`);
console.log(`| FP32 | - | - | - | - | ${fpFid ? `${fpFid.ok}/${fpFid.total}` : '-'} | ${fpMin.toFixed(1)} | 1.00 |`);
for (const r of results) {
  if (r.error) { console.log(`| ${r.name} | ${VARIANTS[r.name].method ?? 'default'} | error: ${r.error} |`); continue; }
  const m = Math.min(...times[r.name]);
  r.latencyMinMs = m; r.latencyRatio = m / fpMin;
  console.log(`| ${r.name} | ${r.method} | ${r.quantized} | ${r.sqnrDb.toFixed(2)} | ${r.meanSetSqnrDb.toFixed(2)} | ${r.fidelity ? `${r.fidelity.ok}/${r.fidelity.total}` : '-'} | ${m.toFixed(1)} | ${(m / fpMin).toFixed(2)} |`);
}
const jsonOut = opt('json', undefined);
if (jsonOut) await writeFile(jsonOut, JSON.stringify({ runs: RUNS, threads: THREADS, fp32: { latencyMinMs: fpMin, fidelity: fpFid }, results }, null, 1));
