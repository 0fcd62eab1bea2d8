import fc from 'fast-check';
import { compareImages } from './compare.js';
import type { RgbImage } from './image.js';

function image(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, data };
}
const ramp = (x: number, y: number, c: number): number => ((x * 7 + y * 13 + c * 29) % 256) / 255;

describe('compareImages', () => {
  it('identical images: PSNR infinite (null), SSIM 1, no difference', () => {
    const a = image(16, 16, ramp);
    expect(compareImages(a, a)).toEqual({ psnr: null, ssim: 1, maxAbsDiff: 0, meanAbsDiff: 0 });
  });

  it.each([0.5, 0.1, 0.01])('a constant offset %d gives PSNR = -20 log10(d) and max abs diff d', (d) => {
    const a = image(12, 12, () => 0.25);
    const b = image(12, 12, () => 0.25 + d);
    const q = compareImages(b, a);
    expect(q.psnr).toBeCloseTo(-20 * Math.log10(d), 4);
    expect(q.maxAbsDiff).toBeCloseTo(d, 6);
    // constant images: SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1), C1 = 0.01^2
    const m1 = 0.25 + d;
    const m2 = 0.25;
    expect(q.ssim).toBeCloseTo((2 * m1 * m2 + 1e-4) / (m1 * m1 + m2 * m2 + 1e-4), 5);
  });

  it('matches an independent scipy reference (gaussian_filter sigma 1.5, truncate 3.5, reflect, crop 5)', () => {
    // Reference: numpy/scipy 1.17 implementation of skimage's SSIM on these two images: 0.8962700298701884, PSNR 16.83688850061033 dB.
    const a = image(24, 20, ramp);
    const b = image(24, 20, (x, y, c) => 0.7 * ramp(x, y, c) + 0.3 * (((x * 11 + y * 5 + c * 3 + 17) % 64) / 255));
    const q = compareImages(b, a);
    expect(q.ssim).toBeCloseTo(0.8962700298701884, 6);
    expect(q.psnr).toBeCloseTo(16.83688850061033, 4);
  });

  it('is symmetric and SSIM stays in [-1, 1]', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 432, maxLength: 432 }), fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 432, maxLength: 432 }), (xs, ys) => {
        const a = { width: 12, height: 12, data: Float32Array.from(xs) };
        const b = { width: 12, height: 12, data: Float32Array.from(ys) };
        const ab = compareImages(a, b);
        const ba = compareImages(b, a);
        expect(ab.ssim).toBeCloseTo(ba.ssim, 10);
        expect(ab.maxAbsDiff).toBe(ba.maxAbsDiff);
        expect(ab.ssim).toBeLessThanOrEqual(1 + 1e-9);
        expect(ab.ssim).toBeGreaterThanOrEqual(-1 - 1e-9);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses images of different sizes with a one-line fix', () => {
    expect(() => compareImages(image(12, 12, ramp), image(16, 12, ramp))).toThrow(/12x12 image with a 16x12 reference; generate both at the same --size/);
  });
});
