import { SdqError } from './errors.js';
import { shapeSize } from './dtypes.js';
import { FLOAT32_TINY, f32, roundHalfEven } from './numeric.js';
import { quantRange, quantTypeInfo, type QuantTypeInfo, type QuantTypeLike, type QuantizedArray } from './qtypes.js';
import { computeScaleZeroPoint, type ScaleZeroPointOptions } from './scale.js';
import { CHUNK, simdKernels } from './kernels/simd.js';

/** Float input: a Float32Array is used as is; anything else is rounded to float32 first (as numpy's astype(float32)). */
export type FloatInput = Float32Array | Float64Array | ArrayLike<number>;

/** Below this many values the scalar loop is as fast as the SIMD round trip. */
const SIMD_MIN = 64;
/** Relative distance to a rounding boundary below which the multiply-by-reciprocal kernel divides instead. */
const SIMD_TOLERANCE = 2 ** -20;

export function toFloat32(values: FloatInput): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function checkScale(scale: number, where: string): void {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new SdqError('INVALID_ARGUMENT', `${where}: scale must be a finite number > 0, got ${scale}`);
  }
}

function checkZeroPoint(zp: number, info: QuantTypeInfo, where: string): void {
  if (!Number.isInteger(zp) || zp < info.min || zp > info.max) {
    throw new SdqError('INVALID_ARGUMENT', `${where}: zero point ${zp} is not a ${info.name} value (${info.min}..${info.max})`);
  }
}

/**
 * ONNX QuantizeLinear for one value: y = saturate(round_half_even(f32(x / s)) + z). x and s are float32.
 * NaN gives 0 (what numpy's float->int cast and onnxruntime's Python reference produce on x86).
 */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = f32(f32(x) / scale);
  if (q !== q) return 0;
  const y = roundHalfEven(q) + zeroPoint;
  return y < qmin ? qmin : y > qmax ? qmax : y;
}

function quantizeScalar(x: Float32Array, from: number, to: number, scale: number, zp: number, info: QuantTypeInfo, out: QuantizedArray, outOffset: number): void {
  const { min, max } = info;
  for (let i = from; i < to; i++) {
    const q = f32(x[i] / scale);
    let y: number;
    if (q !== q) y = 0;
    else {
      const r = Math.round(q);
      y = (r - q === 0.5 && (r & 1) !== 0 ? r - 1 : r) + zp;
      y = y < min ? min : y > max ? max : y;
    }
    out[outOffset + i - from] = y;
  }
}

type Kind = 'i8' | 'u8' | 'i16' | 'u16';
const KIND: Record<string, Kind | undefined> = { int8: 'i8', uint8: 'u8', int16: 'i16', uint16: 'u16' };

/** Quantize x[from, to) into out[outOffset...] with the SIMD kernel; false when it does not apply. */
function quantizeSimd(x: Float32Array, from: number, to: number, scale: number, zp: number, info: QuantTypeInfo, out: QuantizedArray, outOffset: number): boolean {
  const kind = KIND[info.name];
  if (!kind || to - from < SIMD_MIN) return false;
  const k = simdKernels();
  if (!k) return false;
  const inv = f32(1 / scale);
  // The reciprocal bound needs normal float32 scale and 1/scale; otherwise divide every vector.
  const exact = !(scale >= FLOAT32_TINY && Number.isFinite(inv) && inv >= FLOAT32_TINY);
  const fn = exact ? k.quantize[kind].exact : k.quantize[kind].fast;
  const view = k.outputs[kind];
  for (let i = from; i < to; i += CHUNK) {
    const m = Math.min(CHUNK, to - i);
    k.input.set(x.subarray(i, i + m));
    fn(m, scale, inv, zp, SIMD_TOLERANCE);
    out.set(view.subarray(0, m), outOffset + i - from);
  }
  return true;
}

function quantizeBlock(x: Float32Array, from: number, to: number, scale: number, zp: number, info: QuantTypeInfo, out: QuantizedArray, outOffset: number): void {
  if (!quantizeSimd(x, from, to, scale, zp, info, out, outOffset)) quantizeScalar(x, from, to, scale, zp, info, out, outOffset);
}

function outputFor(info: QuantTypeInfo, n: number, out: QuantizedArray | undefined, where: string): QuantizedArray {
  if (!out) return new info.array(n);
  if (!(out instanceof info.array) || out.length < n) {
    throw new SdqError('INVALID_ARGUMENT', `${where}: output must be a ${info.array.name} of at least ${n} elements for ${info.name}`);
  }
  return out;
}

/**
 * ONNX QuantizeLinear per tensor: y = saturate(round_half_even(x / s) + z), saturating to the full range of `type`.
 * int4/uint4 results are unpacked (one value per element of an Int8Array/Uint8Array); see packInt4.
 */
