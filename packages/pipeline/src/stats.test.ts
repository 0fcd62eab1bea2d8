import { percentile, latencyStats } from './stats.js';

describe('latency statistics', () => {
  it.each([
    // numpy.percentile(values, q) reference values
    [[1, 2, 3, 4], 50, 2.5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1],
    [[5], 90, 5],
    [[10, 0], 90, 9],
  ])('percentile(%j, %d) = %d', (values, q, expected) => {
    expect(percentile(values, q)).toBeCloseTo(expected, 12);
  });

  it('summarizes runs', () => {
    const s = latencyStats([30, 10, 20]);
    expect(s).toEqual({ meanMs: 20, medianMs: 20, p90Ms: 28, minMs: 10, maxMs: 30 });
  });

  it('empty runs give NaN, not a crash', () => {
    expect(Number.isNaN(latencyStats([]).meanMs)).toBe(true);
  });
});
