/**
 * Golden tests over every case of fixtures/quant/quantmath.json (onnxruntime 1.30's own results: get_qmin_qmax_for_qType,
 * compute_scale_zp, quantize_data, HistogramCollector). Exact where onnxruntime's result is an integer, float32-exact
 * for scales, 1e-6 relative for histogram ranges; every case with an `error` must be rejected with an SdqError.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HistogramCollector, SdqError, computeScaleZeroPoint, quantRange, quantizeData, type HistogramMethod } from './index.js';

interface ScaleCase { rmin: number; rmax: number; qtype: string; reduce_range: boolean; symmetric: boolean; qmin?: number; qmax?: number; zero_point?: number; scale?: number; error?: string }
interface DataCase { array: string; qtype: string; symmetric: boolean; reduce_range: boolean; zero_point?: number; scale?: number; quantized?: number[]; error?: string }
interface HistCase {
  data: string;
  params: { method: HistogramMethod; symmetric: boolean; num_bins: number; num_quantized_bins: number; percentile: number; scenario: 'same' | 'p3' };
  result?: { range_value: unknown[] };
  histogram?: unknown[];
  error?: string;
}
interface QuantMath {
  ort_version: string;
  compute_scale_zp: ScaleCase[];
  quantize_data: DataCase[];
  arrays: Record<string, number[]>;
  histogram_batches: Record<string, number[][]>;
  histogram_collector: HistCase[];
}

const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../../../fixtures/quant/quantmath.json', import.meta.url)), 'utf8')) as QuantMath;
const scalar = (v: unknown): number => (Array.isArray(v) ? scalar(v[0]) : (v as number));
const label = (o: object) => JSON.stringify(o);

describe(`compute_scale_zp (onnxruntime ${golden.ort_version})`, () => {
  const cases = golden.compute_scale_zp.map((c) => [`${c.qtype} [${c.rmin}, ${c.rmax}] sym=${c.symmetric} reduce=${c.reduce_range}`, c] as const);
  it.each(cases)('%s', (_name, c) => {
    const run = () => {
      const { qmin, qmax } = quantRange(c.qtype, { symmetric: c.symmetric, reduceRange: c.reduce_range });
      return { qmin, qmax, ...computeScaleZeroPoint(c.rmin, c.rmax, qmin, qmax, { symmetric: c.symmetric }) };
    };
    if (c.error !== undefined) {
      expect(run).toThrow(SdqError);
      return;
    }
    const r = run();
    expect(r.qmin).toBe(c.qmin);
    expect(r.qmax).toBe(c.qmax);
    expect(r.zeroPoint).toBe(c.zero_point);
    expect(r.scale).toBe(Math.fround(c.scale as number));
  });
});

describe('quantize_data', () => {
  const cases = golden.quantize_data.map((c) => [`${c.array} ${c.qtype} sym=${c.symmetric} reduce=${c.reduce_range}`, c] as const);
  it.each(cases)('%s', (_name, c) => {
    const run = () => quantizeData(golden.arrays[c.array], c.qtype, { symmetric: c.symmetric, reduceRange: c.reduce_range });
    if (c.error !== undefined) {
      expect(run).toThrow(SdqError);
      return;
    }
    const r = run();
    expect(r.zeroPoint).toBe(c.zero_point);
    expect(r.scale).toBe(Math.fround(c.scale as number));
    expect(Array.from(r.quantized)).toEqual(c.quantized);
  });
});

describe('HistogramCollector, three batches collected in turn', () => {
  const cases = golden.histogram_collector.map((c) => [label(c.params), c] as const);
  it.each(cases)('%s', (_name, c) => {
    const p = c.params;
    const batches = golden.histogram_batches[c.data].map((b) => Float32Array.from(b));
    const run = () => {
      const collector = new HistogramCollector({
        method: p.method,
        symmetric: p.symmetric,
        numBins: p.num_bins,
        numQuantizedBins: p.num_quantized_bins,
        percentile: p.percentile,
        scenario: p.scenario,
      });
      for (const b of batches) collector.collect(b);
      return { range: collector.computeRange(), histogram: collector.histogram };
    };
    if (c.error !== undefined) {
      expect(run).toThrow(SdqError);
      return;
    }
    const { range, histogram } = run();
    const [lo, hi] = [scalar(c.result?.range_value[0]), scalar(c.result?.range_value[1])];
    expect(Math.abs(range[0] - lo)).toBeLessThanOrEqual(1e-6 * Math.abs(lo));
    expect(Math.abs(range[1] - hi)).toBeLessThanOrEqual(1e-6 * Math.abs(hi));
    // the histogram itself: counts exact, edges exact as float32, min/max (and threshold) exact
    const [hist, edges, ...rest] = c.histogram as [number[], number[], ...unknown[]];
    expect(Array.from(histogram?.hist ?? [])).toEqual(hist);
    expect(Array.from(histogram?.edges ?? [])).toEqual(edges.map(Math.fround));
    expect(histogram?.min).toBe(Math.fround(scalar(rest[0])));
    expect(histogram?.max).toBe(Math.fround(scalar(rest[1])));
    if (rest.length > 2) expect(histogram?.threshold).toBe(Math.fround(scalar(rest[2])));
  });
});