export function quantize(values: FloatInput, scale: number, zeroPoint: number, type: QuantTypeLike, out?: QuantizedArray): QuantizedArray {
  const info = quantTypeInfo(type);
  checkScale(scale, 'quantize');
  checkZeroPoint(zeroPoint, info, 'quantize');
  const x = toFloat32(values);
  const y = outputFor(info, x.length, out, 'quantize');
  quantizeBlock(x, 0, x.length, f32(scale), zeroPoint, info, y, 0);
  return y;
}

/** The ONNX scalar quantization reference, element by element with no SIMD (for tests and tiny inputs). */
export function quantizeReference(values: FloatInput, scale: number, zeroPoint: number, type: QuantTypeLike): QuantizedArray {
  const info = quantTypeInfo(type);
  checkScale(scale, 'quantizeReference');
  checkZeroPoint(zeroPoint, info, 'quantizeReference');
  const x = toFloat32(values);
  const y = new info.array(x.length);
  quantizeScalar(x, 0, x.length, f32(scale), zeroPoint, info, y, 0);
  return y;
}

type IntArrayLike = ArrayLike<number>;

/** ONNX DequantizeLinear per tensor: y = f32((q - z) * s). */
export function dequantize(quantized: IntArrayLike, scale: number, zeroPoint: number, out?: Float32Array): Float32Array {
  checkScale(scale, 'dequantize');
  if (!Number.isInteger(zeroPoint)) throw new SdqError('INVALID_ARGUMENT', `dequantize: zero point ${zeroPoint} must be an integer`);
  const n = quantized.length;
  const y = out ?? new Float32Array(n);
  if (y.length < n) throw new SdqError('INVALID_ARGUMENT', `dequantize: output has ${y.length} elements, need ${n}`);
  const s = f32(scale);
  for (let i = 0; i < n; i++) y[i] = (quantized[i] - zeroPoint) * s;
  return y;
}

/** Split a shape at `axis` into [outer, channels, inner] (negative axis counts from the end, as in ONNX). */
export function axisBlocks(shape: readonly number[], axis: number, where: string): { outer: number; channels: number; inner: number; axis: number } {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new SdqError('INVALID_ARGUMENT', `${where}: axis ${axis} is out of range for shape [${shape.join(', ')}]`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new SdqError('SHAPE_MISMATCH', `${where}: bad dimension ${d} in shape [${shape.join(', ')}]`);
  }
  return { outer: shapeSize(shape.slice(0, a)), channels: shape[a], inner: shapeSize(shape.slice(a + 1)), axis: a };
}

function checkPerAxis(n: number, shape: readonly number[], axis: number, scales: ArrayLike<number>, zeroPoints: ArrayLike<number>, where: string) {
  const blocks = axisBlocks(shape, axis, where);
  if (shapeSize(shape) !== n) {
    throw new SdqError('SHAPE_MISMATCH', `${where}: ${n} values do not fill shape [${shape.join(', ')}] (${shapeSize(shape)} elements)`);
  }
  if (scales.length !== blocks.channels || zeroPoints.length !== blocks.channels) {
    throw new SdqError('SHAPE_MISMATCH', `${where}: axis ${axis} has ${blocks.channels} channels but got ${scales.length} scales and ${zeroPoints.length} zero points`);
  }
  return blocks;
}

/** ONNX QuantizeLinear with `axis`: channel c of `axis` uses scales[c] and zeroPoints[c]. */
export function quantizePerAxis(
  values: FloatInput,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  type: QuantTypeLike,
  out?: QuantizedArray,
): QuantizedArray {
  const info = quantTypeInfo(type);
  const x = toFloat32(values);
  const { outer, channels, inner } = checkPerAxis(x.length, shape, axis, scales, zeroPoints, 'quantizePerAxis');
  for (let c = 0; c < channels; c++) {
    checkScale(scales[c], `quantizePerAxis channel ${c}`);
    checkZeroPoint(zeroPoints[c], info, `quantizePerAxis channel ${c}`);
  }
  const y = outputFor(info, x.length, out, 'quantizePerAxis');
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const from = (o * channels + c) * inner;
      quantizeBlock(x, from, from + inner, f32(scales[c]), zeroPoints[c], info, y, from);
    }
  }
  return y;
}

