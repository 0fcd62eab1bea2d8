// One UNet CFG step (batch 2) of one or more model dirs on an execution provider, side by side in one process:
// latency (min / median of --runs after --warmup), and with --profile where the time goes per op type and which
// provider ran each node (onnxruntime's session profile; on WebGPU the kernel times are GPU timestamps).
// Usage: node tools/bench/gpu/unet-profile.mjs <dir>... [--ep webgpu|cpu] [--runs 10] [--warmup 2] [--latent 64]
//        [--profile] [--out <folder for profile summaries>] [--layout NHWC|NCHW] [--threads N] [--model-file model.onnx]
//        [--validation M] [--graph-capture] [--fold-dq] [--gpu-output (crashes onnxruntime-node 1.30, kept to re-check)]
// Needs @sdq/quant built; on the GPU machine carry packages/quant/dist (the .sh scripts here link it into node_modules).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { unetFeeds } from '../unet-feeds.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ep: { type: 'string', default: 'webgpu' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    latent: { type: 'string', default: '64' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: '.' },
    layout: { type: 'string' },
    threads: { type: 'string' },
    'model-file': { type: 'string', default: 'model.onnx' },
    'gpu-output': { type: 'boolean', default: false },
    validation: { type: 'string' },
    'graph-capture': { type: 'boolean', default: false },
    'keep-profile': { type: 'boolean', default: false },
    'fold-dq': { type: 'boolean', default: false },
  },
});

const top = (m, per, n) =>
  [...m.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, n).map(([k, v]) => ({ name: k, msPerRun: +(v.us / 1000 / per).toFixed(3), count: Math.round(v.count / per) }));

function summarizeProfile(file) {
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byOp = new Map();
  const providers = new Map();
  let runs = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runs++;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const provider = e.args?.provider ?? '?';
    const key = `${op} @ ${provider}`;
    const a = byOp.get(key) ?? { op, provider, us: 0, count: 0 };
    a.us += e.dur; a.count++;
    byOp.set(key, a);
    providers.set(provider, (providers.get(provider) ?? 0) + 1);
  }
  // WebGPU kernel events (category Api) are GPU timestamps, named <node>&<op>&<shader program>.
  const gpu = events.filter((e) => e.cat === 'Api');
  const sumBy = (key) => {
    const m = new Map();
    for (const e of gpu) {
      const k = key(String(e.name).split('&'));
      const a = m.get(k) ?? { us: 0, count: 0 };
      a.us += e.dur ?? 0; a.count++;
      m.set(k, a);
    }
    return m;
  };
  const gpuByOp = sumBy((p) => p[1] ?? p[0]);
  const gpuByProgram = sumBy((p) => `${p[1]}/${p[2] ?? ''}`);
  const gpuByNode = sumBy((p) => p[0].replace(/_token_\d+$/, ''));
  const gpuTotalUs = gpu.reduce((a, e) => a + (e.dur ?? 0), 0);
  const per = Math.max(runs, 1);
  return {
    runs,
    nodeEventsPerProvider: Object.fromEntries(providers),
    topOps: [...byOp.values()].sort((a, b) => b.us - a.us).slice(0, 25).map((a) => ({ ...a, msPerRun: +(a.us / 1000 / per).toFixed(2), count: Math.round(a.count / per) })),
    gpuEvents: gpu.length,
    gpuMsPerRun: +(gpuTotalUs / 1000 / per).toFixed(2),
    gpuByOp: top(gpuByOp, per, 40),
    gpuByProgram: top(gpuByProgram, per, 40),
    gpuByNode: top(gpuByNode, per, 60),
    categories: [...new Set(events.map((e) => e.cat))],
  };
}

const runs = Number(values.runs);
const warmup = Number(values.warmup);
const h = Number(values.latent);
const ep = values.ep === 'webgpu' ? { name: 'webgpu', ...(values.layout && { preferredLayout: values.layout }), ...(values.validation && { validationMode: values.validation }) } : values.ep;
fs.mkdirSync(values.out, { recursive: true });
const results = [];
for (const dir of positionals) {
  const file = dir.endsWith('.onnx') ? dir : path.join(dir, 'unet', values['model-file']);
  const tag = path.basename(dir.endsWith('.onnx') ? path.dirname(path.dirname(dir)) : dir);
  const t0 = performance.now();
  let session;
  try {
    session = await ort.InferenceSession.create(file, {
      executionProviders: [ep],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(values.threads && { intraOpNumThreads: Number(values.threads) }),
      ...(values['gpu-output'] && { preferredOutputLocation: 'gpu-buffer' }),
      ...(values['graph-capture'] && { extra: { ep: { webgpuexecutionprovider: { enableGraphCapture: '1' } } } }),
      // weight-only DQ of initializers folded into float weights at load
      ...(values['fold-dq'] && { extra: { session: { disable_quant_qdq: '1' } } }),
      ...(values.profile && { enableProfiling: true, profileFilePrefix: path.join(values.out, `profile-${tag}`) }),
    });
  } catch (e) {
    results.push({ model: tag, ep: values.ep, error: String(e.message).split('\n')[0].slice(0, 300) });
    console.log(JSON.stringify(results.at(-1)));
    continue;
  }
  const loadMs = performance.now() - t0;
  const feeds = unetFeeds(session, h);
  const times = [];
  let firstMs = 0;
  for (let i = 0; i < warmup + runs; i++) {
    const s = performance.now();
    const out = await session.run(feeds);
    const o = out[session.outputNames[0]];
    if (o.location === 'gpu-buffer') await o.getData(true); else void o.data;
    const ms = performance.now() - s;
    if (i === 0) firstMs = ms;
    if (i >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const r = { model: tag, options: { layout: values.layout, validation: values.validation, graphCapture: values['graph-capture'], foldDq: values['fold-dq'], gpuOutput: values['gpu-output'] }, ep: values.ep, latent: h, loadMs: Math.round(loadMs), firstRunMs: Math.round(firstMs), minMs: +times[0].toFixed(1), medianMs: +times[times.length >> 1].toFixed(1), runs };
  if (values.profile) {
    await session.endProfiling();
    // onnxruntime names the file <prefix>_<date>.json
    const prefix = `profile-${tag}`;
    const pf = fs.readdirSync(values.out).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).sort().map((f) => path.join(values.out, f)).at(-1);
    try { r.profile = summarizeProfile(pf); if (!values['keep-profile']) fs.rmSync(pf); } catch (e) { r.profileError = String(e.message); }
  }
  await session.release();
  results.push(r);
  console.log(JSON.stringify({ ...r, profile: undefined }));
}
fs.mkdirSync(values.out, { recursive: true });
fs.writeFileSync(path.join(values.out, `unet-profile-${values.ep}.json`), JSON.stringify(results, null, 1));
