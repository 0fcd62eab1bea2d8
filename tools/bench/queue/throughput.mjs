// Calibration throughput on the queue against worker count, side by side in one run, on the tiny model:
//   1 in-process `sdq calibrate` | `sdq calibrate --queue` with 1, 2 and 4 `sdq worker` processes,
// plus the queue's overhead per job: with 1 worker, the gap between one job's end and the next job's start on the
// worker (the result stored, the next job fetched and locked: BullMQ's handoff), from the worker's timestamped log;
// and the coordinator's fixed cost (a rerun that takes every shard from the store: start, model hash, connect, write).
// Workers are warmed first by a calibration of other prompts (same model and settings), so the timed run measures
// shards on loaded workers, not each worker loading the pipeline (reported separately as the warm-up's wall time).
// Every queued run must give ranges.json byte-identical to the in-process one (checked).
// Build first: (cd packages/cli && npx tsup). Needs redis-server on PATH (apt-get install redis-server).
// Prints the load average (1 min) before and after each method: the machine is shared, the ratios are side by side.
// With --repeat R every timed run is made R times and its median reported (the queued ones on a flushed queue and
// a fresh shard store each time).
// Usage: node tools/bench/queue/throughput.mjs [--prompts 8] [--steps 2] [--method minmax[,percentile,...]] [--workers 1,2,4] [--size 64] [--repeat 1]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SDQ = join(root, 'packages/cli/dist/sdq.js');
const MODEL = join(root, 'fixtures/models/tiny-sd');
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const PROMPTS = Number(opt('prompts', 8));
const STEPS = Number(opt('steps', 2));
const METHODS = opt('method', 'minmax').split(',');
const SIZE = Number(opt('size', 64));
const WORKERS = opt('workers', '1,2,4').split(',').map(Number);
const REPEAT = Number(opt('repeat', 1));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const work = await mkdtemp(join(tmpdir(), 'sdq-queue-bench-'));
const promptFile = join(work, 'prompts.txt');
await writeFile(promptFile, Array.from({ length: PROMPTS }, (_, i) => `a photo of object ${i}`).join('\n') + '\n');
const warmFile = join(work, 'warm.txt');
await writeFile(warmFile, Array.from({ length: PROMPTS }, (_, i) => `a drawing of thing ${i}`).join('\n') + '\n');
const port = await new Promise((ok) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
const url = `redis://127.0.0.1:${port}`;

function start(cmd, argv, onLine = () => {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const feed = (d) => { buf += d; let i; while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); } };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  const done = new Promise((ok) => child.on('exit', (code) => ok(code)));
  return { child, done };
}

async function timed(argv) {
  const t0 = performance.now();
  let out = '';
  const { done } = start(process.execPath, [SDQ, ...argv], (l) => { out += `${l}\n`; });
  const code = await done;
  if (code !== 0) throw new Error(`sdq ${argv.join(' ')} exited ${code}:\n${out}`);
  return performance.now() - t0;
}

const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work]);
await new Promise((r) => setTimeout(r, 500));
const flush = () => new Promise((ok) => start('redis-cli', ['-p', String(port), 'flushall']).done.then(ok));

