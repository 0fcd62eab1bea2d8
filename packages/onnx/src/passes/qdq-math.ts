/**
 * Scale / zero point and quantization as onnxruntime.quantization computes them (quant_utils.compute_scale_zp,
 * quantize_data). @sdq/quant did not export computeScaleZeroPoint/quantize when this was written; these local
 * versions follow the same formulas:
 *   rmin = min(rmin, 0), rmax = max(rmax, 0); symmetric: rmax = max(|rmin|, |rmax|), rmin = -rmax;
 *   scale = (rmax - rmin) / (qmax - qmin) (1 when that is 0), zp = round(qmin - rmin / scale);
 *   q = clamp(round_half_even(x / scale) + zp, qmin, qmax).
 * Symmetric int8 uses [-127, 127] (get_qmin_qmax_for_qType with symmetric=True), uint8 [0, 255].
 */

// Module-level bindings: hot loops then avoid global lookups (slow inside vm contexts such as jest's).
const { round, abs } = Math;

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Round half to even (numpy.round). */
export function roundHalfEven(v: number): number {
  const r = round(v);
  return abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** onnxruntime's compute_scale_zp; the scale is rounded to float32 (it is stored as a float32 tensor). */
export function scaleZeroPoint(rmin: number, rmax: number, qmin: number, qmax: number, symmetric: boolean): QuantParams {
  let lo = Math.min(rmin, 0);
  let hi = Math.max(rmax, 0);
  if (symmetric) {
    hi = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -hi;
  }
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  if (scale === 0) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale)));
  return { scale, zeroPoint: zeroPoint === 0 ? 0 : zeroPoint };
}

/** q = clamp(round_half_even(x / scale) + zp, qmin, qmax). */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = roundHalfEven(x / scale) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/**
 * Symmetric per-axis quantization of a weight: one scale per index of `axis` (axis -1: one scale for all).
 * Returns the quantized values and the float32 scales.
 */
export function quantizeWeightSymmetric(
  data: Float32Array,
  dims: readonly number[],
  axis: number,
  qmin: number,
  qmax: number,
): { values: Int8Array; scales: Float32Array } {
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
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = scaleZeroPoint(-absmax[c], absmax[c], qmin, qmax, true).scale;
  const values = new Int8Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = scales[c];
      for (let i = 0; i < inner; i++) values[base + i] = quantizeValue(data[base + i], s, 0, qmin, qmax);
    }
  }
  return { values, scales };
}
