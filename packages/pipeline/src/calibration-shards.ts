// sdq calibrate split into shards of generations: each shard captures its UNet inputs and runs the two calibration
// passes over them alone; merged (min/max, then summed histograms) they give exactly the single-process ranges.
import { SdqError } from '@sdq/quant';
import {
  openCalibrationData, openCalibrationPasses, mergeExtrema, mergeHistogramCounts, rangesFromPasses,
  type CalibrationPasses, type ExtremaPass, type HistogramPass, type RangesFile,
} from './calib-api.js';
import { openCalibrationCapture, keptCalibrationSteps, calibrationRangeOptions, calibratedUnet, type CalibrationCapture, type CalibrationSettings } from './int8.js';

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

/**
 * A queue worker's calibration state for one model and setting: the FP32 pipeline for capture and the calibration
 * sessions, loaded once and reused for every shard (the fixed cost of a shard is then its own work alone).
 */
export interface ShardCalibrator {
  /**
   * Capture the UNet inputs of these generations of `settings` (their prompts, seeds and kept steps as in the whole
   * run) into `npzPath`. Any settings of the calibrator's threads: one calibrator serves every run on its model.
   */
  capture(settings: CalibrationSettings, generations: readonly number[], npzPath: string): Promise<{ sets: number }>;
  /** Pass 1 of one shard over its captured inputs. */
  extrema(npzPath: string): Promise<ExtremaPass>;
  /** Pass 2 of one shard: histogram counts over the ranges of `extrema`, merged over every shard. */
  histogramCounts(npzPath: string, extrema: ExtremaPass): Promise<HistogramPass>;
  dispose(): Promise<void>;
}

async function overInputs<T>(npzPath: string, use: (reader: Awaited<ReturnType<typeof openCalibrationData>>) => Promise<T>): Promise<T> {
  const reader = await openCalibrationData(npzPath);
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}

/** A calibrator for one model, onnxruntime thread count and range method (what its loaded sessions depend on). */
export function openShardCalibrator(modelDir: string, settings: Pick<CalibrationSettings, 'threads' | 'method' | 'device'>): ShardCalibrator {
  let capture: Promise<CalibrationCapture> | undefined;
  let passes: Promise<CalibrationPasses> | undefined;
  const openPasses = () => (passes ??= openCalibrationPasses(calibratedUnet(modelDir), { ...calibrationRangeOptions(settings), keepSessions: true }));
  return {
    async capture(run, generations, npzPath) {
      if (run.threads !== settings.threads || run.device !== settings.device) {
        throw new SdqError('INVALID_ARGUMENT', `this calibrator runs ${settings.threads} onnxruntime threads on ${settings.device ?? 'cpu'}, the shard asks for ${run.threads} on ${run.device ?? 'cpu'}`);
      }
      capture ??= openCalibrationCapture(modelDir, settings.threads, settings.device);
      const r = await (await capture).capture(npzPath, { ...run, generations });
      return { sets: r.sets };
    },
    extrema: async (npzPath) => overInputs(npzPath, async (reader) => (await openPasses()).extrema(reader)),
    histogramCounts: async (npzPath, extrema) => overInputs(npzPath, async (reader) => (await openPasses()).histogramCounts(reader, extrema)),
    async dispose() {
      const [c, p] = await Promise.allSettled([capture, passes]);
      capture = undefined;
      passes = undefined;
      if (c.status === 'fulfilled') await c.value?.dispose();
      if (p.status === 'fulfilled') await p.value?.release();
    },
  };
}

/** The ranges file of the whole calibration from every shard's passes (histograms for percentile and entropy). */
export function rangesFromShards(modelDir: string, settings: CalibrationSettings, extrema: readonly ExtremaPass[], histograms?: readonly HistogramPass[]): RangesFile {
  return rangesFromPasses(calibratedUnet(modelDir), calibrationRangeOptions(settings), mergeExtrema(extrema), histograms ? mergeHistogramCounts(histograms) : undefined);
}