const load = () => loadavg()[0].toFixed(1);
let failed = false;
async function bench(METHOD) {
  const settings = ['--samples', String(PROMPTS), '--steps', String(STEPS), '--size', `${SIZE}x${SIZE}`, '--method', METHOD, '--threads', '1', '-q'];
  const common = [MODEL, '--prompts', promptFile, ...settings];
  const rows = [];
  const loadBefore = load();
  const singles = [];
  for (let r = 0; r < REPEAT; r++) singles.push(await timed(['calibrate', ...common, '--out', join(work, `single-${METHOD}`)]));
  const single = median(singles);
  const reference = await readFile(join(work, `single-${METHOD}/ranges.json`), 'utf8');
  rows.push({ run: 'in-process (1 process)', ms: single });
  let overhead;
  for (const n of WORKERS) {
    await flush();
    const jobMs = [];
    const events = [];
    const workers = [];
    for (let i = 0; i < n; i++) {
      let ready;
      const listening = new Promise((ok) => { ready = ok; });
      workers.push(start(process.execPath, [SDQ, 'worker', '--queue', url, '--work-dir', join(work, `w-${METHOD}-${n}-${i}`)], (l) => {
        if (/listening on/.test(l)) ready();
        const m = / done in (\d+) ms/.exec(l);
        if (m) jobMs.push(Number(m[1]));
        const e = /^(\S+Z) job \S+ \S+ (start|done)/.exec(l);
        if (e) events.push({ worker: i, at: Date.parse(e[1]), kind: e[2] });
      }));
      await listening;
    }
    const warmMs = await timed(['calibrate', MODEL, '--prompts', warmFile, ...settings, '--out', join(work, `warm-${METHOD}-${n}`), '--queue', url, '--shard-store', join(work, `warm-store-${METHOD}-${n}`)]);
    const runs = [];
    let store;
    let handoffs = [];
    for (let r = 0; r < REPEAT; r++) {
      if (r > 0) await flush();
      jobMs.length = 0;
      if (r === 0) events.length = 0;
      store = join(work, `store-${METHOD}-${n}-${r}`);
      const out = join(work, `queued-${METHOD}-${n}`);
      const ms = await timed(['calibrate', ...common, '--out', out, '--queue', url, '--shard-store', store]);
      const identical = (await readFile(join(out, 'ranges.json'), 'utf8')) === reference;
      runs.push({ ms, jobs: jobMs.length, jobSum: jobMs.reduce((a, b) => a + b, 0), identical });
      if (r === 0) handoffs = [...events];
    }
    const mid = runs.find((x) => x.ms === median(runs.map((y) => y.ms)));
    rows.push({ run: `queue, ${n} worker${n > 1 ? 's' : ''}`, ...mid, warmMs, identical: runs.every((x) => x.identical) });
    if (n === 1) {
      const events = handoffs;
      const gaps = [];
      for (let k = 1; k < events.length; k++) if (events[k - 1].kind === 'done' && events[k].kind === 'start') gaps.push(events[k].at - events[k - 1].at);
      const fixed = await timed(['calibrate', ...common, '--out', join(work, `again-${METHOD}`), '--queue', url, '--shard-store', store]);
      overhead = { fixed, perJob: gaps.reduce((a, b) => a + b, 0) / gaps.length, max: Math.max(...gaps), gaps: gaps.length };
    }
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
  }
  const base = rows[0].ms;
  console.log(`calibrate tiny-sd: ${PROMPTS} prompts x ${STEPS} steps, ${SIZE}x${SIZE}, ${METHOD}, 1 thread per process; load average ${loadBefore} before, ${load()} after`);
  console.log('run                        wall s   vs in-process   jobs   time in jobs s   ranges identical   cold run (workers loading) s');
  for (const r of rows) {
    console.log(`${r.run.padEnd(26)} ${(r.ms / 1000).toFixed(2).padStart(6)}   ${(r.ms / base).toFixed(2).padStart(13)}x   ${String(r.jobs ?? '-').padStart(4)}   ${r.jobSum === undefined ? '             -' : (r.jobSum / 1000).toFixed(2).padStart(14)}   ${(r.identical === undefined ? '-' : r.identical ? 'yes' : 'NO').padStart(16)}   ${r.warmMs === undefined ? '-' : (r.warmMs / 1000).toFixed(2)}`);
  }
  if (overhead) console.log(`queue overhead per job (1 worker, job end -> next job start): mean ${overhead.perJob.toFixed(1)} ms, max ${overhead.max} ms over ${overhead.gaps} handoffs (target < 50 ms); coordinator fixed cost (rerun, all shards stored) ${(overhead.fixed / 1000).toFixed(2)} s`);
  if (rows.some((r) => r.identical === false)) failed = true;
}
try {
  for (const method of METHODS) await bench(method);
  if (failed) process.exitCode = 1;
} finally {
  redis.child.kill('SIGTERM');
  await redis.done;
  await rm(work, { recursive: true, force: true });
}
