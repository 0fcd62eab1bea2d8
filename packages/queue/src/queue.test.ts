import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrateModelDir, SDQ_VERSION } from '@sdq/pipeline';
import { calibrateOnQueue } from './calibrate.js';
import { checkQueue, parseQueueUrl } from './connection.js';
import { openQueueClient, runJobs } from './coordinator.js';
import { createModelHasher } from './model-hash.js';
import { openShardStore } from './store.js';
import { startRedis, freePort, type TestRedis } from './testing/redis.js';
import { bundleWorker, startTestWorker, type TestWorker } from './testing/workers.js';

// A real redis-server and real worker processes (no mocks): tiny-sd, 3 prompts of 2 steps at 64x64, one generation
// per job, so 3 shards per round.
const MODEL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/tiny-sd');
const PROMPTS = ['a red circle on a blue background', 'a green square', 'a cat on a sofa'];
const SETTINGS = { prompts: PROMPTS, samples: 3, steps: 2, size: { width: 64, height: 64 }, threads: 1 };
const FILES = ['ranges.json', 'calibration.json', 'calibration.cache', 'calibrated-for.json'];

let work: string;
let bundle: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-queue-test-'));
  bundle = await bundleWorker();
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
  await fs.rm(bundle, { force: true });
});

async function readAll(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await fs.readFile(path.join(dir, f), 'utf8')])));
}

async function inProcess(method: 'minmax' | 'percentile' | 'entropy'): Promise<Record<string, string>> {
  const out = path.join(work, `single-${method}`);
  await calibrateModelDir(MODEL, out, { ...SETTINGS, method });
  return readAll(out);
}

describe('calibration on the queue with several worker processes', () => {
  let redis: TestRedis;
  let workers: TestWorker[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    workers = await Promise.all([0, 1, 2].map(() => startTestWorker(bundle, redis.url)));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.stop();
  });

  it('percentile: byte-identical to one process with a worker killed -9 mid-job', async () => {
    const store = path.join(work, 'store-percentile');
    const run = calibrateOnQueue(MODEL, path.join(work, 'queued-percentile'), { ...SETTINGS, method: 'percentile', queue: redis.url, shardStore: store });
    const victim = await Promise.race(workers.map((w) => w.waitFor(/job calib-extrema \w+ start/).then((line) => ({ w, line }))));
    const job = /job calib-extrema (\w+) start/.exec(victim.line)?.[1] ?? '';
    await victim.w.kill('SIGKILL');
    workers = [...workers.filter((w) => w !== victim.w), await startTestWorker(bundle, redis.url)];
    const r = await run;
    // The killed worker's job was taken up by another worker once its lock expired.
    expect(workers.some((w) => new RegExp(`job calib-extrema ${job} done`).test(w.log()))).toBe(true);
    expect(r.jobs).toEqual({ total: 6, reused: 0 });
    expect(r.sets).toBe(3);
    expect(await readAll(path.join(work, 'queued-percentile'))).toEqual(await inProcess('percentile'));

    // A rerun takes every shard from the store: nothing is queued, the output is the same.
    const again = await calibrateOnQueue(MODEL, path.join(work, 'queued-percentile-again'), { ...SETTINGS, method: 'percentile', queue: redis.url, shardStore: store });
    expect(again.jobs).toEqual({ total: 6, reused: 6 });
    expect(await readAll(path.join(work, 'queued-percentile-again'))).toEqual(await readAll(path.join(work, 'queued-percentile')));
  });

  // Entropy: the same two rounds as percentile, then the coordinator's KL search over the merged histograms (190
  // tensors at the recipe's 2048 bins, about 70 ms each: the bulk of this test, once here and once in one process).
  it('entropy: byte-identical to one process', async () => {
    const out = path.join(work, 'queued-entropy');
    const r = await calibrateOnQueue(MODEL, out, { ...SETTINGS, method: 'entropy', queue: redis.url, shardStore: path.join(work, 'store-entropy') });
    expect(r.jobs).toEqual({ total: 6, reused: 0 });
    expect(r.method).toBe('entropy');
    const [queued, single] = [await readAll(out), await inProcess('entropy')];
    expect(JSON.parse(queued['ranges.json'])).toMatchObject({ method: 'entropy', options: { numBins: 2048, numQuantizedBins: 128 } });
    expect(queued).toEqual(single);
  });

  it.each(['minmax'] as const)('%s: byte-identical to one process, on workers that calibrated other prompts first', async (method) => {
    // Workers keep their loaded pipeline and sessions: a calibration of other prompts must not leak into the next.
    await calibrateOnQueue(MODEL, path.join(work, `warm-${method}`), { ...SETTINGS, prompts: ['a purple star', 'a dog', 'a blue ring'], method, queue: redis.url, shardStore: path.join(work, `store-warm-${method}`) });
    const out = path.join(work, `queued-${method}`);
    const r = await calibrateOnQueue(MODEL, out, { ...SETTINGS, method, queue: redis.url, shardStore: path.join(work, `store-${method}`) });
    expect(r.jobs.total).toBe(3);
    expect(await readAll(out)).toEqual(await inProcess(method));
  });

  it.each([
    ['another sdq version', { sdq: '0.0.0-other' }, new RegExp(`runs sdq ${SDQ_VERSION.replace(/\./g, '\\.')} but the job was made by sdq 0\\.0\\.0-other; run one sdq version`)],
    ['other model bytes', { model: { dir: MODEL, hash: '0'.repeat(64) } }, /model dir .*tiny-sd here \(sha256 \w+\) differs from the coordinator's \(sha256 000000000000\); copy the same model bytes/],
    ['a model dir it lacks', { model: { dir: path.join(os.tmpdir(), 'no-such-model'), hash: '0'.repeat(64) } }, /has no model dir .*no-such-model; copy or mount/],
    ['another device', { settings: { device: 'webgpu' } }, /runs on cpu but the job was calibrated for webgpu \(sdq calibrate --device\); start workers with --device webgpu/],
  ])('a worker refuses a job made for %s, and the coordinator fails with its reason', async (_what, header, reason) => {
    const client = await openQueueClient(parseQueueUrl(redis.url));
    try {
      const data = { sdq: SDQ_VERSION, model: { dir: MODEL, hash: await createModelHasher()(MODEL) }, settings: {}, generations: [0], shard: 'x', ...header };
      const run = runJobs(client, [{ id: `refusal-${Date.now()}-${Math.random()}`, kind: 'calib-extrema', data }], {
        store: openShardStore(path.join(work, 'store-refusals')), accept: () => undefined, task: 'refusal',
      });
      await expect(run).rejects.toThrow(reason);
    } finally {
      await client.close();
    }
  });
});

