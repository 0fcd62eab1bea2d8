/** Error metrics between a float reference and an approximation (quantized / float16 outputs, images). */
import { SdqError } from './errors.js';

type Values = ArrayLike<number>;

function checkPair(reference: Values, test: Values, where: string): void {
  if (reference.length !== test.length) {
    throw new SdqError('SHAPE_MISMATCH', `${where}: reference has ${reference.length} values, test has ${test.length}; compare tensors of the same shape`);
  }
  if (reference.length === 0) throw new SdqError('EMPTY_INPUT', `${where}: no values to compare`);
}

/** Mean squared error: sum((x - y)^2) / n (float64). */
export function mse(reference: Values, test: Values): number {
  checkPair(reference, test, 'mse');
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = reference[i] - test[i];
    s += d * d;
  }
  return s / reference.length;
}

/** Largest absolute difference max |x - y|. */
export function maxAbsError(reference: Values, test: Values): number {
  checkPair(reference, test, 'maxAbsError');
  let m = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - test[i]);
    if (d > m || d !== d) m = d;
  }
  return m;
}

/** float64 machine epsilon, the floor onnxruntime puts under both norms. */
const EPS = 2.220446049250313e-16;

/**
 * Signal to quantization noise ratio in dB, as onnxruntime's compute_signal_to_quantization_noice_ratio:
 * 20 * log10(max(||x||, eps) / max(||x - y||, eps)) (norms in float64).
 */
export function sqnr(reference: Values, test: Values): number {
  checkPair(reference, test, 'sqnr');
  let sig = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i];
    const d = x - test[i];
    sig += x * x;
    noise += d * d;
  }
  return 20 * Math.log10(Math.max(Math.sqrt(sig), EPS) / Math.max(Math.sqrt(noise), EPS));
}

export interface PsnrOptions {
  /** Peak value range of the data (default 1, images in [0, 1]; use 255 for bytes). */
  readonly dataRange?: number;
}

/** Peak signal to noise ratio in dB: 10 * log10(R^2 / MSE); Infinity for identical inputs. */
export function psnr(reference: Values, test: Values, options: PsnrOptions = {}): number {
  const r = options.dataRange ?? 1;
  if (!(r > 0)) throw new SdqError('INVALID_ARGUMENT', `psnr: dataRange must be > 0, got ${r}`);
  const e = mse(reference, test);
  return e === 0 ? Infinity : 10 * Math.log10((r * r) / e);
}

export interface SsimOptions {
  readonly width: number;
  readonly height: number;
  /** Channels per pixel (default 1). */
  readonly channels?: number;
  /** 'hwc' (interleaved pixels, default; PNG order) or 'chw' (planar, NCHW tensors without N). */
  readonly layout?: 'hwc' | 'chw';
  /** Value range of the data (default 1, images in [0, 1]). */
  readonly dataRange?: number;
}

const SIGMA = 1.5;
const RADIUS = 5; // int(3.5 * 1.5 + 0.5): scipy gaussian_filter's truncate=3.5
const K1 = 0.01;
const K2 = 0.03;

function gaussianKernel(): Float64Array {
  const k = new Float64Array(2 * RADIUS + 1);
  let s = 0;
  for (let i = -RADIUS; i <= RADIUS; i++) {
    k[i + RADIUS] = Math.exp((-0.5 * i * i) / (SIGMA * SIGMA));
    s += k[i + RADIUS];
  }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** scipy 'reflect' boundary: d c b a | a b c d | d c b a. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/** Separable Gaussian blur of a planar image (scipy.ndimage.gaussian_filter, mode 'reflect'). */
function blur(img: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = -RADIUS; t <= RADIUS; t++) s += k[t + RADIUS] * img[y * w + reflect(x + t, w)];
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = -RADIUS; t <= RADIUS; t++) s += k[t + RADIUS] * tmp[reflect(y + t, h) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}

/**
 * Structural similarity (Wang et al. 2004) as skimage.metrics.structural_similarity with gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False: Gaussian-weighted local statistics, the SSIM map averaged away from a
 * 5-pixel border, then averaged over channels. 1 for identical images.
 */
export function ssim(reference: Values, test: Values, options: SsimOptions): number {
  const { width: w, height: h } = options;
  const c = options.channels ?? 1;
  const layout = options.layout ?? 'hwc';
  const r = options.dataRange ?? 1;
  checkPair(reference, test, 'ssim');
  if (!Number.isInteger(w) || !Number.isInteger(h) || !Number.isInteger(c) || w * h * c !== reference.length) {
    throw new SdqError('SHAPE_MISMATCH', `ssim: ${reference.length} values are not a ${w}x${h}x${c} image`);
  }
  if (w < 2 * RADIUS + 1 || h < 2 * RADIUS + 1) {
    throw new SdqError('INVALID_ARGUMENT', `ssim: image ${w}x${h} is smaller than the 11x11 Gaussian window`);
  }
  if (!(r > 0)) throw new SdqError('INVALID_ARGUMENT', `ssim: dataRange must be > 0, got ${r}`);
  const k = gaussianKernel();
  const c1 = (K1 * r) ** 2;
  const c2 = (K2 * r) ** 2;
  const plane = (src: Values, ch: number): Float64Array => {
    const p = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) p[i] = layout === 'hwc' ? src[i * c + ch] : src[ch * w * h + i];
    return p;
  };
  let total = 0;
  for (let ch = 0; ch < c; ch++) {
    const x = plane(reference, ch);
    const y = plane(test, ch);
    const xx = x.map((v) => v * v);
    const yy = y.map((v) => v * v);
    const xy = x.map((v, i) => v * y[i]);
    const [mx, my, sxx, syy, sxy] = [x, y, xx, yy, xy].map((p) => blur(p, w, h, k));
    let sum = 0;
    let count = 0;
    for (let yy0 = RADIUS; yy0 < h - RADIUS; yy0++) {
      for (let xx0 = RADIUS; xx0 < w - RADIUS; xx0++) {
        const i = yy0 * w + xx0;
        const ux = mx[i];
        const uy = my[i];
        const vx = sxx[i] - ux * ux;
        const vy = syy[i] - uy * uy;
        const vxy = sxy[i] - ux * uy;
        sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        count++;
      }
    }
    total += sum / count;
  }
  return total / c;
}
