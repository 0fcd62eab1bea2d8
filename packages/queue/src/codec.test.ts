import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import type { ExtremaPass, HistogramPass } from '@sdq/calib';
import { HISTOGRAM_COUNTS_ENCODING, decodeExtrema, decodeHistograms, encodeExtrema, encodeHistograms, type EncodedHistograms } from './codec.js';

// Counts as they come out of a histogram pass: non-negative integers in float64, any size up to 2^53 - 1.
const count = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.maxSafeNat());
const histograms = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 6 })
  .chain((names) => fc.tuple(fc.nat(1000), fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.array(count, { maxLength: 40 }))))))
  .map(([batches, tensors]): HistogramPass => ({ batches, counts: new Map(tensors.map(([n, c]) => [n, Float64Array.from(c)])) }));

const float = fc.double({ noNaN: false });
const extrema = fc.array(fc.tuple(fc.string(), fc.constantFrom('float32', 'float16'), float, float, float, float, float, fc.nat()), { maxLength: 8 }).map(
  (ts): ExtremaPass => ({ batches: ts.length, tensors: ts.map(([name, type, lo, hi, min, max, absMin, elements]) => ({ name, type, range: [lo, hi], min, max, absMin, elements })) }),
);

/** Through JSON as Redis and the shard store carry it. */
function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function encodedCounts(bytes: number[]): EncodedHistograms {
  return { batches: 1, names: ['t'], bins: [2], encoding: HISTOGRAM_COUNTS_ENCODING, counts: deflateRawSync(Uint8Array.from(bytes)).toString('base64') };
}

describe('shard result codec', () => {
  it('histogram counts come back exactly, names and bins in order', () => {
    fc.assert(fc.property(histograms, (h) => {
      const back = decodeHistograms(viaJson(encodeHistograms(h)));
      expect(back.batches).toBe(h.batches);
      expect([...back.counts.keys()]).toEqual([...h.counts.keys()]);
      for (const [name, c] of h.counts) expect(back.counts.get(name)).toEqual(c);
    }));
  });

  it('extrema come back bit for bit (-0, NaN, infinities, subnormals)', () => {
    fc.assert(fc.property(extrema, (e) => {
      const back = decodeExtrema(viaJson(encodeExtrema(e)));
      expect(back.batches).toBe(e.batches);
      back.tensors.forEach((t, i) => {
        const want = e.tensors[i];
        expect([t.name, t.type, t.elements]).toEqual([want.name, want.type, want.elements]);
        for (const [got, w] of [[t.range[0], want.range[0]], [t.range[1], want.range[1]], [t.min, want.min], [t.max, want.max], [t.absMin, want.absMin]]) expect(Object.is(got, w)).toBe(true);
      });
    }));
  });

  it.each([
    ['a count that is not an integer', new Map([['conv1', Float64Array.of(1, 2.5)]]), /calibration histograms: count 2\.5 at 1 is not a non-negative integer/],
    ['a negative count', new Map([['conv1', Float64Array.of(-1)]]), /count -1 at 0 is not a non-negative integer/],
    ['a count past 2^53', new Map([['conv1', Float64Array.of(2 ** 53)]]), /count 9007199254740992 at 0 is not a non-negative integer/],
  ])('refuses to encode %s', (_what, counts, message) => {
    expect(() => encodeHistograms({ batches: 1, counts })).toThrow(message);
  });

  it.each([
    ['another layout (an older stored shard)', { ...encodedCounts([1, 2]), encoding: 'float64-deflate' }, /counts encoded as float64-deflate, not leb128-deflate; the shard result is corrupt, delete it from the shard store/],
    ['counts that end inside a value', encodedCounts([1, 0x81]), /the counts end inside value 1 of 2; the shard result is corrupt/],
    ['bytes after the last count', encodedCounts([1, 2, 3]), /1 bytes after the 2 counts/],
    ['a count longer than 8 bytes', encodedCounts([0, ...Array(8).fill(0xff), 1]), /count 1 is longer than 8 bytes/],
    ['counts that are not deflated', { ...encodedCounts([1, 2]), counts: Buffer.from('not deflate').toString('base64') }, /the counts do not inflate/],
  ])('a result with %s is refused as corrupt', (_what, encoded, message) => {
    expect(() => decodeHistograms(encoded as EncodedHistograms)).toThrow(message);
  });
});
