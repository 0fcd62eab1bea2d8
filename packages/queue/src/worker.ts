// `sdq worker`: take calibration shards off the queue, compute them with this machine's sdq, hand the results back.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UnrecoverableError, Worker, type Job } from './libs.js';
import { SdqError } from '@sdq/quant';
import { SDQ_VERSION, openShardCalibrator, type ShardCalibrator, type SweepCellResult } from '@sdq/pipeline';
import { bullConnection, type QueueAddress } from './connection.js';
import { decodeExtrema, encodeExtrema, encodeHistograms } from './codec.js';
import { QUEUE_NAME, JOB_KINDS, type CalibrationJob, type ExtremaResult, type HistogramResult, type JobHeader } from './jobs.js';
import { createModelHasher, type ModelHasher } from './model-hash.js';
import { openShardStore } from './store.js';
import { runBenchCellJob, type BenchCellJob } from './sweep.js';

export interface WorkerOptions {
  /** The device capture generations run on here (default cpu): jobs calibrated for another device are refused. */
  readonly device?: string;
  /** Jobs run at once in this process (default 1). */
  readonly concurrency?: number;
  /** Where captured UNet inputs wait between a shard's two rounds (default <tmp>/sdq-worker). */
  readonly workDir?: string;
  /** A job's lock lasts this long without renewal (default 30000 ms): a killed worker's job is retried after about this. */
  readonly lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died (default 30000 ms; BullMQ's stalledInterval). */
  readonly stalledIntervalMs?: number;
  /** One line per job event (start, done, refused, failed). */
  readonly log?: (line: string) => void;
}

export interface RunningWorker {
  /** `host:pid`, as job failures name it. */
  readonly name: string;
  /** Stop taking jobs, finish the ones running, disconnect. */
  close(): Promise<void>;
}

/** Job refused before any work: never retried (another try on this worker would refuse it again). */
function refuse(message: string): never {
  throw new UnrecoverableError(message);
}

async function checkHeader(header: JobHeader, hash: ModelHasher, worker: string): Promise<void> {
  if (header.sdq !== SDQ_VERSION) refuse(`worker ${worker} runs sdq ${SDQ_VERSION} but the job was made by sdq ${header.sdq}; run one sdq version on the coordinator and every worker`);
  let mine: string;
  try {
    mine = await hash(header.model.dir);
  } catch {
    refuse(`worker ${worker} has no model dir ${header.model.dir}; copy or mount the coordinator's model dir at that path on every worker`);
  }
  if (mine !== header.model.hash) {
    refuse(`worker ${worker}: model dir ${header.model.dir} here (sha256 ${mine.slice(0, 12)}) differs from the coordinator's (sha256 ${header.model.hash.slice(0, 12)}); copy the same model bytes to every worker`);
  }
}

/** The shard's captured inputs in the work dir, captured now if this machine has not got them (a retried or moved job). */
async function shardInputs(job: CalibrationJob, calibrator: ShardCalibrator, workDir: string): Promise<string> {
  const npz = path.join(workDir, `${job.shard}.npz`);
  const present = await fs.stat(npz).then(() => true, () => false);
  if (!present) {
    await fs.mkdir(workDir, { recursive: true });
    await calibrator.capture(job.settings, job.generations, npz);
  }
  return npz;
}

async function runCalibrationJob(kind: string, job: CalibrationJob, calibrator: ShardCalibrator, workDir: string): Promise<ExtremaResult | HistogramResult> {
  const npz = await shardInputs(job, calibrator, workDir);
  const last = kind === 'calib-histogram' || job.settings.method === 'minmax';
  try {
    if (kind === 'calib-extrema') {
      const extrema = await calibrator.extrema(npz);
      return { sets: extrema.batches, extrema: encodeExtrema(extrema) };
    }
    if (!job.extrema) throw new SdqError('BAD_FORMAT', 'histogram job without the merged extrema');
    return { histograms: encodeHistograms(await calibrator.histogramCounts(npz, decodeExtrema(job.extrema))) };
  } finally {
    // The inputs are needed again only by the shard's histogram round.
    if (last) await fs.rm(npz, { force: true });
  }
}

/**
 * Loaded calibrators (FP32 pipeline + calibration sessions) by model and setting, reused job after job: loading
 * them is most of a small shard's time. One per running job; idle ones beyond `keep` are disposed.
 */
function calibratorPool(keep: number) {
  const idle: { key: string; calibrator: ShardCalibrator }[] = [];
  return {
    acquire(job: CalibrationJob): { key: string; calibrator: ShardCalibrator } {
      const key = JSON.stringify([job.model.dir, job.model.hash, job.settings.threads, job.settings.method, job.settings.device ?? 'cpu']);
      const i = idle.findIndex((e) => e.key === key);
      // Keyed by what the loaded sessions depend on; prompts, seeds and sizes come with each shard.
      return i >= 0 ? idle.splice(i, 1)[0] : { key, calibrator: openShardCalibrator(job.model.dir, job.settings) };
    },
    async release(entry: { key: string; calibrator: ShardCalibrator }, healthy: boolean): Promise<void> {
      if (healthy) idle.unshift(entry);
      else await entry.calibrator.dispose();
      while (idle.length > keep) await idle.pop()?.calibrator.dispose();
    },
    async close(): Promise<void> {
      await Promise.all(idle.splice(0).map((e) => e.calibrator.dispose()));
    },
  };
}

export async function startWorker(address: QueueAddress, options: WorkerOptions = {}): Promise<RunningWorker> {
  const name = `${os.hostname()}:${process.pid}`;
  const workDir = options.workDir ?? path.join(os.tmpdir(), 'sdq-worker');
  const hash = createModelHasher(openShardStore(workDir));
  const log = options.log ?? (() => undefined);
  const pool = calibratorPool(options.concurrency ?? 1);
  const processor = async (job: Job): Promise<ExtremaResult | HistogramResult | SweepCellResult> => {
    const t0 = performance.now();
    log(`job ${job.name} ${String(job.id).slice(-12)} start (attempt ${job.attemptsMade + 1})`);
    const done = <T>(result: T): T => {
      log(`job ${job.name} ${String(job.id).slice(-12)} done in ${Math.round(performance.now() - t0)} ms`);
      return result;
    };
    try {
      if (!(JOB_KINDS as readonly string[]).includes(job.name)) refuse(`worker ${name} (sdq ${SDQ_VERSION}) does not know job kind "${job.name}"; run one sdq version everywhere`);
      const data = job.data as CalibrationJob;
      await checkHeader(data, hash, name);
      const device = options.device ?? 'cpu';
      if (job.name === 'bench-cell') return done(await runBenchCellJob(job.data as BenchCellJob, device, name));
      if ((data.settings.device ?? 'cpu') !== device) {
        refuse(`worker ${name} runs on ${device} but the job was calibrated for ${data.settings.device ?? 'cpu'} (sdq calibrate --device); start workers with --device ${data.settings.device ?? 'cpu'}`);
      }
      const entry = pool.acquire(data);
      let result;
      try {
        result = await runCalibrationJob(job.name, data, entry.calibrator, workDir);
      } catch (e) {
        await pool.release(entry, false);
        throw e;
      }
      await pool.release(entry, true);
      return done(result);
    } catch (e) {
      log(`job ${job.name} ${String(job.id).slice(-12)} ${e instanceof UnrecoverableError ? 'refused' : 'failed'}: ${(e as Error).message}`);
      throw e;
    }
  };
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(address),
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? 30000,
    stalledInterval: options.stalledIntervalMs ?? 30000,
    // A job survives this many worker deaths before it is failed.
    maxStalledCount: 3,
    name,
  });
  let lastError = '';
  worker.on('error', (e: Error) => {
    // ioredis reports each reconnect attempt while Redis is away: one line per distinct message.
    if (e.message !== lastError) log(`queue: ${e.message}`);
    lastError = e.message;
  });
  worker.on('ready', () => {
    if (lastError) log("queue: connected");
    lastError = '';
  });
  await worker.waitUntilReady();
  return {
    name,
    close: async () => {
      await worker.close();
      await pool.close();
    },
  };
}
