// The coordinator's side: put jobs on the queue under their content ids, wait for all of them, keep each result once.
import { Queue, QueueEvents, type Job } from './libs.js';
import { SdqError } from '@sdq/quant';
import type { ProgressListener } from '@sdq/pipeline';
import { bullConnection, type QueueAddress } from './connection.js';
import { QUEUE_NAME, type JobKind } from './jobs.js';
import type { ShardStore } from './store.js';

export interface JobSpec {
  readonly id: string;
  readonly kind: JobKind;
  readonly data: object;
}

export interface RunJobsOptions {
  readonly store: ShardStore;
  /** Checks a result's shape before it is kept (throw to refuse it). */
  readonly accept: (spec: JobSpec, value: unknown) => void;
  readonly task: string;
  readonly onProgress?: ProgressListener;
  /** How often jobs are looked up besides the completion events (default 1000 ms): catches events missed while Redis was away. */
  readonly pollMs?: number;
  /** Stops the wait (Ctrl-C of the coordinator): runJobs then rejects with an INTERRUPTED SdqError; queued jobs stay queued. */
  readonly signal?: AbortSignal;
}

export interface JobsOutcome {
  /** Result per job id: each job counted once, however often it ran. */
  readonly results: ReadonlyMap<string, unknown>;
  /** Jobs whose results came from the shard store or from a finished job of an earlier run. */
  readonly reused: number;
}

/** A queue client for one coordinator run: the queue and its event stream, closed together. */
export interface QueueClient {
  readonly queue: Queue;
  readonly events: QueueEvents;
  close(): Promise<void>;
}

export async function openQueueClient(address: QueueAddress): Promise<QueueClient> {
  const connection = bullConnection(address);
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // Connection errors while Redis restarts are retried by ioredis; the poll below carries on once it is back.
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  await events.waitUntilReady();
  return {
    queue,
    events,
    close: async () => {
      await Promise.allSettled([events.close(), queue.close()]);
    },
  };
}

const JOB_OPTIONS = {
  // A job whose worker died is put back by BullMQ's stalled-job check; attempts cover errors thrown by a job.
  attempts: 3,
  backoff: { type: 'fixed', delay: 500 },
  // Finished jobs stay a day: a coordinator restarted within that time takes their results instead of redoing them.
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 24 * 3600 },
} as const;

/**
 * Run every job once: results already in the store are taken as they are; the others are added under their ids
 * (adding an id that exists is a no-op, so reruns and retries never duplicate work) and awaited. A job that failed
 * in an earlier run is retried; one that fails now ends the run with the worker's reason.
 */
export async function runJobs(client: QueueClient, specs: readonly JobSpec[], options: RunJobsOptions): Promise<JobsOutcome> {
  const results = new Map<string, unknown>();
  let reused = 0;
  const progress = () => options.onProgress?.({ task: options.task, done: results.size, total: specs.length });
  for (const spec of specs) {
    const stored = await options.store.get(spec.id);
    if (stored === undefined) continue;
    try {
      options.accept(spec, stored);
      results.set(spec.id, stored);
      reused++;
    } catch {
      // a stored result of an older layout: computed again
    }
  }
  progress();
  const pending = new Map(specs.filter((s) => !results.has(s.id)).map((s) => [s.id, s]));
  if (pending.size === 0) return { results, reused };

  const { queue, events } = client;
  let failure: SdqError | undefined;
  let wake: () => void = () => undefined;
  const keep = async (spec: JobSpec, value: unknown): Promise<void> => {
    // Merged once: the completion event and the poll may both report a job, and a retried job reports again.
    if (!pending.has(spec.id)) return;
    options.accept(spec, value);
    pending.delete(spec.id);
    results.set(spec.id, value);
    await options.store.put(spec.id, value);
    progress();
  };
  const inspect = async (spec: JobSpec, job: Job | undefined, firstLook: boolean): Promise<void> => {
    if (!job) {
      // Not on the queue (never added, or lost with a Redis that restarted without persistence): add it again.
      await queue.add(spec.kind, spec.data, { ...JOB_OPTIONS, jobId: spec.id });
      return;
    }
    const state = await job.getState();
    if (state === 'completed') {
      if (firstLook) reused++;
      // The job may have completed between the fetch and the state query: its result is in a fresh read.
      const done = job.returnvalue == null ? await queue.getJob(spec.id) : job;
      await keep(spec, done?.returnvalue);
    } else if (state === 'failed') {
      if (firstLook) await job.retry('failed');
      else failure ??= new SdqError('QUEUE_ERROR', `${options.task}: job ${spec.kind} ${spec.id.slice(-12)} failed on a worker: ${job.failedReason ?? 'no reason given'}`);
    }
  };
  const onDone = ({ jobId }: { jobId: string }) => {
    const spec = pending.get(jobId);
    if (spec) void queue.getJob(jobId).then((job) => inspect(spec, job, false)).then(() => wake(), (e: unknown) => { failure ??= asQueueError(e, options.task); wake(); });
  };
  const onAbort = () => wake();
  events.on('completed', onDone);
  events.on('failed', onDone);
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (const spec of [...pending.values()]) await inspect(spec, await queue.getJob(spec.id), true);
    while (pending.size > 0 && !failure && !options.signal?.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (pending.size === 0 || failure || options.signal?.aborted) break;
      for (const spec of [...pending.values()]) await inspect(spec, await queue.getJob(spec.id), false);
    }
  } finally {
    events.off('completed', onDone);
    events.off('failed', onDone);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  if (pending.size > 0 && options.signal?.aborted) throw new SdqError('INTERRUPTED', `${options.task}: interrupted with ${results.size} of ${specs.length} jobs done`);
  return { results, reused };
}

function asQueueError(e: unknown, task: string): SdqError {
  return e instanceof SdqError ? e : new SdqError('QUEUE_ERROR', `${task}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
