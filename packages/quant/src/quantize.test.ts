import fc from 'fast-check';
import {
  SdqError,
  computeScaleZeroPoint,
  dequantize,
  dequantizePerAxis,
  quantRange,
  quantize,
  quantizeData,
  quantizeDataPerAxis,
  quantizePerAxis,
  quantizeReference,
  quantizeValue,
  type QuantTypeName,
} from './index.js';

const TYPES: QuantTypeName[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];
const f32 = Math.fround;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SdqError) return e.code;
    throw e;
  }
  return undefined;
}

describe('quantRange (onnxruntime get_qmin_qmax_for_qType)', () => {
  it.each([
    ['int8', {}, -128, 127],
    ['int8', { symmetric: true }, -127, 127],
    ['int8', { reduceRange: true }, -64, 64],
    ['int8', { reduceRange: true, symmetric: true }, -64, 64],
    ['uint8', {}, 0, 255],
    ['uint8', { reduceRange: true }, 0, 127],
    ['int16', { symmetric: true }, -32767, 32767],
    ['int16', { reduceRange: true }, -16384, 16384],
    ['uint16', {}, 0, 65535],
    ['int4', {}, -8, 7],
    ['int4', { symmetric: true }, -8, 7],
    ['int4', { reduceRange: true }, -4, 3],
    ['uint4', { reduceRange: true }, 0, 7],
  ] as const)('%s %j -> [%i, %i]', (type, opts, qmin, qmax) => {
    expect(quantRange(type, opts)).toEqual({ qmin, qmax });
  });
});

describe('computeScaleZeroPoint', () => {
  it('s = (rmax - rmin) / (qmax - qmin) in float64 then float32, z = round(qmin - rmin / s)', () => {
    const { scale, zeroPoint } = computeScaleZeroPoint(-1, 3, 0, 255);
    expect(scale).toBe(f32(4 / 255));
    expect(zeroPoint).toBe(Math.round(255 / 4)); // 63.75 -> 64
  });
  it('widens the range to include 0 and honours minRealRange', () => {
    expect(computeScaleZeroPoint(2, 3, 0, 255)).toEqual({ zeroPoint: 0, scale: f32(3 / 255) });
    expect(computeScaleZeroPoint(0, 0.001, 0, 255, { minRealRange: 0.0001 }).scale).toBe(f32(f32(0.001) / 255));
    expect(computeScaleZeroPoint(0, 0, 0, 255, { minRealRange: 1 }).scale).toBe(f32(1 / 255));
  });
  it('gives scale 1 and zero point 0 below float32 tiny', () => {
    expect(computeScaleZeroPoint(0, 1e-40, -128, 127)).toEqual({ zeroPoint: 0, scale: 1 });
  });
  it.each([
    ['qmin > 0', () => computeScaleZeroPoint(-1, 1, 1, 255)],
    ['qmax < 0', () => computeScaleZeroPoint(-1, 1, -128, -1)],
    ['NaN rmin', () => computeScaleZeroPoint(NaN, 1, 0, 255)],
    ['NaN rmax', () => computeScaleZeroPoint(-1, NaN, 0, 255)],
    ['infinite rmax', () => computeScaleZeroPoint(-1, Infinity, 0, 255)],
    ['qmin == qmax', () => computeScaleZeroPoint(-1, 1, 0, 0)],
  ])('rejects %s with INVALID_RANGE', (_name, fn) => {
    expect(codeOf(fn)).toBe('INVALID_RANGE');
  });
  it('zero point stays within [qmin, qmax] for any finite range (property)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constantFrom(...TYPES), fc.boolean(), (a, b, type, symmetric) => {
        const { qmin, qmax } = quantRange(type, { symmetric });
        const { zeroPoint, scale } = computeScaleZeroPoint(Math.min(a, b), Math.max(a, b), qmin, qmax, { symmetric });
        expect(zeroPoint).toBeGreaterThanOrEqual(qmin);
        expect(zeroPoint).toBeLessThanOrEqual(qmax);
        expect(scale).toBeGreaterThan(0);
        expect(f32(scale)).toBe(scale);
      }),
    );
  });
});

