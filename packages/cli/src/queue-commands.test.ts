// sdq worker and sdq calibrate --queue, in-process: a wrong queue address is one line and exit 1, before any work.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSdq } from './testing.js';

const tiny = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/tiny-sd');
// Port 1 (tcpmux) has no listener on a test machine: connection refused at once.
const NOBODY = 'redis://127.0.0.1:1';

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-cli-queue-'));
  await fs.writeFile(path.join(work, 'prompts.txt'), 'a red circle\n');
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

function expectOneLine(r: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
}

describe('queue commands', () => {
  it.each([
    [['worker', '--queue', NOBODY], 1, /^sdq worker: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*; start redis-server there or fix --queue$/],
    [['worker', '--queue', 'http://127.0.0.1:6379'], 1, /^sdq worker: --queue "http:\/\/127\.0\.0\.1:6379": only redis:\/\/host:port is supported/],
    [['worker'], 2, /^sdq worker: missing --queue/],
    [['worker', '--queue', NOBODY, '--device', 'tpu'], 2, /^sdq worker: --device/],
  ])('sdq %j exits %i with one line', async (argv, code, pattern) => {
    expectOneLine(await runSdq(argv, { cwd: work }), code, pattern);
  });

  it('sdq calibrate --queue to an address where no Redis listens: one line, exit 1, no output', async () => {
    const r = await runSdq(['calibrate', tiny, '--prompts', 'prompts.txt', '--out', 'calib', '--queue', NOBODY, '--shard-store', 'store'], { cwd: work });
    expectOneLine(r, 1, /^sdq calibrate: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(await fs.readdir(work)).toEqual(['prompts.txt']);
  });

  it('lists sdq worker and documents --queue', async () => {
    expect((await runSdq(['--help'])).stdout).toMatch(/\n {2}worker +run queue jobs/);
    expect((await runSdq(['calibrate', '--help'])).stdout).toMatch(/--queue URL/);
  });
});
