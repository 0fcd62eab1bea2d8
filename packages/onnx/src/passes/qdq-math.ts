/**
 * Weight and activation quantization parameters for insertQdq, through @sdq/quant (onnxruntime-exact
 * compute_scale_zp / QuantizeLinear): symmetric int8 uses [-127, 127] (get_qmin_qmax_for_qType with
 * symmetric=True), uint8 [0, 255]; s = (rmax - rmin) / (qmax - qmin) over the range widened to include 0.
 */
import { computeScaleZeroPoint, quantRange, quantize, quantizePerAxis, type QuantRange } from '@sdq/quant';

// Module-level binding: the absmax loop then avoids a global lookup per element (slow inside vm contexts).
const { abs } = Math;

export const INT8_SYMMETRIC: QuantRange = quantRange('int8', { symmetric: true });
export const UINT8_FULL: QuantRange = quantRange('uint8');

/** max |x| per index of `axis` (axis -1: one value for the whole tensor). */
export function absMaxPerAxis(data: Float32Array, dims: readonly number[], axis: number): Float64Array {
  const channels = axis < 0 ? 1 : dims[axis];
  const inner = axis < 0 ? data.length : dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const outer = axis < 0 ? 1 : dims.slice(0, axis).reduce((a, d) => a * d, 1);
  const absmax = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = absmax[c];
      for (let i = 0; i < inner; i++) {
        const v = abs(data[base + i]);
        if (v > m) m = v;
      }
      absmax[c] = m;
    }
  }
  return absmax;
}

/** Symmetric int8 weight scales, one per index of `axis` (-1: per tensor): compute_scale_zp(-absmax, absmax), symmetric. */
export function symmetricWeightScales(data: Float32Array, dims: readonly number[], axis: number): Float32Array {
  const { qmin, qmax } = INT8_SYMMETRIC;
  return Float32Array.from(absMaxPerAxis(data, dims, axis), (m) => computeScaleZeroPoint(-m, m, qmin, qmax, { symmetric: true }).scale);
}

/** `data` as int8 with the given scales (symmetricWeightScales of the same data), zero point 0. */
export function quantizeWeightWithScales(data: Float32Array, dims: readonly number[], axis: number, scales: Float32Array): Int8Array {
  // symmetric weights never use -128 (scale = absmax / 127), so values stay within [qmin, qmax]
  return (axis < 0 ? quantize(data, scales[0], 0, 'int8') : quantizePerAxis(data, dims, axis, scales, new Int8Array(scales.length), 'int8')) as Int8Array;
}

/**
 * Symmetric int8 weight quantization, one scale per index of `axis` (-1: per tensor), zero point 0.
 */
export function quantizeWeightSymmetric(data: Float32Array, dims: readonly number[], axis: number): { values: Int8Array; scales: Float32Array } {
  const scales = symmetricWeightScales(data, dims, axis);
  return { values: quantizeWeightWithScales(data, dims, axis, scales), scales };
}
