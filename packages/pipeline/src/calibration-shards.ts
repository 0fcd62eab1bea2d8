// sdq calibrate split into shards of generations: each shard captures its UNet inputs and runs the two calibration
// passes over them alone; merged (min/max, then summed histograms) they give exactly the single-process ranges.
import { SdqError } from '@sdq/quant';
import {
  openCalibrationData, collectExtrema, collectHistogramCounts, mergeExtrema, mergeHistogramCounts, rangesFromPasses,
  type ExtremaPass, type HistogramPass, type RangesFile,
} from './calib-api.js';
import { captureCalibrationSet, keptCalibrationSteps, calibrationRangeOptions, calibratedUnet, type CalibrationSettings } from './int8.js';

/**
 * The generations of a calibration in shards of at most `perShard`, in order; generations that keep no UNet step
 * (past the sample budget) are left out, since they add nothing to the ranges.
 */
export function planCalibrationShards(settings: Pick<CalibrationSettings, 'prompts' | 'steps' | 'samples'>, perShard: number): number[][] {
  if (!Number.isInteger(perShard) || perShard < 1) throw new SdqError('INVALID_ARGUMENT', `generations per shard must be a positive integer (got ${perShard})`);
  const kept = keptCalibrationSteps(settings.prompts.length, settings.steps, settings.samples);
  const useful = kept.flatMap((steps, g) => (steps.length > 0 ? [g] : []));
  const shards: number[][] = [];
  for (let i = 0; i < useful.length; i += perShard) shards.push(useful.slice(i, i + perShard));
  return shards;
}

/** Capture the UNet inputs of these generations (their seeds and kept steps as in the whole run) into `npzPath`. */
export async function captureShardInputs(modelDir: string, settings: CalibrationSettings, generations: readonly number[], npzPath: string): Promise<{ sets: number }> {
  const r = await captureCalibrationSet(modelDir, npzPath, { ...settings, generations });
  return { sets: r.sets };
}

async function overInputs<T>(npzPath: string, use: (reader: Awaited<ReturnType<typeof openCalibrationData>>) => Promise<T>): Promise<T> {
  const reader = await openCalibrationData(npzPath);
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}

/** Pass 1 of one shard over its captured inputs. */
export async function shardExtrema(modelDir: string, settings: CalibrationSettings, npzPath: string): Promise<ExtremaPass> {
  return overInputs(npzPath, (reader) => collectExtrema(calibratedUnet(modelDir), reader, calibrationRangeOptions(settings)));
}

/** Pass 2 of one shard: histogram counts over the ranges of `extrema`, merged over every shard. */
export async function shardHistogramCounts(modelDir: string, settings: CalibrationSettings, npzPath: string, extrema: ExtremaPass): Promise<HistogramPass> {
  return overInputs(npzPath, (reader) => collectHistogramCounts(calibratedUnet(modelDir), reader, extrema, calibrationRangeOptions(settings)));
}

/** The ranges file of the whole calibration from every shard's passes (histograms for percentile and entropy). */
export function rangesFromShards(modelDir: string, settings: CalibrationSettings, extrema: readonly ExtremaPass[], histograms?: readonly HistogramPass[]): RangesFile {
  return rangesFromPasses(calibratedUnet(modelDir), calibrationRangeOptions(settings), mergeExtrema(extrema), histograms ? mergeHistogramCounts(histograms) : undefined);
}
