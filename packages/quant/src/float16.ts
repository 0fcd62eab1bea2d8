import { SdqError } from './errors.js';
import { f32, roundHalfEven } from './numeric.js';
import { CHUNK, simdKernels } from './kernels/simd.js';
import { toFloat32, type FloatInput } from './quantize.js';

/**
 * float32 bits -> float16 bits, round to nearest even; subnormals, overflow to +-inf, NaN keeps sign and top payload
 * bits (a NaN whose kept payload would be 0 gets payload 1), exactly as numpy's npy_floatbits_to_halfbits.
 */
export function float32BitsToFloat16Bits(bits: number): number {
  const x = bits >>> 0;
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a >= 0x47800000) {
    if (a > 0x7f800000) {
      const m = (a >>> 13) & 0x3ff;
      return sign | 0x7c00 | (m === 0 ? 1 : m);
    }
    return sign | 0x7c00; // inf, or finite >= 65520 which rounds past the largest half
  }
  if (a < 0x38800000) {
    // below the smallest normal half 2^-14: a multiple of 2^-24, rounded half to even (1024 = smallest normal)
    return sign | roundHalfEven(bitsToFloat(a) * 16777216);
  }
  // rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even (F. Giesen)
  return sign | ((a + 0xc8000fff + ((a >>> 13) & 1)) >>> 13);
}

const scratch = new DataView(new ArrayBuffer(4));
function bitsToFloat(bits: number): number {
  scratch.setUint32(0, bits);
  return scratch.getFloat32(0);
}

/** float16 bits -> float32 bits (exact; NaN payload kept). */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  let m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  let exp = 113;
  while ((m & 0x400) === 0) {
    m <<= 1;
    exp--;
  }
  return (sign | (exp << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

function bitsView(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

function outputBits(n: number, out: Uint16Array | undefined, where: string): Uint16Array {
  if (!out) return new Uint16Array(n);
  if (!(out instanceof Uint16Array) || out.length < n) throw new SdqError('INVALID_ARGUMENT', `${where}: output must be a Uint16Array of at least ${n} elements`);
  return out;
}

/** Convert float32 values to float16 bit patterns (Uint16Array, as onnxruntime-node's float16 tensors). */
export function float32ToFloat16(values: FloatInput, out?: Uint16Array): Uint16Array {
  const x = toFloat32(values);
  const y = outputBits(x.length, out, 'float32ToFloat16');
  const k = x.length >= 64 ? simdKernels() : null;
  if (k) {
    const view = k.outputs.u16;
    for (let i = 0; i < x.length; i += CHUNK) {
      const m = Math.min(CHUNK, x.length - i);
      k.input.set(x.subarray(i, i + m));
      k.float32ToFloat16(m);
      y.set(view.subarray(0, m), i);
    }
    return y;
  }
  const bits = bitsView(x);
  for (let i = 0; i < bits.length; i++) y[i] = float32BitsToFloat16Bits(bits[i]);
  return y;
}

export interface Float16ClampOptions {
  /** Non-zero values closer to 0 than this become +-minPositive (default 5.96e-8, the smallest float16 subnormal). */
  readonly minPositive?: number;
  /** Finite values beyond +-maxFinite become +-maxFinite (default 65504, the largest float16). */
  readonly maxFinite?: number;
}

/**
 * float32 -> float16 for model conversion (onnxruntime transformers float16.convert_np_to_float16): finite values
 * beyond +-65504 clamp to +-65504 instead of becoming inf, non-zero values below the smallest subnormal become
 * +-5.96e-8 instead of 0; 0, +-inf and NaN pass through. Thresholds compare as float32, as numpy does.
 */
export function float32ToFloat16Clamped(values: FloatInput, options: Float16ClampOptions = {}, out?: Uint16Array): Uint16Array {
  const minPos = f32(options.minPositive ?? 5.96e-8);
  const maxFin = f32(options.maxFinite ?? 65504);
  if (!(minPos >= 0) || !(maxFin > minPos) || !Number.isFinite(maxFin)) {
    throw new SdqError('INVALID_ARGUMENT', `float32ToFloat16Clamped: need 0 <= minPositive < maxFinite < inf, got ${minPos} and ${maxFin}`);
  }
  const x = toFloat32(values);
  const clamped = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    clamped[i] = v > 0 && v < minPos ? minPos : v < 0 && v > -minPos ? -minPos : v > maxFin && v < Infinity ? maxFin : v < -maxFin && v > -Infinity ? -maxFin : v;
  }
  return float32ToFloat16(clamped, out);
}

const HALF_TO_FLOAT = (() => {
  let table: Uint32Array | undefined;
  return (): Uint32Array => {
    if (!table) {
      table = new Uint32Array(65536);
      for (let h = 0; h < 65536; h++) table[h] = float16BitsToFloat32Bits(h);
    }
    return table;
  };
})();

/** Convert float16 bit patterns to float32 (exact; NaN payloads kept, written as bits so JS never canonicalizes them). */
export function float16ToFloat32(bits: ArrayLike<number>, out?: Float32Array): Float32Array {
  const n = bits.length;
  const y = out ?? new Float32Array(n);
  if (y.length < n) throw new SdqError('INVALID_ARGUMENT', `float16ToFloat32: output has ${y.length} elements, need ${n}`);
  const yb = bitsView(y);
  if (n >= 4096) {
    const table = HALF_TO_FLOAT();
    for (let i = 0; i < n; i++) yb[i] = table[bits[i] & 0xffff];
  } else {
    for (let i = 0; i < n; i++) yb[i] = float16BitsToFloat32Bits(bits[i] & 0xffff);
  }
  return y;
}

/** float32 bits -> bfloat16 bits, round to nearest even, overflow to inf; NaN keeps sign and top payload (never becomes inf). */
export function float32BitsToBfloat16Bits(bits: number): number {
  const x = bits >>> 0;
  if ((x & 0x7fffffff) > 0x7f800000) {
    const top = x >>> 16;
    return (top & 0x7f) === 0 ? top | 1 : top;
  }
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** Convert float32 values to bfloat16 bit patterns. */
export function float32ToBfloat16(values: FloatInput, out?: Uint16Array): Uint16Array {
  const x = toFloat32(values);
  const y = outputBits(x.length, out, 'float32ToBfloat16');
  const b = bitsView(x);
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    y[i] = (v & 0x7fffffff) > 0x7f800000 ? ((v >>> 16) & 0x7f) === 0 ? (v >>> 16) | 1 : v >>> 16 : (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
  }
  return y;
}

/** Convert bfloat16 bit patterns to float32 (exact: the bits become the top half). */
export function bfloat16ToFloat32(bits: ArrayLike<number>, out?: Float32Array): Float32Array {
  const n = bits.length;
  const y = out ?? new Float32Array(n);
  if (y.length < n) throw new SdqError('INVALID_ARGUMENT', `bfloat16ToFloat32: output has ${y.length} elements, need ${n}`);
  const yb = bitsView(y);
  for (let i = 0; i < n; i++) yb[i] = (bits[i] & 0xffff) << 16;
  return y;
}