describe('Redis restarting mid-run', () => {
  it('the run resumes and gives the one-process ranges', async () => {
    const redis = await startRedis({ persist: true });
    const workers = await Promise.all([0, 1].map(() => startTestWorker(bundle, redis.url)));
    try {
      const out = path.join(work, 'queued-restart');
      const run = calibrateOnQueue(MODEL, out, { ...SETTINGS, method: 'minmax', queue: redis.url, shardStore: path.join(work, 'store-restart') });
      await Promise.race(workers.map((w) => w.waitFor(/job calib-extrema \w+ done/)));
      await redis.stop();
      await new Promise((r) => setTimeout(r, 500));
      await redis.start();
      const r = await run;
      expect(r.jobs.total).toBe(3);
      expect(await readAll(out)).toEqual(await inProcess('minmax'));
    } finally {
      await Promise.all(workers.map((w) => w.kill()));
      await redis.stop();
    }
  });
});

describe('queue URLs', () => {
  it('an address where no Redis listens fails at once with one line', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(checkQueue(url)).rejects.toThrow(new RegExp(`^cannot reach Redis at ${url}: .*ECONNREFUSED.*; start redis-server there or fix --queue$`));
  });

  it.each([
    ['not a url', /is not a URL; use redis:\/\/host:port/],
    ['http://127.0.0.1:6379', /only redis:\/\/host:port is supported \(got http:\/\/\)/],
    ['redis://127.0.0.1:6379/x', /expected redis:\/\/host:port\[\/db\]/],
  ])('%s is refused before any connection', (url, message) => {
    expect(() => parseQueueUrl(url)).toThrow(message);
  });

  it('reads host, port, credentials and db', () => {
    expect(parseQueueUrl('redis://u:p%40ss@10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, username: 'u', password: 'p@ss', db: 2, display: 'redis://10.0.0.5:6380/2' });
  });
});
