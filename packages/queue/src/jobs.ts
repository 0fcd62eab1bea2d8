// The jobs sdq puts on the queue: what a worker needs to compute one shard, and the content address of its result.
import { createHash } from 'node:crypto';
import type { CalibrationSettings } from '@sdq/pipeline';
import type { EncodedExtrema, EncodedHistograms } from './codec.js';

/** One BullMQ queue per purpose; workers listen on all of them. */
export const QUEUE_NAME = 'sdq';

export const JOB_KINDS = ['calib-extrema', 'calib-histogram', 'bench-cell'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What every job names so a worker can refuse work it would compute differently. */
export interface JobHeader {
  /** sdq version of the coordinator: a worker of another version refuses the job. */
  readonly sdq: string;
  /** The model dir as the worker reads it, and the sha256 of its files on the coordinator. */
  readonly model: { readonly dir: string; readonly hash: string };
}

/** Capture one shard's UNet inputs, then pass 1 (extrema); pass 2 (histograms) when `extrema` (merged) is given. */
export interface CalibrationJob extends JobHeader {
  readonly settings: CalibrationSettings;
  /** Generation indices of the shard (their seeds and kept steps are those of the whole run). */
  readonly generations: number[];
  /** Content address of the shard's captured inputs (reused by its second round on the same machine). */
  readonly shard: string;
  readonly extrema?: EncodedExtrema;
}

export interface ExtremaResult {
  readonly sets: number;
  readonly extrema: EncodedExtrema;
}

export interface HistogramResult {
  readonly histograms: EncodedHistograms;
}

/** sha256 of a JSON-able value with sorted keys (the same content gives the same id on every machine). */
export function contentId(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

/**
 * A shard's id: model bytes, sdq version, every calibration setting (all prompts and seeds: pass 2 depends on the
 * extrema of the whole run) and the shard's generations.
 */
export function calibrationShardId(header: JobHeader, settings: CalibrationSettings, generations: readonly number[]): string {
  return contentId({ sdq: header.sdq, model: header.model.hash, settings, generations });
}

/** The BullMQ job id of one round of one shard: a retried or re-added job keeps its id, so it is merged once. */
export function jobId(kind: JobKind, shard: string): string {
  return `${kind}-${shard}`;
}
