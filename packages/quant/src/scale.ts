import { SdqError } from './errors.js';
import { FLOAT32_TINY, f32, roundHalfEven } from './numeric.js';

export interface ScaleZeroPointOptions {
  /** Make the range symmetric around 0 ([-absmax, absmax]); zero point becomes round((qmin + qmax) / 2). */
  readonly symmetric?: boolean;
  /** Smallest allowed rmax - rmin (onnxruntime's min_real_range). */
  readonly minRealRange?: number;
}

export interface ScaleZeroPoint {
  /** Integer zero point z. */
  readonly zeroPoint: number;
  /** Scale s, a float32 value. */
  readonly scale: number;
}

function checkRealBound(name: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new SdqError('INVALID_RANGE', `${name} is NaN; the calibration range must be two finite numbers (check the tensor for NaN values)`);
  }
  if (!Number.isFinite(value)) {
    throw new SdqError('INVALID_RANGE', `${name} is ${value}; the calibration range must be finite (check the tensor for overflow)`);
  }
}

/** Checks qmin/qmax the way onnxruntime does (qmin <= 0 <= qmax, integers, qmin < qmax). */
export function checkQuantBounds(qmin: number, qmax: number): void {
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax)) {
    throw new SdqError('INVALID_RANGE', `qmin ${qmin} and qmax ${qmax} must be integers`);
  }
  if (qmin > 0 || qmax < 0) {
    throw new SdqError('INVALID_RANGE', `qmin and qmax must satisfy qmin <= 0 <= qmax, got qmin ${qmin}, qmax ${qmax}`);
  }
  if (qmin >= qmax) {
    throw new SdqError('INVALID_RANGE', `qmin ${qmin} must be below qmax ${qmax}`);
  }
}

/**
 * onnxruntime compute_scale_zp: widen [rmin, rmax] to include 0, optionally enforce min_real_range and make it symmetric,
 * s = f32(rmax - rmin) / (qmax - qmin) in float64 then rounded to float32; z = round(qmin - rmin / s) (half to even),
 * or round((qmin + qmax) / 2) when symmetric; s = 1, z = 0 when s < float32 tiny. rmin/rmax are taken as float32.
 */
export function computeScaleZeroPoint(rmin: number, rmax: number, qmin: number, qmax: number, options: ScaleZeroPointOptions = {}): ScaleZeroPoint {
  checkQuantBounds(qmin, qmax);
  checkRealBound('rmin', rmin);
  checkRealBound('rmax', rmax);
  let lo = Math.min(f32(rmin), 0);
  let hi = Math.max(f32(rmax), 0);
  if (options.minRealRange !== undefined) {
    const m = options.minRealRange;
    if (!Number.isFinite(m) || m < 0) throw new SdqError('INVALID_ARGUMENT', `minRealRange must be a finite number >= 0, got ${m}`);
    hi = Math.max(hi, f32(lo + f32(m)));
  }
  if (options.symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absmax;
    hi = absmax;
  }
  const scale64 = f32(hi - lo) / (qmax - qmin);
  if (!Number.isFinite(scale64)) {
    throw new SdqError('INVALID_RANGE', `range [${rmin}, ${rmax}] is too wide for float32 (rmax - rmin overflows)`);
  }
  if (scale64 < FLOAT32_TINY) return { zeroPoint: 0, scale: 1 };
  const zp = options.symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - lo / scale64);
  return { zeroPoint: zp + 0, scale: f32(scale64) };
}
