import { SdqError, entropyRange, histogramUniform, percentileRange } from '@sdq/quant';
import type { HistogramState } from '@sdq/quant';
import type { Range } from './stats.js';

export interface HistogramMethodOptions {
  /** Histogram bins (onnxruntime defaults: 128 for entropy, 2048 for percentile). */
  readonly numBins?: number;
  /** Entropy: quantized bins the KL search compares against (onnxruntime default 128). */
  readonly numQuantizedBins?: number;
  /** Percentile: the percentile kept, 0..100 (onnxruntime default 99.999). */
  readonly percentile?: number;
  /** Percentile: histogram of |x| and a symmetric range (onnxruntime default true for percentile). */
  readonly symmetric?: boolean;
}

/** Global statistics of one tensor over the whole data set (pass 1). */
export interface GlobalStats {
  readonly min: number;
  readonly max: number;
  readonly absMin: number;
}

/** Fixed-range histograms summed run by run (pass 2), then a range per tensor. */
export interface HistogramAccumulator {
  add(name: string, values: Float32Array): void;
  /** The counts so far per tensor: integers in float64, so sums of counts from any split of the data are exact. */
  counts(): Map<string, Float64Array>;
  ranges(): Record<string, Range>;
}

export interface HistogramPlan {
  /** Pass 1 must also find min |x| (symmetric percentile bins |x| over [min |x|, max |x|]). */
  readonly absolute: boolean;
  /** The method's options with onnxruntime's defaults resolved (recorded in ranges.json). */
  readonly options: Record<string, number | boolean | string>;
  /** Pass 2 over fixed ranges from pass 1's global statistics; `counts` continues from counts summed elsewhere. */
  start(stats: ReadonlyMap<string, GlobalStats>, counts?: ReadonlyMap<string, Float64Array>): HistogramAccumulator;
}

/** onnxruntime create_calibrator defaults: entropy 128 bins / 128 quantized bins, percentile 2048 bins, 99.999, symmetric. */
export function createHistogramPlan(method: 'percentile' | 'entropy', options: HistogramMethodOptions): HistogramPlan {
  const numBins = options.numBins ?? (method === 'entropy' ? 128 : 2048);
  const numQuantizedBins = options.numQuantizedBins ?? 128;
  const percentile = options.percentile ?? 99.999;
  const absolute = method === 'percentile' && (options.symmetric ?? true);
  if (!Number.isInteger(numBins) || numBins < 1) throw new SdqError('INVALID_ARGUMENT', `numBins must be a positive integer (got ${numBins})`);
  if (method === 'entropy' && Math.floor(numBins / 2) < Math.floor(numQuantizedBins / 2)) {
    throw new SdqError('INVALID_ARGUMENT', `entropy needs numBins (${numBins}) >= numQuantizedBins (${numQuantizedBins})`);
  }
  if (method === 'percentile' && !(percentile >= 0 && percentile <= 100)) throw new SdqError('INVALID_ARGUMENT', `percentile must be in [0, 100] (got ${percentile})`);
  const resolved: Record<string, number | boolean | string> =
    method === 'entropy' ? { numBins, numQuantizedBins } : { numBins, percentile, symmetric: absolute };
  return {
    absolute,
    options: resolved,
    start(stats, counts) {
      const states = new Map<string, { hist: Float64Array; edges: Float32Array; lo: number; hi: number; s: GlobalStats }>();
      for (const [name, s] of stats) {
        const t = Math.max(Math.abs(s.min), Math.abs(s.max));
        const [lo, hi] = absolute ? [s.absMin, t] : [-t, t];
        const { edges } = histogramUniform(new Float32Array(0), numBins, lo, hi);
        const given = counts?.get(name);
        if (given && given.length !== numBins) throw new SdqError('SHAPE_MISMATCH', `tensor '${name}': ${given.length} histogram bins given, the plan has ${numBins}`);
        states.set(name, { hist: given ? Float64Array.from(given) : new Float64Array(numBins), edges, lo, hi, s });
      }
      return {
        add(name, values) {
          const st = states.get(name);
          if (!st) throw new SdqError('NOT_FOUND', `tensor '${name}' was not in the statistics pass`);
          let x = values;
          if (absolute) {
            x = new Float32Array(values.length);
            for (let i = 0; i < values.length; i++) x[i] = Math.abs(values[i]);
          }
          const { hist } = histogramUniform(x, numBins, st.lo, st.hi);
          for (let i = 0; i < numBins; i++) st.hist[i] += hist[i];
        },
        counts() {
          return new Map([...states].map(([name, st]) => [name, st.hist]));
        },
        ranges() {
          const out: Record<string, Range> = {};
          for (const [name, st] of states) {
            const h: HistogramState = { hist: st.hist, edges: st.edges, min: st.s.min, max: st.s.max, threshold: absolute ? undefined : st.hi };
            out[name] = method === 'entropy' ? entropyRange(h, numQuantizedBins) : percentileRange(h, percentile, absolute);
          }
          return out;
        },
      };
    },
  };
}
