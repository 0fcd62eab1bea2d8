// Stopping `sdq worker` (real processes: the sdq executable and a real redis-server): the first signal finishes
// running jobs and exits 0; when Redis has gone away, closing cannot finish, and a second signal stops it at once.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestRedis } from '@sdq/queue/testing';
import { startSdq } from './testing.js';

let work: string;
let redis: TestRedis;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-worker-stop-'));
  const { startRedis } = await import('@sdq/queue/testing'); // loaded as the CLI loads @sdq/queue: only where a queue is used
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('stopping sdq worker', () => {
  it('SIGTERM with Redis up: running jobs finish, exit 0', async () => {
    const worker = startSdq(['worker', '--queue', redis.url, '--work-dir', path.join(work, 'w1')], work);
    await worker.waitFor(/listening on/);
    worker.child.kill('SIGTERM');
    const exit = await worker.exit;
    expect({ code: exit.code, stdout: exit.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/SIGTERM: finishing running jobs \(SIGTERM again stops now\)\n$/) });
  });

  it('Redis gone: the first SIGINT waits on it, the second stops the worker at once (exit 130)', async () => {
    const worker = startSdq(['worker', '--queue', redis.url, '--work-dir', path.join(work, 'w2')], work);
    await worker.waitFor(/listening on/);
    await redis.stop();
    try {
      await worker.waitFor(/queue: .*(ECONNREFUSED|Connection is closed)/);
      worker.child.kill('SIGINT');
      await worker.waitFor(/SIGINT: finishing running jobs/);
      expect(worker.child.exitCode).toBeNull(); // still waiting on Redis
      worker.child.kill('SIGINT');
      const exit = await worker.exit;
      expect(exit.code).toBe(130);
      expect(exit.stdout).toMatch(/SIGINT again: stopping now; jobs this worker held go back to the queue when their lock lapses\n$/);
    } finally {
      await redis.start();
    }
  });
});