describe('quantize / dequantize per tensor (ONNX QuantizeLinear / DequantizeLinear)', () => {
  it('rounds half to even and saturates', () => {
    const x = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 127.5, -128.5, 300, -300];
    expect(Array.from(quantize(x, 1, 0, 'int8'))).toEqual([-2, -2, 0, 0, 2, 2, 4, 127, -128, 127, -128]);
    expect(Array.from(quantize(x, 1, 128, 'uint8'))).toEqual([126, 126, 128, 128, 130, 130, 132, 255, 0, 255, 0]);
  });
  it('maps NaN to 0 and +-inf to the type limits', () => {
    expect(Array.from(quantize([NaN, Infinity, -Infinity], 0.1, 3, 'int8'))).toEqual([0, 127, -128]);
    expect(Array.from(quantize([NaN, Infinity, -Infinity], 0.1, 3, 'uint16'))).toEqual([0, 65535, 0]);
  });
  it('divides in float32 as onnxruntime does (not multiply by the reciprocal)', () => {
    // 0.3 / 0.1 in float32 is 3.0000001 -> 3; a reciprocal multiply can land elsewhere for other pairs
    expect(quantizeValue(0.3, 0.1, 0, -128, 127)).toBe(3);
    expect(quantize([f32(0.3)], f32(0.1), 0, 'int8')[0]).toBe(Math.round(f32(f32(0.3) / f32(0.1))));
  });
  it('empty input gives empty output', () => {
    expect(quantize([], 1, 0, 'int8').length).toBe(0);
    expect(dequantize(new Int8Array(0), 1, 0).length).toBe(0);
  });

  const float32 = fc.integer({ min: 0, max: 0xffffffff }).map((bits) => new Float32Array(new Uint32Array([bits]).buffer)[0]);
  const scaleArb = fc.oneof(fc.float({ min: f32(1e-6), max: 100, noNaN: true }), fc.constantFrom(1, 0.5, f32(1 / 255), f32(2 / 255), f32(0.1), 1e-39, 3e38));

  it('SIMD kernel equals the scalar reference bit for bit (property: random bits, near-ties, all types)', () => {
    fc.assert(
      fc.property(scaleArb, fc.constantFrom(...TYPES), fc.array(float32, { minLength: 64, maxLength: 600 }), fc.integer({ min: 0, max: 1000 }), (scale, type, raw, seed) => {
        const { qmin, qmax } = quantRange(type);
        const zp = qmin + (seed % (qmax - qmin + 1));
        // mix in values at, just below and just above rounding boundaries (k + 0.5) * s
        const x = Float32Array.from(raw);
        for (let i = 0; i < x.length; i += 3) {
          const k = ((seed + i) % 300) - 150;
          const tie = f32((k + 0.5) * scale);
          x[i] = new Float32Array(new Int32Array([new Int32Array(new Float32Array([tie]).buffer)[0] + ((i % 5) - 2)]).buffer)[0];
        }
        expect(Array.from(quantize(x, scale, zp, type))).toEqual(Array.from(quantizeReference(x, scale, zp, type)));
      }),
      { numRuns: 300 },
    );
  });

  it('dequantize(quantize(x)) is within scale/2 for x inside the representable range (property)', () => {
    fc.assert(
      fc.property(
        fc.float({ min: -1000, max: 1000, noNaN: true }),
        fc.float({ min: -1000, max: 1000, noNaN: true }),
        fc.constantFrom(...TYPES),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (a, b, type, symmetric, ts) => {
          const { qmin, qmax } = quantRange(type, { symmetric });
          const { scale, zeroPoint } = computeScaleZeroPoint(Math.min(a, b), Math.max(a, b), qmin, qmax, { symmetric });
          const lo = (qmin - zeroPoint) * scale;
          const hi = (qmax - zeroPoint) * scale;
          const x = Float32Array.from(ts, (t) => lo + t * (hi - lo));
          const y = dequantize(quantize(x, scale, zeroPoint, type), scale, zeroPoint);
          for (let i = 0; i < x.length; i++) {
            if (x[i] < lo || x[i] > hi) continue; // float32 rounding pushed it just outside
            // scale/2, plus float32 rounding of x / s and of (q - z) * s (a few ulps of |x|)
            expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(scale / 2 + 4 * 2 ** -24 * Math.max(Math.abs(x[i]), scale));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('dequantize is f32((q - z) * s)', () => {
    expect(Array.from(dequantize(new Uint8Array([0, 128, 255]), f32(0.1), 128))).toEqual([f32(-128 * f32(0.1)), 0, f32(127 * f32(0.1))]);
  });

  it.each([
    ['scale 0', () => quantize([1], 0, 0, 'int8'), 'INVALID_ARGUMENT'],
    ['negative scale', () => quantize([1], -1, 0, 'int8'), 'INVALID_ARGUMENT'],
    ['NaN scale', () => quantize([1], NaN, 0, 'int8'), 'INVALID_ARGUMENT'],
    ['zero point out of range', () => quantize([1], 1, 300, 'uint8'), 'INVALID_ARGUMENT'],
    ['fractional zero point', () => quantize([1], 1, 0.5, 'int8'), 'INVALID_ARGUMENT'],
    ['float32 target', () => quantize([1], 1, 0, 'float32'), 'UNSUPPORTED_TYPE'],
    ['unknown type name', () => quantize([1], 1, 0, 'int3'), 'UNSUPPORTED_TYPE'],
    ['unknown type number', () => quantRange(99), 'UNSUPPORTED_TYPE'],
    ['wrong output array', () => quantize([1], 1, 0, 'int8', new Uint8Array(1)), 'INVALID_ARGUMENT'],
  ])('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

describe('per axis', () => {
  const shape = [3, 2, 4];
  const x = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * (i % 7));
  it('quantizes each channel of the axis with its own scale and zero point', () => {
    const scales = [0.01, 0.02];
    const zps = [3, -4];
    const q = quantizePerAxis(x, shape, 1, scales, zps, 'int8');
    for (let o = 0; o < 3; o++) {
      for (let c = 0; c < 2; c++) {
        const from = (o * 2 + c) * 4;
        expect(Array.from(q.subarray(from, from + 4))).toEqual(Array.from(quantize(x.subarray(from, from + 4), scales[c], zps[c], 'int8')));
      }
    }
    const y = dequantizePerAxis(q, shape, -2, scales, zps);
    expect(Array.from(y.subarray(4, 8))).toEqual(Array.from(dequantize(q.subarray(4, 8), 0.02, -4)));
  });
  it('quantizeDataPerAxis equals quantizeData per channel slice', () => {
    const big = Float32Array.from({ length: 2 * 300 }, (_, i) => Math.cos(i) * (i < 300 ? 1 : 5));
    const r = quantizeDataPerAxis(big, [2, 300], 0, 'int8', { symmetric: true });
    for (let c = 0; c < 2; c++) {
      const ref = quantizeData(big.subarray(c * 300, c * 300 + 300), 'int8', { symmetric: true });
      expect(r.scales[c]).toBe(ref.scale);
      expect(r.zeroPoints[c]).toBe(ref.zeroPoint);
      expect(Array.from(r.quantized.subarray(c * 300, c * 300 + 300))).toEqual(Array.from(ref.quantized));
    }
  });
  it.each([
    ['axis out of range', () => quantizePerAxis(x, shape, 3, [1], [0], 'int8'), 'INVALID_ARGUMENT'],
    ['wrong scale count', () => quantizePerAxis(x, shape, 1, [1, 1, 1], [0, 0, 0], 'int8'), 'SHAPE_MISMATCH'],
    ['shape does not match data', () => quantizePerAxis(x, [5, 2], 1, [1, 1], [0, 0], 'int8'), 'SHAPE_MISMATCH'],
  ])('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

describe('quantizeData', () => {
  it.each([
    ['empty array', () => quantizeData([], 'int8'), 'EMPTY_INPUT'],
    ['NaN in data', () => quantizeData([1, NaN, 2], 'int8'), 'INVALID_RANGE'],
    ['infinity in data', () => quantizeData([1, Infinity], 'uint8'), 'INVALID_RANGE'],
    ['unknown type', () => quantizeData([1, 2], 'float16'), 'UNSUPPORTED_TYPE'],
  ])('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
  it('reports rmin/rmax of the data and honours overrides', () => {
    const r = quantizeData([0.5, 2], 'uint8', { rminOverride: -1 });
    expect([r.rmin, r.rmax]).toEqual([-1, 2]);
    expect(r.scale).toBe(f32(3 / 255));
  });
});
