// sdq worker: compute calibration shards and sweep cells from a BullMQ queue on Redis until stopped (Ctrl-C / SIGTERM).
import { COMMON_HELP, type Command } from '../command.js';
import { intOption, noExtraPositionals, requireString, stringOption } from '../usage.js';
import { readDevice } from './generation-options.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run queue jobs (calibration shards, sweep cells) from Redis for sdq calibrate/bench --queue',
  help: `Usage: sdq worker --queue redis://host:port [--concurrency N] [--device cpu]

Takes jobs that "sdq calibrate --queue" and "sdq bench --sweep ... --queue" put on the queue
(calibration shards, benchmark cells), computes them with this machine's
onnxruntime and hands the results back; runs until Ctrl-C or SIGTERM (running jobs finish first;
a second Ctrl-C or SIGTERM stops it at once).
Start as many workers as you like, on any machine that reaches the Redis server. Every worker
needs the same sdq version and the model dir at the same path with the same bytes as the
coordinator (for sweeps, its --cache dir too): a job from another version or for other model bytes
is refused with an error that
names the worker. A worker that dies mid-job (kill -9, power loss) has its job retried by
another worker after about --lock-duration.

Options:
  --queue URL           redis://host:port[/db] of the queue (required)
  --concurrency N       jobs at once in this process (default 1; each uses the job's onnxruntime threads)
  --device D            the device this worker runs capture generations on: cpu (default), webgpu or cuda;
                        it takes jobs of "sdq calibrate --device D" and sweeps with "device": "D" only
                        (another device's job is refused)
  --work-dir DIR        where a shard's captured UNet inputs wait for its second round (default <tmp>/sdq-worker)
  --lock-duration MS    job lock time without renewal (default 30000)
  --stalled-interval MS how often to look for jobs of dead workers (default 30000)

${COMMON_HELP}

Examples:
  sdq worker --queue redis://10.0.0.5:6379 --concurrency 2
  sdq calibrate my-sd15 --prompts prompts.txt --out calib --queue redis://10.0.0.5:6379
  sdq bench my-sd15 --sweep sweep.json --cache /shared/cache --queue redis://10.0.0.5:6379`,
  options: {
    queue: { type: 'string' }, concurrency: { type: 'string' }, device: { type: 'string' }, 'work-dir': { type: 'string' },
    'lock-duration': { type: 'string' }, 'stalled-interval': { type: 'string' },
  },
  async run({ values, positionals }, ctx) {
    const name = 'worker';
    noExtraPositionals(positionals, 0, name);
    const url = requireString(values, 'queue', name);
    const device = readDevice(values, name);
    // loaded here, not at startup: every other command runs without BullMQ and ioredis
    const { checkQueue, startWorker } = await import('@sdq/queue');
    const address = await checkQueue(url);
    // Listening for both signals before the worker starts and says it listens: a signal with no listener would kill
    // the process (at start, or mid-close).
    const signals: string[] = [];
    const waiters: (() => void)[] = [];
    const nthSignal = (n: number) => new Promise<string>((resolve) => {
      const check = () => (signals.length >= n ? resolve(signals[n - 1]) : waiters.push(check));
      check();
    });
    const onSignal = (name: string) => () => {
      signals.push(name);
      waiters.splice(0).forEach((w) => w());
    };
    process.on('SIGINT', onSignal('SIGINT'));
    process.on('SIGTERM', onSignal('SIGTERM'));
    const worker = await startWorker(address, {
      concurrency: intOption(values, 'concurrency', name, 1),
      device,
      workDir: stringOption(values, 'work-dir'),
      lockDurationMs: intOption(values, 'lock-duration', name, 100),
      stalledIntervalMs: intOption(values, 'stalled-interval', name, 100),
      log: (line) => ctx.io.stdout(`${new Date().toISOString()} ${line}\n`),
    });
    ctx.io.stdout(`${new Date().toISOString()} worker ${worker.name} listening on ${address.display}\n`);
    const signal = await nthSignal(1);
    ctx.io.stdout(`${new Date().toISOString()} ${signal}: finishing running jobs (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again stops now)\n`);
    // Closing waits for running jobs and for Redis; with Redis gone it would wait forever. A second signal stops the
    // process at once: a job it held is retried by another worker once its lock lapses, as after a crash.
    const stoppedNow = await Promise.race([worker.close().then(() => null), nthSignal(2)]);
    if (stoppedNow !== null) {
      ctx.io.stdout(`${new Date().toISOString()} ${stoppedNow} again: stopping now; jobs this worker held go back to the queue when their lock lapses\n`);
      return stoppedNow === 'SIGINT' ? 130 : 143;
    }
    if (ctx.json) ctx.printJson({ ok: true, worker: worker.name });
    return 0;
  },
};
