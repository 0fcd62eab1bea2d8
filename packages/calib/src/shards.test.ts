import { join } from 'node:path';
import { collectExtrema, collectHistogramCounts, collectRanges, mergeExtrema, mergeHistogramCounts, openCalibrationPasses, rangesFromPasses } from './stats.js';
import type { CalibrationMethod, CollectRangesOptions } from './stats.js';
import { openCalibrationData } from './reader.js';
import { FIXTURES } from './testing/paths.js';

// Pass 1 merges by min/max and pass 2 by adding counts, so the tiny UNet's 8 input sets split into uneven shards in
// any order give the single-pass ranges exactly (what sdq's queue relies on to calibrate on many machines).
const MODEL = join(FIXTURES, 'models/tiny-sd/unet/model.onnx');
const INPUTS = join(FIXTURES, 'quant/unet_calibration_inputs.npz');
const SHARDS = [[5, 6, 7], [0], [1, 2, 3, 4]];
const POLICY = { opTypes: ['Conv', 'MatMul'], activationMatMuls: false, quantizeOutputs: true } as const;

async function withReader<T>(indices: readonly number[] | undefined, use: (r: Awaited<ReturnType<typeof openCalibrationData>>) => Promise<T>): Promise<T> {
  const reader = await openCalibrationData(INPUTS, indices ? { indices } : {});
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}

describe.each(['minmax', 'percentile', 'entropy'] as CalibrationMethod[])('%s over shards of the data', (method) => {
  it('merges into exactly the single-pass ranges file', async () => {
    const options: CollectRangesOptions = { method, policy: POLICY, threads: 1, ...(method === 'percentile' ? { numBins: 128 } : {}) };
    const whole = await withReader(undefined, (r) => collectRanges(MODEL, r, options));
    // The first shard alone, the others through one set of kept sessions (as a queue worker computes them).
    const passes = await openCalibrationPasses(MODEL, { ...options, keepSessions: true });
    let histograms;
    let extrema;
    try {
      const extremaParts = [await withReader(SHARDS[0], (r) => collectExtrema(MODEL, r, options))];
      for (const shard of SHARDS.slice(1)) extremaParts.push(await withReader(shard, (r) => passes.extrema(r)));
      extrema = mergeExtrema(extremaParts);
      if (method !== 'minmax') {
        const parts = [await withReader(SHARDS[0], (r) => collectHistogramCounts(MODEL, r, extrema!, options))];
        for (const shard of SHARDS.slice(1)) parts.push(await withReader(shard, (r) => passes.histogramCounts(r, extrema!)));
        histograms = mergeHistogramCounts(parts.reverse());
      }
    } finally {
      await passes.release();
    }
    const merged = rangesFromPasses(MODEL, options, extrema, histograms);
    expect(Object.keys(merged.ranges).length).toBeGreaterThan(10);
    expect(JSON.stringify(merged)).toBe(JSON.stringify(whole));
  });
});

it('refuses to merge shards that calibrated different tensors', () => {
  const t = { type: 'float32', range: [0, 1] as const, min: 0, max: 1, absMin: 0, elements: 4 };
  expect(() => mergeExtrema([{ batches: 1, tensors: [{ name: 'a', ...t }] }, { batches: 1, tensors: [{ name: 'b', ...t }] }])).toThrow(/different tensors/);
});
