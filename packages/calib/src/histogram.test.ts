import fc from 'fast-check';
import { HistogramCollector } from '@sdq/quant';
import { createHistogramPlan } from './histogram.js';
import type { GlobalStats } from './histogram.js';

/** Pass-1 statistics of a tensor's batches, as the in-graph reductions compute them. */
function statsOf(batches: Float32Array[]): GlobalStats {
  let min = Infinity;
  let max = -Infinity;
  let absMin = Infinity;
  for (const b of batches) for (const v of b) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    absMin = Math.min(absMin, Math.abs(v));
  }
  return { min, max, absMin };
}

const batchesArb = fc.array(fc.array(fc.float({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 200 }).map((a) => Float32Array.from(a)), { minLength: 1, maxLength: 5 });

describe('two-pass histograms equal onnxruntime calibrator histograms (all runs collected at once)', () => {
  it.each([
    ['entropy 128/128 (defaults)', 'entropy', {}],
    ['entropy 512/128', 'entropy', { numBins: 512, numQuantizedBins: 128 }],
    ['percentile symmetric (defaults)', 'percentile', {}],
    ['percentile 99.9 asymmetric', 'percentile', { percentile: 99.9, symmetric: false, numBins: 256 }],
  ] as const)('%s', (_label, method, options) => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const plan = createHistogramPlan(method, options);
        const acc = plan.start(new Map([['t', statsOf(batches)]]));
        for (const b of batches) acc.add('t', b);
        const reference = new HistogramCollector({ method, ...options });
        reference.collect(batches); // one call with every run's array: onnxruntime's calibrate() semantics
        expect(acc.ranges().t).toEqual(reference.computeRange());
      }),
      { numRuns: method === 'entropy' && 'numBins' in options ? 12 : 40 },
    );
  });
});
