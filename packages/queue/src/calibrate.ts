// `sdq calibrate --queue`: the calibration split into shards of generations, computed by workers in two rounds
// (extrema, then histograms over the merged extrema) and merged into exactly the single-process ranges.
import * as path from 'node:path';
import { SdqError, isSdqError } from '@sdq/quant';
import {
  SDQ_VERSION, calibrationPromptCount, checkModelDir, planCalibrationShards, rangesFromShards, resolveCalibrationSettings, writeCalibrationFiles, writeDirAtomic,
  type CalibrateOptions,
} from '@sdq/pipeline';
import { checkQueue } from './connection.js';
import { mergeExtrema, type CalibrationMethod } from '@sdq/calib';
import { HISTOGRAM_COUNTS_ENCODING, decodeExtrema, decodeHistograms, encodeExtrema } from './codec.js';
import { openQueueClient, runJobs, type JobSpec } from './coordinator.js';
import { calibrationShardId, jobId, type CalibrationJob, type ExtremaResult, type HistogramResult, type JobHeader } from './jobs.js';
import { createModelHasher } from './model-hash.js';
import { defaultShardStore, openShardStore } from './store.js';

export interface QueueCalibrateOptions extends CalibrateOptions {
  /** redis://host:port of the queue the workers listen on. */
  readonly queue: string;
  /** Generations per job (default 1). */
  readonly shardSize?: number;
  /** Where shard results are kept for reruns (default defaultShardStore()). */
  readonly shardStore?: string;
  /**
   * Stops the wait for shard results (the CLI aborts it on Ctrl-C): calibrateOnQueue then rejects with an
   * INTERRUPTED SdqError and writes nothing; finished shards stay in the store and queued jobs stay queued.
   */
  readonly signal?: AbortSignal;
  /**
   * Called once every shard result is in, before the merge and the write, which are not abortable: entropy's KL
   * search there holds the event loop for minutes on SD, so the CLI stops catching Ctrl-C at this point.
   */
  readonly onAllShardsIn?: () => void;
}

export interface QueueCalibrateResult {
  readonly outDir: string;
  readonly sets: number;
  readonly generations: number;
  readonly tensors: number;
  readonly method: CalibrationMethod;
  /** Prompts given (or the recipe's). */
  readonly prompts: number;
  readonly files: string[];
  /** Jobs of both rounds, and how many of them were taken from earlier runs. */
  readonly jobs: { readonly total: number; readonly reused: number };
}

function isExtremaResult(v: unknown): v is ExtremaResult {
  return typeof v === 'object' && v !== null && typeof (v as ExtremaResult).sets === 'number' && typeof (v as ExtremaResult).extrema?.numbers === 'string';
}

function isHistogramResult(v: unknown): v is HistogramResult {
  const h = (v as HistogramResult | null)?.histograms;
  return typeof v === 'object' && v !== null && typeof h?.counts === 'string' && h.encoding === HISTOGRAM_COUNTS_ENCODING;
}

function expect<T>(guard: (v: unknown) => v is T, what: string): (spec: JobSpec, v: unknown) => void {
  return (spec, v) => {
    if (!guard(v)) throw new SdqError('QUEUE_ERROR', `job ${spec.id.slice(-12)} returned no ${what}; is every worker running sdq ${SDQ_VERSION}?`);
  };
}

export async function calibrateOnQueue(modelDir: string, outDir: string, options: QueueCalibrateOptions): Promise<QueueCalibrateResult> {
  const address = await checkQueue(options.queue);
  await checkModelDir(modelDir);
  const settings = await resolveCalibrationSettings(modelDir, options);
  const storeDir = options.shardStore ?? defaultShardStore();
  const store = openShardStore(storeDir);
  const header: JobHeader = { sdq: SDQ_VERSION, model: { dir: path.resolve(modelDir), hash: await createModelHasher(store)(modelDir) } };
  const shards = planCalibrationShards(settings, options.shardSize ?? 1).map((generations) => ({ generations, shard: calibrationShardId(header, settings, generations) }));
  const client = await openQueueClient(address);
  try {
    const job = (s: (typeof shards)[number], extra: Partial<CalibrationJob> = {}): CalibrationJob => ({ ...header, settings, generations: s.generations, shard: s.shard, ...extra });
    const round1: JobSpec[] = shards.map((s) => ({ id: jobId('calib-extrema', s.shard), kind: 'calib-extrema', data: job(s) }));
    const first = await runJobs(client, round1, { store, accept: expect(isExtremaResult, 'extrema'), task: `calibrate shards: capture + extrema (${settings.method})`, onProgress: options.onProgress, signal: options.signal });
    const extremaResults = round1.map((s) => first.results.get(s.id) as ExtremaResult);
    const extrema = extremaResults.map((r) => decodeExtrema(r.extrema));
    let histograms;
    let second = { reused: 0, total: 0 };
    if (settings.method !== 'minmax') {
      // Pass 2 bins every shard over the extrema of the whole data, so it starts only once all of pass 1 is in.
      const encodedMerged = encodeExtrema(mergeExtrema(extrema));
      const round2: JobSpec[] = shards.map((s) => ({ id: jobId('calib-histogram', s.shard), kind: 'calib-histogram', data: job(s, { extrema: encodedMerged }) }));
      const r = await runJobs(client, round2, { store, accept: expect(isHistogramResult, 'histograms'), task: `calibrate shards: histograms (${settings.method})`, onProgress: options.onProgress, signal: options.signal });
      histograms = round2.map((s) => decodeHistograms((r.results.get(s.id) as HistogramResult).histograms));
      second = { reused: r.reused, total: round2.length };
    }
    options.onAllShardsIn?.();
    const ranges = rangesFromShards(modelDir, settings, extrema, histograms);
    const written = await writeDirAtomic(outDir, (tmp) => writeCalibrationFiles(tmp, modelDir, ranges, settings, options.trtVersion));
    return {
      outDir,
      sets: extremaResults.reduce((n, r) => n + r.sets, 0),
      generations: settings.prompts.length,
      tensors: Object.keys(ranges.ranges).length,
      method: settings.method,
      prompts: await calibrationPromptCount(modelDir, options),
      files: written.map((f) => path.join(outDir, f)),
      jobs: { total: round1.length + second.total, reused: first.reused + second.reused },
    };
  } catch (e) {
    if (isSdqError(e) && e.code === 'INTERRUPTED') {
      throw new SdqError('INTERRUPTED', `${e.message}; nothing written to ${outDir}; finished shards are kept in ${storeDir} and queued jobs stay for the workers: run the same command again to finish`);
    }
    throw e;
  } finally {
    await client.close();
  }
}
