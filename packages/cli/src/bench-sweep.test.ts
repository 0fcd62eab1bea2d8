// sdq bench --sweep, as a user runs it: a sweep.json, an in-process sweep, the same sweep on a real redis-server with
// two `sdq worker` processes, usage errors, and Ctrl-C of a coordinator that waits on the queue.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestRedis } from '@sdq/queue/testing';
import { runSdq, startSdq } from './testing.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TINY = path.resolve(HERE, '../../../fixtures/models/tiny-sd');
// 4 cells: FP32 and one INT8 recipe x 2 step counts, tiny-sd at 64x64.
const SWEEP = {
  model: TINY, precisions: ['fp32', 'int8'], recipes: [{ name: 'mm', method: 'minmax', samples: 2, calibrationSteps: 2 }],
  schedulers: ['euler'], steps: [1, 2], sizes: ['64x64'], runs: 1, warmup: 0, threads: 1,
};

interface SweepJson {
  report: { precisions: { precision: string; cell: unknown; modelDir: string; quality: unknown }[]; sweep: { cells: number } };
  files: { html: string };
  jobs: { total: number; reused: number } | null;
}

/** What does not depend on where or when a cell ran (latency does). */
const stable = (r: SweepJson) => r.report.precisions.map((p) => ({ precision: p.precision, cell: p.cell, modelDir: p.modelDir, quality: p.quality }));

/** Every entry under `dir`, relative. */
async function tree(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

let work: string;
let redis: TestRedis;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-cli-sweep-'));
  await fs.writeFile(path.join(work, 'sweep.json'), JSON.stringify(SWEEP));
  // Build the CLI once before several processes start it (each would otherwise rebuild a stale dist).
  const { startRedis } = await import('@sdq/queue/testing'); // loaded as the CLI loads @sdq/queue: only where a queue is used
  [redis] = await Promise.all([startRedis(), startSdq(['--version'], work).exit]);
});
afterAll(async () => {
  await redis?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('sdq bench --sweep', () => {
  it('in process, then on the queue with two sdq workers: the same rows; a rerun reuses every cell', async () => {
    const single = await runSdq(['bench', '--sweep', 'sweep.json', '--cache', 'cache', '--report', 'single', '--json'], { cwd: work });
    expect(single.stderr).not.toMatch(/error/i);
    expect(single.code).toBe(0);
    const s = JSON.parse(single.stdout) as SweepJson;
    expect(s.report.sweep.cells).toBe(4);
    expect(s.jobs).toBeNull();
    expect((await fs.readdir(path.join(work, 'single'))).filter((f) => f.endsWith('.png'))).toHaveLength(4);
    // One INT8 dir for the one recipe; FP32 is the source.
    expect((await fs.readdir(path.join(work, 'cache'))).filter((f) => f.startsWith('int8-'))).toHaveLength(1);

    const workers = [0, 1].map(() => startSdq(['worker', '--queue', redis.url], work));
    try {
      await Promise.all(workers.map((w) => w.waitFor(/listening on/)));
      const args = ['bench', '--sweep', 'sweep.json', '--cache', 'cache', '--queue', redis.url, '--shard-store', 'store', '--json'];
      const queued = await runSdq([...args, '--report', 'queued'], { cwd: work });
      expect(queued.code).toBe(0);
      const q = JSON.parse(queued.stdout) as SweepJson;
      expect(q.jobs).toEqual({ total: 4, reused: 0 });
      expect(stable(q)).toEqual(stable(s));
      const pngs = (await fs.readdir(path.join(work, 'single'))).filter((f) => f.endsWith('.png'));
      for (const png of pngs) expect(await fs.readFile(path.join(work, 'queued', png))).toEqual(await fs.readFile(path.join(work, 'single', png)));
      expect(workers.map((w) => (w.output().match(/job bench-cell \w+ done/g) ?? []).length).reduce((a, b) => a + b)).toBe(4);

      const again = JSON.parse((await runSdq([...args, '--report', 'again'], { cwd: work })).stdout) as SweepJson;
      expect(again.jobs).toEqual({ total: 4, reused: 4 });
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exit));
    }
  });

  it('Ctrl-C of a coordinator waiting on the queue leaves no report and no partial files', async () => {
    // No worker listens: the coordinator waits on its cells until interrupted.
    const coordinator = startSdq(['bench', '--sweep', 'sweep.json', '--cache', 'cache-int', '--report', 'interrupted', '--queue', redis.url, '--shard-store', 'store-int'], work);
    await coordinator.waitFor(/sweep cells on the queue/);
    coordinator.child.kill('SIGINT');
    expect((await coordinator.exit).code).not.toBe(0);
    // The partial-output watcher removes the process's temp files once it is gone.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await fs.readdir(work)).not.toContain('interrupted');
    expect((await tree(work)).filter((f) => /\.tmp-\d+/.test(f))).toEqual([]);
  });

  it.each([
    [['--steps', '4'], 2, /^sdq bench: --steps does not go with --sweep; set "steps" in sweep\.json \(see "sdq bench --help"\)$/],
    [['--fidelity-prompts', 'none'], 2, /^sdq bench: --fidelity-prompts does not go with --sweep \(sweeps measure latency and quality/],
    [['--queue', 'redis://127.0.0.1:1', '--sweep', 'bad.json'], 1, /^sdq bench: .*bad\.json: "recipes\[0\]\.percentile" must be a number above 0 and at most 100 \(e\.g\. 99\.99\), got 200; see "sweep\.json" in docs\/cli\.md$/],
    [['--queue', 'redis://127.0.0.1:1'], 1, /^sdq bench: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/],
  ])('sdq bench --sweep sweep.json %j: exit %i with one line, nothing written', async (extra, code, message) => {
    await fs.writeFile(path.join(work, 'bad.json'), JSON.stringify({ ...SWEEP, recipes: [{ name: 'p', percentile: 200 }] }));
    const dir = await fs.mkdtemp(path.join(work, 'usage-'));
    await fs.copyFile(path.join(work, 'sweep.json'), path.join(dir, 'sweep.json'));
    await fs.copyFile(path.join(work, 'bad.json'), path.join(dir, 'bad.json'));
    const r = await runSdq(['bench', '--sweep', 'sweep.json', '--cache', 'cache', ...extra], { cwd: dir });
    expect(r.code).toBe(code);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
    expect((await fs.readdir(dir)).sort()).toEqual(['bad.json', 'sweep.json']);
  });

  it('--queue without --sweep is a usage error', async () => {
    const r = await runSdq(['bench', TINY, '--queue', 'redis://127.0.0.1:1'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sdq bench: --queue goes with --sweep \(a single sdq bench runs in this process\)/);
  });
});
