// `sdq bench --sweep --queue`: each cell of a sweep is one job; a worker runs it with @sdq/pipeline's runSweepCell,
// the same function an in-process sweep calls, so images and quality numbers do not depend on where a cell ran.
import { UnrecoverableError } from './libs.js';
import { SdqError } from '@sdq/quant';
import { SDQ_VERSION, runSweepCell, cellLabel, type SweepCellJob, type SweepCellResult, type SweepCellRunner } from '@sdq/pipeline';
import { openQueueClient, runJobs, type JobSpec } from './coordinator.js';
import type { QueueAddress } from './connection.js';
import { contentId, jobId, type JobHeader } from './jobs.js';
import { createModelHasher } from './model-hash.js';
import type { ShardStore } from './store.js';

/** A sweep cell on the queue: the cell's settings, and the identity of its model dir (a worker refuses other bytes). */
export interface BenchCellJob extends JobHeader {
  readonly cell: SweepCellJob;
}

/**
 * A cell's content address: sdq version, model dir bytes and every setting of the cell. A rerun of the sweep takes
 * the result stored under it (its latency too: delete the store's file to measure a cell again).
 */
export function benchCellId(header: JobHeader, cell: SweepCellJob): string {
  return contentId({ sdq: header.sdq, model: header.model.hash, cell });
}

function isCellResult(v: unknown): v is SweepCellResult {
  const r = v as SweepCellResult | null;
  return typeof r === 'object' && r !== null && typeof r.row?.latency?.meanMs === 'number' && typeof r.image?.rgb === 'string';
}

/** Jobs run (and reused) by one queue runner, for the command's summary. */
export interface CellJobCounts {
  total: number;
  reused: number;
}

/** A SweepCellRunner that puts the cells on the queue at `address` for `sdq worker`s and waits for all of them. */
export function queueCellRunner(address: QueueAddress, store: ShardStore, counts: CellJobCounts = { total: 0, reused: 0 }): SweepCellRunner {
  return async (cells, onProgress) => {
    const hash = createModelHasher(store);
    // Cells share a few dirs (one per precision and recipe): each is walked and hashed once.
    const hashes = new Map<string, Promise<string>>();
    const hashOnce = (dir: string): Promise<string> => hashes.get(dir) ?? (hashes.set(dir, hash(dir)), hashOnce(dir));
    const specs: JobSpec[] = [];
    for (const cell of cells) {
      const data: BenchCellJob = { sdq: SDQ_VERSION, model: { dir: cell.dir, hash: await hashOnce(cell.dir) }, cell };
      specs.push({ id: jobId('bench-cell', benchCellId(data, cell)), kind: 'bench-cell', data });
    }
    const client = await openQueueClient(address);
    try {
      const outcome = await runJobs(client, specs, {
        store,
        accept: (spec, v) => {
          if (!isCellResult(v)) throw new SdqError('QUEUE_ERROR', `sweep cell job ${spec.id.slice(-12)} returned no cell result; is every worker running sdq ${SDQ_VERSION}?`);
        },
        task: 'sweep cells on the queue',
        onProgress,
      });
      counts.total += specs.length;
      counts.reused += outcome.reused;
      return specs.map((s) => outcome.results.get(s.id) as SweepCellResult);
    } finally {
      await client.close();
    }
  };
}

/** A worker's side of a cell job (after the header check): refuses a cell made for another device, else runs it. */
export async function runBenchCellJob(job: BenchCellJob, device: string, worker: string): Promise<SweepCellResult> {
  if (job.cell.device !== device) {
    throw new UnrecoverableError(`worker ${worker} runs on ${device} but sweep cell ${cellLabel(job.cell)} is for ${job.cell.device} ("device" in sweep.json); start workers with --device ${job.cell.device}`);
  }
  return await runSweepCell(job.cell);
}
