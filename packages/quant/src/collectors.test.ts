import fc from 'fast-check';
import { HistogramCollector, MinMaxCollector, SdqError, TensorRangeCollector, createRangeCollector, packInt4, unpackInt4 } from './index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SdqError) return e.code;
    throw e;
  }
  return undefined;
}

describe('MinMaxCollector', () => {
  it('keeps the global min/max over batches', () => {
    const c = new MinMaxCollector();
    c.collect(Float32Array.of(-1, 2));
    c.collect([Float32Array.of(0.5), Float32Array.of(-3)]);
    expect(c.computeRange()).toEqual([-3, 2]);
    expect(c.count).toBe(2);
  });
  it('symmetric gives [-absmax, absmax]', () => {
    const c = new MinMaxCollector({ symmetric: true });
    c.collect([-1, 2.5]);
    expect(c.computeRange()).toEqual([-2.5, 2.5]);
  });
  it('moving average follows onnxruntime merge_range', () => {
    const c = new MinMaxCollector({ movingAverage: true, averagingConstant: 0.5 });
    c.collect([0, 4]);
    c.collect([-2, 2]);
    expect(c.computeRange()).toEqual([-1, 3]);
  });
  it.each([
    ['empty batch', () => new MinMaxCollector().collect([]), 'EMPTY_INPUT'],
    ['NaN value', () => new MinMaxCollector().collect([1, NaN]), 'INVALID_RANGE'],
    ['infinite value', () => new MinMaxCollector().collect([-Infinity, 1]), 'INVALID_RANGE'],
    ['range before collect', () => new MinMaxCollector().computeRange(), 'EMPTY_INPUT'],
    ['bad averaging constant', () => new MinMaxCollector({ movingAverage: true, averagingConstant: 2 }), 'INVALID_ARGUMENT'],
  ])('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
  it('equals Math.min/max over all values in any batching (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const c = new MinMaxCollector();
        for (const b of batches) c.collect(Float32Array.from(b));
        const all = batches.flat().map(Math.fround);
        expect(c.computeRange()).toEqual([Math.min(...all), Math.max(...all)]);
      }),
    );
  });
});

describe('HistogramCollector', () => {
  it('growing histograms keep every finite value (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: -100000, max: 100000 }).map((v) => v / 1000), { minLength: 1, maxLength: 80 }), { minLength: 1, maxLength: 5 }), (batches) => {
        const c = new HistogramCollector({ method: 'entropy', numBins: 16, numQuantizedBins: 8 });
        // the first batch spans [-1, 1] so later batches grow the 16 bins at most 100x (entropy is O(bins^2))
        const first = [-1, 1, ...batches[0]];
        for (const b of [first, ...batches.slice(1)]) c.collect(Float32Array.from(b));
        const h = c.histogram;
        expect(h?.hist.reduce((s, v) => s + v, 0)).toBe(batches.flat().length + 2);
        expect(h?.hist.length).toBe((h?.edges.length ?? 0) - 1);
        const [lo, hi] = c.computeRange();
        expect(lo).toBeLessThanOrEqual(hi);
      }),
    );
  });
  it('refuses to grow a histogram whose bin width underflows (onnxruntime fails there too)', () => {
    const c = new HistogramCollector({ method: 'entropy', numBins: 16, numQuantizedBins: 8 });
    c.collect([1e-45]);
    expect(codeOf(() => c.collect([-3e-45]))).toBe('INVALID_RANGE');
  });
  it('refuses an entropy search over more than 65536 bins (O(bins^2)) with advice', () => {
    const c = new HistogramCollector({ method: 'entropy', numBins: 16, numQuantizedBins: 8 });
    c.collect([-0.001, 0.001]);
    c.collect([-100, 100]);
    expect(c.histogram?.hist.length).toBeGreaterThan(65536);
    expect(() => c.computeRange()).toThrow(/representative first batch/);
  });
  it('ignores NaN values as onnxruntime (nanmin/nanmax, np.histogram drops them)', () => {
    const a = new HistogramCollector({ method: 'percentile', symmetric: false, numBins: 64 });
    const b = new HistogramCollector({ method: 'percentile', symmetric: false, numBins: 64 });
    a.collect([1, -2, NaN, 3]);
    b.collect([1, -2, 3]);
    expect(a.computeRange()).toEqual(b.computeRange());
  });
  it.each([
    ['infinite value', () => new HistogramCollector({ method: 'entropy' }).collect([1, Infinity]), 'INVALID_RANGE'],
    ['empty batch', () => new HistogramCollector({ method: 'entropy' }).collect([]), 'EMPTY_INPUT'],
    ['range before collect', () => new HistogramCollector({ method: 'percentile' }).computeRange(), 'EMPTY_INPUT'],
    ['percentile > 100', () => new HistogramCollector({ method: 'percentile', percentile: 101 }), 'INVALID_ARGUMENT'],
    ['distribution with < 512 bins', () => new HistogramCollector({ method: 'distribution', numBins: 128 }), 'INVALID_ARGUMENT'],
    ['unknown method', () => new HistogramCollector({ method: 'kl' as 'entropy' }), 'INVALID_ARGUMENT'],
  ])('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
  it('distribution reports mean and std of the histogram', () => {
    const c = new HistogramCollector({ method: 'distribution', numBins: 1024 });
    const x = Float32Array.from({ length: 10000 }, (_, i) => Math.sin(i * 12.9898) * 3);
    c.collect(x);
    const d = c.computeDistribution();
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    expect(d.avg).toBeCloseTo(mean, 2);
    expect(d.std).toBeCloseTo(std, 2);
    expect(c.computeRange()).toEqual(d.range);
  });
});

describe('TensorRangeCollector', () => {
  it('keeps one collector per tensor and names the tensor in errors', () => {
    const t = new TensorRangeCollector({ method: 'minmax' });
    t.collectBatch({ a: Float32Array.of(1, 2), b: [Float32Array.of(-1), Float32Array.of(5)] });
    t.collect('a', Float32Array.of(-4));
    expect(t.names).toEqual(['a', 'b']);
    expect(t.computeRanges()).toEqual({ a: [-4, 2], b: [-1, 5] });
    expect(() => t.collect('c', [NaN])).toThrow(/tensor "c"/);
    expect(codeOf(() => t.computeRange('nope'))).toBe('NOT_FOUND');
  });
  it('builds histogram collectors for the histogram methods', () => {
    const t = new TensorRangeCollector({ method: 'percentile', percentile: 100, symmetric: false, numBins: 32 });
    t.collect('x', [-1, 0, 3]);
    // onnxruntime takes the left edge of the bin where the cdf reaches the percentile: 3 - 3/16 here
    expect(t.computeRange('x')).toEqual([-1, 3 - 3 / 16]);
    expect(createRangeCollector({ method: 'entropy' })).toBeInstanceOf(HistogramCollector);
  });
});

describe('int4 packing', () => {
  it('packs low nibble first and round-trips (property)', () => {
    expect(Array.from(packInt4([1, -1, 7]))).toEqual([0xf1, 0x07]);
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 40 }), (signed, raw) => {
        const v = signed ? raw.map((x) => x - 8) : raw;
        expect(Array.from(unpackInt4(packInt4(v, signed), v.length, signed))).toEqual(v);
      }),
    );
  });
  it('rejects values outside the 4-bit range', () => {
    expect(codeOf(() => packInt4([8]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => unpackInt4(new Uint8Array(1), 3))).toBe('INVALID_ARGUMENT');
  });
});
