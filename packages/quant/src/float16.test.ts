import fc from 'fast-check';
import {
  bfloat16ToFloat32,
  float16BitsToFloat32Bits,
  float16ToFloat32,
  float32BitsToBfloat16Bits,
  float32BitsToFloat16Bits,
  float32ToBfloat16,
  float32ToFloat16,
  float32ToFloat16Clamped,
  roundHalfEven,
} from './index.js';

const bitsOf = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);
const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** An independent oracle: float16 of a finite float32 by arithmetic on the float16 grid (not bit tricks). */
function halfOracle(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (Number.isNaN(x)) return -1;
  if (a === Infinity) return sign | 0x7c00;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  let m = roundHalfEven(a / ulp) * ulp; // exact: a / ulp is a scaling by a power of two
  if (m >= 65520) return sign | 0x7c00;
  if (m === 0) return sign;
  const exp = Math.max(Math.floor(Math.log2(m)), -14);
  if (m < 2 ** -14) return sign | Math.round(m / 2 ** -24);
  m = m / 2 ** exp - 1;
  return sign | ((exp + 15) << 10) | Math.round(m * 1024);
}

describe('float16', () => {
  it('round-trips every one of the 65536 float16 bit patterns (NaN stays NaN with its payload)', () => {
    const f = float16ToFloat32(ALL_HALVES);
    const back = float32ToFloat16(f); // SIMD path
    expect(back).toEqual(ALL_HALVES);
    const fb = bitsOf(f);
    for (let h = 0; h < 65536; h++) {
      expect(float32BitsToFloat16Bits(fb[h])).toBe(h); // scalar path
      const isNan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNan) expect(Number.isNaN(f[h])).toBe(true);
    }
  });
  it('decodes like the arithmetic definition', () => {
    for (let h = 0; h < 0x7c00; h++) {
      const e = h >> 10;
      const m = h & 0x3ff;
      const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
      expect(new Float32Array(new Uint32Array([float16BitsToFloat32Bits(h)]).buffer)[0]).toBe(v);
    }
  });
  it.each([
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal -> even (0)
    [1.5 * 2 ** -24, 0x0002], // tie -> even (2)
    [2 ** -14, 0x0400],
    [1 + 2 ** -11, 0x3c00], // tie -> even
    [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000],
  ])('%f -> %s', (x, h) => {
    expect(float32ToFloat16([x])[0]).toBe(h);
    expect(float32BitsToFloat16Bits(bitsOf(Float32Array.of(x))[0])).toBe(h);
  });
  it('SIMD and scalar conversions agree with the arithmetic oracle on random float32 bit patterns (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 64, maxLength: 500 }), (bits) => {
        const x = fromBits(bits);
        const simd = float32ToFloat16(x);
        for (let i = 0; i < x.length; i++) {
          const scalar = float32BitsToFloat16Bits(bits[i]);
          expect(simd[i]).toBe(scalar);
          if (Number.isNaN(x[i])) expect(scalar & 0x7c00).toBe(0x7c00);
          else expect(scalar).toBe(halfOracle(x[i]));
        }
      }),
      { numRuns: 200 },
    );
  });
  it('the clamping variant keeps finite values finite and tiny values non-zero', () => {
    const x = [70000, -1e9, 65504, 1e-9, -1e-12, 0, -0, Infinity, -Infinity, NaN, 0.5];
    const h = Array.from(float32ToFloat16Clamped(x));
    expect(h.slice(0, 9)).toEqual([0x7bff, 0xfbff, 0x7bff, 0x0001, 0x8001, 0, 0x8000, 0x7c00, 0xfc00]);
    expect(h[9] & 0x7c00).toBe(0x7c00);
    expect(h[9] & 0x3ff).not.toBe(0);
    expect(h[10]).toBe(0x3800);
    expect(Array.from(float32ToFloat16Clamped([1e-6], { minPositive: 1e-5, maxFinite: 1000 }))).toEqual(Array.from(float32ToFloat16([1e-5])));
  });
});

describe('bfloat16', () => {
  it('round-trips every bfloat16 bit pattern', () => {
    const f = bfloat16ToFloat32(ALL_HALVES);
    expect(float32ToBfloat16(f)).toEqual(ALL_HALVES);
  });
  it('rounds to nearest even and overflows to inf', () => {
    expect(float32BitsToBfloat16Bits(0x3f808000)).toBe(0x3f80); // tie, even stays
    expect(float32BitsToBfloat16Bits(0x3f818000)).toBe(0x3f82); // tie, odd rounds up
    expect(float32BitsToBfloat16Bits(0x3f808001)).toBe(0x3f81);
    expect(float32BitsToBfloat16Bits(0x7f7fffff)).toBe(0x7f80);
    expect(float32BitsToBfloat16Bits(0x7f800001)).toBe(0x7f81); // NaN with only low payload stays NaN
  });
  it('bulk and scalar conversions agree (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 200 }), (bits) => {
        const b = float32ToBfloat16(fromBits(bits));
        bits.forEach((v, i) => expect(b[i]).toBe(float32BitsToBfloat16Bits(v)));
      }),
    );
  });
});
