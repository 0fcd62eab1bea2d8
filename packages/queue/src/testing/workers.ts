// Worker processes for tests: the worker entry bundled once with esbuild (sources of @sdq/*, as the CLI's build
// does), started as real `node` processes that tests can kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGES = path.resolve(HERE, '../../..');

export async function bundleWorker(): Promise<string> {
  // Inside the repo's node_modules, so the bundle's externals (bullmq, onnxruntime-node) resolve from there.
  const out = path.join(PACKAGES, '..', 'node_modules', '.cache', 'sdq-queue-test', `worker-${process.pid}.mjs`);
  await build({
    entryPoints: [path.join(HERE, 'worker-main.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    plugins: [{
      name: 'sdq-sources',
      setup(b) {
        b.onResolve({ filter: /^@sdq\/[a-z]+$/ }, (args) => ({ path: path.join(PACKAGES, args.path.slice(5), 'src', 'index.ts') }));
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sdq/') ? undefined : { path: args.path, external: true }));
      },
    }],
  });
  return out;
}

export interface TestWorker {
  readonly process: ChildProcess;
  /** Everything the worker printed so far. */
  log(): string;
  /** Resolves when the worker has printed a line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startTestWorker(bundle: string, url: string, options: { lockMs?: number; stalledMs?: number } = {}): Promise<TestWorker> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'sdq-worker-'));
  const child = spawn(process.execPath, [bundle, url, workDir, String(options.lockMs ?? 8000), String(options.stalledMs ?? 4000)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (d: Buffer): void => {
    text += d.toString();
    for (const w of [...waiters]) {
      const m = text.split('\n').find((l) => w.pattern.test(l));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const worker: TestWorker = {
    process: child,
    log: () => text,
    waitFor: (pattern, timeoutMs = 60000) =>
      new Promise((resolve, reject) => {
        const found = text.split('\n').find((l) => pattern.test(l));
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`worker printed no line matching ${pattern} in ${timeoutMs} ms:\n${text}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      }),
    // A worker closing after a Redis restart can wait on BullMQ's blocking connection for good (as `sdq worker` would
    // without its second Ctrl-C): SIGKILL after 10 s, so a stuck close never keeps the test run alive.
    kill: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill(signal);
      }),
  };
  await worker.waitFor(/^ready /);
  return worker;
}
