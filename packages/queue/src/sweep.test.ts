import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SDQ_VERSION, parseSweep, resolveSweep, runSweep, tableHeader, tableRows, type SweepOutcome } from '@sdq/pipeline';
import { parseQueueUrl } from './connection.js';
import { openQueueClient, runJobs } from './coordinator.js';
import { createModelHasher } from './model-hash.js';
import { openShardStore } from './store.js';
import { queueCellRunner } from './sweep.js';
import { startRedis, type TestRedis } from './testing/redis.js';
import { bundleWorker, startTestWorker, type TestWorker } from './testing/workers.js';

// A real redis-server and 3 worker processes; tiny-sd, 4 cells (FP32 and one INT8 recipe x 2 schedulers) of 2 steps at 64x64.
const MODEL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/tiny-sd');
const SWEEP = {
  precisions: ['fp32', 'int8'], recipes: [{ name: 'mm', method: 'minmax', samples: 2, calibrationSteps: 2 }],
  schedulers: ['ddim', 'euler'], steps: [2], sizes: ['64x64'], runs: 1, warmup: 0, threads: 1,
};
const DEFAULTS = { prompt: 'a cat on a sofa', guidance: 7.5, steps: 25, threads: 1 };
// Columns that do not depend on where or when a cell ran: everything but the latency columns.
const STABLE = ['precision', 'recipe', 'scheduler', 'steps', 'image', 'size', 'PSNR dB', 'SSIM', 'max abs diff', 'fidelity', 'colour'];

function stableRows(o: SweepOutcome): string[][] {
  const header = tableHeader(o.report);
  const keep = header.map((h, i) => (STABLE.includes(h) ? i : -1)).filter((i) => i >= 0);
  return tableRows(o.report).map((row) => keep.map((i) => row[i]));
}

function stableJson(o: SweepOutcome): unknown[] {
  return o.report.precisions.map((r) => ({ precision: r.precision, cell: r.cell, modelDir: r.modelDir, modelBytes: r.modelBytes, quality: r.quality }));
}

let work: string;
let bundle: string;
let redis: TestRedis;
let workers: TestWorker[] = [];
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-sweep-queue-'));
  [bundle, redis] = await Promise.all([bundleWorker(), startRedis()]);
  workers = await Promise.all([0, 1, 2].map(() => startTestWorker(bundle, redis.url)));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await redis?.stop();
  await fs.rm(work, { recursive: true, force: true });
  await fs.rm(bundle, { force: true });
});

describe('sdq bench --sweep on the queue with several worker processes', () => {
  it('gives the in-process report rows and images; a rerun takes every cell from the store', async () => {
    const sweep = await resolveSweep(parseSweep(SWEEP, path.join(work, 'sweep.json')), MODEL, DEFAULTS);
    const cacheDir = path.join(work, 'cache');
    const single = await runSweep(sweep, { cacheDir });
    const store = openShardStore(path.join(work, 'store'));
    const counts = { total: 0, reused: 0 };
    const queued = await runSweep(sweep, { cacheDir, runCells: queueCellRunner(parseQueueUrl(redis.url), store, counts) });
    expect(counts).toEqual({ total: 4, reused: 0 });
    // The cells were spread over the workers, not run by one.
    expect(workers.filter((w) => /job bench-cell \w+ done/.test(w.log())).length).toBeGreaterThan(1);
    expect(stableRows(queued)).toEqual(stableRows(single));
    expect(stableJson(queued)).toEqual(stableJson(single));
    queued.images.forEach((img, i) => expect(img.data).toEqual(single.images[i].data));
    // An INT8 cell differs from its FP32 cell, so the equality above compares real quality numbers.
    expect(queued.report.precisions[1].quality?.maxAbsDiff).toBeGreaterThan(0);

    const again = { total: 0, reused: 0 };
    const rerun = await runSweep(sweep, { cacheDir, runCells: queueCellRunner(parseQueueUrl(redis.url), store, again) });
    expect(again).toEqual({ total: 4, reused: 4 });
    expect(rerun.report.precisions.map((r) => r.latency)).toEqual(queued.report.precisions.map((r) => r.latency));
  });

  it.each([
    ['other model bytes', { model: { dir: MODEL, hash: '0'.repeat(64) } }, /model dir .*tiny-sd here \(sha256 \w+\) differs from the coordinator's \(sha256 000000000000\)/],
    ['another device', { cell: { device: 'webgpu' } }, /runs on cpu but sweep cell FP32 ddim 2 64x64 is for webgpu \("device" in sweep\.json\); start workers with --device webgpu/],
  ])('a worker refuses a cell made for %s, and the coordinator fails with its reason', async (_what, change, reason) => {
    const client = await openQueueClient(parseQueueUrl(redis.url));
    try {
      const cell = { modelName: 'tiny-sd', precision: 'fp32', dir: MODEL, prompt: 'p', seed: 1, steps: 2, scheduler: 'ddim', guidance: 7.5, width: 64, height: 64, warmup: 0, runs: 1, threads: 1, device: 'cpu' };
      const data = { sdq: SDQ_VERSION, model: { dir: MODEL, hash: await createModelHasher()(MODEL) }, ...change, cell: { ...cell, ...('cell' in change ? change.cell : {}) } };
      const run = runJobs(client, [{ id: `cell-refusal-${Date.now()}-${Math.random()}`, kind: 'bench-cell', data }], {
        store: openShardStore(path.join(work, 'store-refusals')), accept: () => undefined, task: 'refusal',
      });
      await expect(run).rejects.toThrow(reason);
    } finally {
      await client.close();
    }
  });
});
