/**
 * float32 <-> float16 bit conversion for the FP16 pass. @sdq/quant did not export float32ToFloat16 when this was
 * written; this local version clamps to the finite float16 range (+-65504, as onnxruntime's float16 converter does
 * with max_finite_val) and rounds to nearest even (IEEE 754). NaN stays NaN; +-Infinity becomes +-65504.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE 754 binary32 bits -> binary16 bits, round half to even, finite values clamped to +-65504. */
export function float32BitsToFloat16Clamped(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  if (abs > 0x477fe000) return sign | 0x7bff; // beyond 65504 (incl. infinity): clamp
  if (abs < 0x38800000) {
    // float16 subnormal (or zero): value = m * 2^(e - 150), in units of 2^-24
    const e = abs >>> 23;
    const shift = 126 - e;
    if (shift > 24) return sign;
    const m = (abs & 0x7fffff) | 0x800000;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (abs - 0x38000000) >>> 13; // rebias exponent 127 -> 15, drop 13 mantissa bits
  const rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** float32 -> float16 bits (clamped, round half to even). */
export function toFloat16Bits(value: number): number {
  F32[0] = value;
  return float32BitsToFloat16Clamped(U32[0]);
}

/** A Float32Array as float16 bit patterns (clamped). */
export function float32ArrayToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32BitsToFloat16Clamped(bits[i]);
  return out;
}

/** float16 bits -> number (exact). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}
