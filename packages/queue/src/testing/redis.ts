// A real redis-server for tests: loopback, a free port, its own dir; no persistence unless asked (restart tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkQueue } from '../connection.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  readonly url: string;
  /** Stop the server (SIGTERM: with persistence it writes its append-only file first). */
  stop(): Promise<void>;
  /** Start it again on the same port and dir. */
  start(): Promise<void>;
}

async function waitReachable(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log()}`);
    try {
      await checkQueue(url, 500);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`redis-server did not answer on ${url}: ${log()}`);
}

/** Fails (never skips) when redis-server is missing: the queue is tested against the real server only. */
export async function startRedis(options: { persist?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sdq-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.persist ? 'yes' : 'no'];
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d: Buffer) => void (output = (output + d.toString()).slice(-2000)));
    c.stderr?.on('data', (d: Buffer) => void (output = (output + d.toString()).slice(-2000)));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      c.once('spawn', () => resolve(undefined));
      c.once('error', resolve);
    });
    if (spawned) throw new Error(`cannot start redis-server (${spawned.message}); install it (apt-get install redis-server; .ci/run does this)`);
    await waitReachable(url, c, () => output);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return { url, start, stop };
}
