// Ctrl-C of `sdq calibrate --queue` mid-run, on real processes (the sdq executable, a real redis-server, an sdq
// worker): exit 130 with one line saying how to resume, no output and no partial file left, and a rerun that takes
// the stored shards and writes exactly the one-process calibration.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestRedis } from '@sdq/queue/testing';
import { runSdq, startSdq, type SdqProcess } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tiny = path.join(root, 'fixtures/models/tiny-sd');
const FILES = ['ranges.json', 'calibration.json', 'calibration.cache', 'calibrated-for.json'];
// 3 prompts of 2 steps: 3 shards per round.
const SETTINGS = ['--samples', '3', '--steps', '2', '--size', '64x64', '--method', 'percentile', '--threads', '1', '-q'];


async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  for (const start = Date.now(); !(await condition()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Every path under `dir`, relative. */
async function tree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

async function readAll(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await fs.readFile(path.join(dir, f), 'utf8')])));
}

let work: string;
let redis: TestRedis;
let worker: SdqProcess | undefined;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-cli-interrupt-'));
  await fs.writeFile(path.join(work, 'prompts.txt'), 'a red circle on a blue background\na green square\na cat on a sofa\n');
  // loaded as the CLI loads @sdq/queue: only where a queue is used
  const { startRedis } = await import('@sdq/queue/testing');
  redis = await startRedis();
});
afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill('SIGCONT');
    worker.child.kill('SIGTERM');
    await worker.exit;
  }
  await redis?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('Ctrl-C of sdq calibrate --queue', () => {
  it('exits 130 with how to resume, leaves no output or partial file, and a rerun finishes from the stored shards', async () => {
    const run = path.join(work, 'run');
    await fs.mkdir(run);
    const calibrate = ['calibrate', tiny, '--prompts', path.join(work, 'prompts.txt'), ...SETTINGS, '--out', 'calib', '--queue', redis.url, '--shard-store', 'store'];
    worker = startSdq(['worker', '--queue', redis.url, '--work-dir', path.join(work, 'worker')], work);
    await worker.waitFor(/listening on/);

    const coordinator = startSdq(calibrate, run);
    // The worker took its second job, so its first result is on the queue; stopped there, it finishes nothing more
    // until resumed, and the coordinator is left waiting mid-run.
    await worker.waitFor(/job calib-extrema \w+ start/, 2);
    worker.child.kill('SIGSTOP');
    // (the store also remembers the model dir's hash: model-dir-*.json)
    const shardFiles = async () => (await tree(run)).filter((p) => /^store\/\w+.*\.json$/.test(p) && !p.startsWith('store/model-dir-'));
    await until('the first shard result in the store', async () => (await shardFiles()).length > 0);
    coordinator.child.kill('SIGINT');
    const interrupted = await coordinator.exit;

    expect(interrupted.code).toBe(130);
    expect(interrupted.stdout).toBe('');
    const lines = interrupted.stderr.trimEnd().split('\n');
    const message = /^sdq calibrate: SIGINT: calibrate shards: (capture \+ extrema|histograms) \(percentile\): interrupted with ([0-2]) of 3 jobs done; nothing written to .*\/run\/calib; finished shards are kept in .*\/run\/store and queued jobs stay for the workers: run the same command again to finish$/;
    expect(lines).toEqual([expect.stringMatching(message)]);
    // Almost always round 1 with 1 job done; a fast worker may finish a job or two more before SIGSTOP lands.
    const [, round, inRound] = message.exec(lines[0]) ?? [];
    const done = (round === 'histograms' ? 3 : 0) + Number(inRound);
    expect(done).toBeGreaterThanOrEqual(1);
    // No output, and (once the process is gone, its watcher's job) no partial file anywhere it wrote.
    await until('no partial files', async () => !(await tree(run)).some((p) => p.includes('.tmp-')), 5000);
    const left = await tree(run);
    expect(left.filter((p) => !p.startsWith('store'))).toEqual([]);
    expect((await shardFiles()).length).toBeGreaterThanOrEqual(done);

    worker.child.kill('SIGCONT');
    const rerun = await startSdq([...calibrate, '--json'], run).exit;
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout) as { jobs: { total: number; reused: number } };
    expect(result.jobs.total).toBe(6);
    expect(result.jobs.reused).toBeGreaterThanOrEqual(done);

    const reference = await runSdq(['calibrate', tiny, '--prompts', path.join(work, 'prompts.txt'), ...SETTINGS, '--out', path.join(work, 'one-process')]);
    expect(reference.code).toBe(0);
    expect(await readAll(path.join(run, 'calib'))).toEqual(await readAll(path.join(work, 'one-process')));
  });
});