/** ONNX DequantizeLinear with `axis`. */
export function dequantizePerAxis(
  quantized: IntArrayLike,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const { outer, channels, inner } = checkPerAxis(quantized.length, shape, axis, scales, zeroPoints, 'dequantizePerAxis');
  const y = out ?? new Float32Array(quantized.length);
  if (y.length < quantized.length) throw new SdqError('INVALID_ARGUMENT', `dequantizePerAxis: output has ${y.length} elements, need ${quantized.length}`);
  for (let c = 0; c < channels; c++) checkScale(scales[c], `dequantizePerAxis channel ${c}`);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = f32(scales[c]);
      const z = zeroPoints[c];
      const from = (o * channels + c) * inner;
      for (let i = from; i < from + inner; i++) y[i] = (quantized[i] - z) * s;
    }
  }
  return y;
}

export interface QuantizeDataOptions extends ScaleZeroPointOptions {
  readonly reduceRange?: boolean;
  /** Use this rmin instead of min(values). */
  readonly rminOverride?: number;
  /** Use this rmax instead of max(values). */
  readonly rmaxOverride?: number;
}

export interface QuantizedData {
  readonly zeroPoint: number;
  readonly scale: number;
  readonly quantized: QuantizedArray;
  /** min/max of the data (or the overrides), before widening to include 0. */
  readonly rmin: number;
  readonly rmax: number;
}

/** min and max of float32 data; SdqError for empty input, NaN or infinities (onnxruntime's compute_scale_zp rejects them). */
export function dataRange(x: Float32Array, where: string): { min: number; max: number } {
  if (x.length === 0) throw new SdqError('EMPTY_INPUT', `${where}: no values; quantization parameters need at least one value`);
  let mn = x[0];
  let mx = x[0];
  let poison = 0; // v * 0 is NaN exactly for NaN and +-inf
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    poison += v * 0;
    if (v < mn) mn = v;
    else if (v > mx) mx = v;
  }
  if (poison !== poison) {
    const bad = x.findIndex((v) => !Number.isFinite(v));
    throw new SdqError('INVALID_RANGE', `${where}: value ${x[bad]} at index ${bad}; the data must be finite to compute a range`);
  }
  return { min: mn, max: mx };
}

/**
 * onnxruntime quantize_data: rmin/rmax from the data (or overrides), qmin/qmax from quantRange(type, options),
 * scale and zero point from computeScaleZeroPoint, values quantized with saturation to the type's full range.
 */
export function quantizeData(values: FloatInput, type: QuantTypeLike, options: QuantizeDataOptions = {}): QuantizedData {
  const info = quantTypeInfo(type);
  const x = toFloat32(values);
  const range = dataRange(x, 'quantizeData');
  const rmin = options.rminOverride ?? range.min;
  const rmax = options.rmaxOverride ?? range.max;
  const { qmin, qmax } = quantRange(info.type, options);
  const { zeroPoint, scale } = computeScaleZeroPoint(rmin, rmax, qmin, qmax, options);
  const quantized = new info.array(x.length);
  quantizeBlock(x, 0, x.length, scale, zeroPoint, info, quantized, 0);
  return { zeroPoint, scale, quantized, rmin: f32(rmin), rmax: f32(rmax) };
}

export interface PerAxisQuantizedData {
  readonly zeroPoints: Int32Array;
  readonly scales: Float32Array;
  readonly quantized: QuantizedArray;
}

/** Per-channel weight quantization (onnxruntime quantize_weight_per_channel): quantizeData on every slice of `axis`. */
export function quantizeDataPerAxis(values: FloatInput, shape: readonly number[], axis: number, type: QuantTypeLike, options: QuantizeDataOptions = {}): PerAxisQuantizedData {
  const info = quantTypeInfo(type);
  const x = toFloat32(values);
  if (shapeSize(shape) !== x.length) {
    throw new SdqError('SHAPE_MISMATCH', `quantizeDataPerAxis: ${x.length} values do not fill shape [${shape.join(', ')}]`);
  }
  const { outer, channels, inner } = axisBlocks(shape, axis, 'quantizeDataPerAxis');
  if (x.length === 0) throw new SdqError('EMPTY_INPUT', 'quantizeDataPerAxis: no values');
  const { qmin, qmax } = quantRange(info.type, options);
  const scales = new Float32Array(channels);
  const zeroPoints = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let o = 0; o < outer; o++) {
      const from = (o * channels + c) * inner;
      for (let i = from; i < from + inner; i++) {
        const v = x[i];
        if (v !== v || v === Infinity || v === -Infinity) throw new SdqError('INVALID_RANGE', `quantizeDataPerAxis: value ${v} at index ${i}; the data must be finite`);
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    }
    const sz = computeScaleZeroPoint(options.rminOverride ?? mn, options.rmaxOverride ?? mx, qmin, qmax, options);
    scales[c] = sz.scale;
    zeroPoints[c] = sz.zeroPoint;
  }
  const quantized = quantizePerAxis(x, shape, axis, scales, zeroPoints, info.type);
  return { zeroPoints, scales, quantized };
}
