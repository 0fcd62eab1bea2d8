// Image quality against a reference: PSNR, SSIM, max/mean abs difference over RGB in [0,1].
// PSNR and SSIM live here until @sdq/quant exports its metrics; formulas below.
import { SdqError } from '@sdq/quant';
import { assertRgbImage, type RgbImage } from './image.js';
import type { ImageQuality } from './types.js';

/** PSNR = 10 log10(peak^2 / MSE); Infinity when identical. */
export function psnrDb(a: Float32Array, b: Float32Array, peak = 1): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((peak * peak) / mse);
}

function gaussianKernel(sigma: number, radius: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let s = 0;
  for (let i = -radius; i <= radius; i++) s += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Separable Gaussian filter with mirror ('reflect' as scipy.ndimage: d c b a | a b c d) borders. */
function blur(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const mirror = (i: number, n: number): number => {
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
    return j;
  };
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += k[t + r] * src[y * w + mirror(x + t, w)];
      tmp[y * w + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += k[t + r] * tmp[mirror(y + t, h) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}

/**
 * SSIM (Wang et al. 2004) as skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1, channel_axis=-1): per channel mean SSIM over the map cropped by the
 * window radius, then averaged over channels. K1 = 0.01, K2 = 0.03.
 */
export function ssimRgb(a: RgbImage, b: RgbImage): number {
  const { width: w, height: h } = a;
  const radius = Math.floor((2 * Math.floor(3.5 * 1.5 + 0.5) + 1 - 1) / 2); // skimage: truncate 3.5 sigma -> win 11
  const k = gaussianKernel(1.5, radius);
  const c1 = (0.01 * 1) ** 2;
  const c2 = (0.03 * 1) ** 2;
  const pad = radius;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    const x = new Float64Array(w * h);
    const y = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) {
      x[i] = a.data[3 * i + c];
      y[i] = b.data[3 * i + c];
    }
    const xx = x.map((v) => v * v);
    const yy = y.map((v) => v * v);
    const xy = x.map((v, i) => v * y[i]);
    const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((m) => blur(m, w, h, k));
    let sum = 0;
    let n = 0;
    for (let yy0 = pad; yy0 < h - pad; yy0++) {
      for (let xx0 = pad; xx0 < w - pad; xx0++) {
        const i = yy0 * w + xx0;
        const vx = mxx[i] - mx[i] * mx[i];
        const vy = myy[i] - my[i] * my[i];
        const cxy = mxy[i] - mx[i] * my[i];
        sum += ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
        n++;
      }
    }
    total += n > 0 ? sum / n : 1;
  }
  return total / 3;
}

/** Compare `image` with `reference` (same size, RGB HWC in [0,1]). */
export function compareImages(image: RgbImage, reference: RgbImage): ImageQuality {
  assertRgbImage(image, 'image');
  assertRgbImage(reference, 'reference');
  if (image.width !== reference.width || image.height !== reference.height) {
    throw new SdqError('SHAPE_MISMATCH', `cannot compare a ${image.width}x${image.height} image with a ${reference.width}x${reference.height} reference; generate both at the same --size`);
  }
  let maxAbs = 0;
  let sumAbs = 0;
  for (let i = 0; i < image.data.length; i++) {
    const d = Math.abs(image.data[i] - reference.data[i]);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
  }
  const psnr = psnrDb(image.data, reference.data);
  return {
    psnr: Number.isFinite(psnr) ? psnr : null,
    ssim: ssimRgb(image, reference),
    maxAbsDiff: maxAbs,
    meanAbsDiff: sumAbs / image.data.length,
  };
}
