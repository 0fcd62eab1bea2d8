// Pipeline overhead of @sdq/diffusion: everything except the three model runs (tokenizer, scheduler math, CFG
// combination, tensor conversions, image post-processing), as a share of the total, at 25 steps.
// Build first: (cd packages/diffusion && npx tsup). Usage: node tools/bench/diffusion/overhead.mjs [runs=5] [threads=2]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StableDiffusionPipeline } from '../../../packages/diffusion/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const runs = Number(process.argv[2] ?? 5);
const threads = Number(process.argv[3] ?? 2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = [
  { model: 'shapes-sd', size: 128, scheduler: 'ddim' },
  { model: 'shapes-sd', size: 128, scheduler: 'dpmpp_2m_karras' },
  { model: 'shapes-sd', size: 128, scheduler: 'euler_a' },
  { model: 'tiny-sd', size: 512, scheduler: 'unipc' },
];

console.log(`runs=${runs} threads=${threads}; overhead = total - text encoder - UNet - VAE decode`);
console.log('model      size scheduler        total ms  unet ms/step  sched ms/step  vae ms  overhead ms  overhead %');
for (const c of cases) {
  const pipeline = await StableDiffusionPipeline.fromDir(join(root, 'fixtures/models', c.model), { intraOpNumThreads: threads, logger: () => {} });
  const rows = [];
  for (let r = 0; r <= runs; r++) {
    const { timings } = await pipeline.generate({ prompt: 'a red circle on a blue background', steps: 25, guidanceScale: 5, width: c.size, height: c.size, scheduler: c.scheduler, seed: r });
    if (r > 0) rows.push(timings); // run 0 warms up
  }
  const pick = (fn) => median(rows.map(fn));
  console.log(
    `${c.model.padEnd(10)} ${String(c.size).padEnd(4)} ${c.scheduler.padEnd(16)} ${pick((t) => t.totalMs).toFixed(0).padStart(8)}` +
      `  ${pick((t) => t.unetMs / t.unetStepMs.length).toFixed(1).padStart(12)}  ${pick((t) => t.schedulerMs / t.unetStepMs.length).toFixed(3).padStart(13)}` +
      `  ${pick((t) => t.vaeDecoderMs).toFixed(0).padStart(6)}  ${pick((t) => t.overheadMs).toFixed(1).padStart(11)}  ${pick((t) => (100 * t.overheadMs) / t.totalMs).toFixed(2).padStart(10)}` +
      `  (min ${Math.min(...rows.map((t) => (100 * t.overheadMs) / t.totalMs)).toFixed(2)}, max ${Math.max(...rows.map((t) => (100 * t.overheadMs) / t.totalMs)).toFixed(2)})`,
  );
  await pipeline.dispose();
}
