import fc from 'fast-check';
import { SdqError, maxAbsError, mse, psnr, sqnr, ssim } from './index.js';

describe('error metrics', () => {
  it('mse, max abs error, psnr and sqnr on a worked example', () => {
    const x = [1, 2, 3, 4];
    const y = [1, 2.5, 3, 3];
    expect(mse(x, y)).toBe((0.25 + 1) / 4);
    expect(maxAbsError(x, y)).toBe(1);
    expect(psnr(x, y, { dataRange: 4 })).toBeCloseTo(10 * Math.log10(16 / 0.3125), 12);
    expect(sqnr(x, y)).toBeCloseTo(20 * Math.log10(Math.sqrt(30) / Math.sqrt(1.25)), 12);
  });
  it('identical inputs: psnr is Infinity, sqnr is capped by float64 eps as onnxruntime does', () => {
    expect(psnr([0.5, 0.25], [0.5, 0.25])).toBe(Infinity);
    expect(sqnr([3, 4], [3, 4])).toBeCloseTo(20 * Math.log10(5 / 2.220446049250313e-16), 9);
  });
  it('sqnr drops by 20 dB when the noise grows 10x (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 50 }), fc.double({ min: 1e-3, max: 1, noNaN: true }), (x, n) => {
        fc.pre(x.some((v) => Math.abs(v) > 1e-3));
        const y1 = x.map((v, i) => v + (i % 2 ? n : -n) * 0.01);
        const y2 = x.map((v, i) => v + (i % 2 ? n : -n) * 0.1);
        expect(sqnr(x, y1) - sqnr(x, y2)).toBeCloseTo(20, 6);
      }),
    );
  });
  it.each([
    ['length mismatch', () => mse([1], [1, 2]), 'SHAPE_MISMATCH'],
    ['empty input', () => sqnr([], []), 'EMPTY_INPUT'],
    ['image too small', () => ssim(new Float32Array(25), new Float32Array(25), { width: 5, height: 5 }), 'INVALID_ARGUMENT'],
    ['wrong image size', () => ssim(new Float32Array(25), new Float32Array(25), { width: 12, height: 12 }), 'SHAPE_MISMATCH'],
  ])('rejects %s', (_name, fn, code) => {
    let got: string | undefined;
    try {
      fn();
    } catch (e) {
      got = e instanceof SdqError ? e.code : 'other';
    }
    expect(got).toBe(code);
  });
});

describe('ssim', () => {
  const w = 24;
  const h = 20;
  const img = Float32Array.from({ length: w * h * 3 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
  it('is 1 for identical images and symmetric', () => {
    expect(ssim(img, img, { width: w, height: h, channels: 3 })).toBeCloseTo(1, 12);
    const noisy = img.map((v, i) => v + 0.05 * Math.sin(i * 7.1));
    const a = ssim(img, noisy, { width: w, height: h, channels: 3 });
    expect(a).toBeCloseTo(ssim(noisy, img, { width: w, height: h, channels: 3 }), 12);
    expect(a).toBeLessThan(1);
  });
  it('falls as noise grows, and hwc/chw layouts agree', () => {
    const noise = (k: number) => img.map((v, i) => v + k * Math.sin(i * 7.1));
    const s1 = ssim(img, noise(0.02), { width: w, height: h, channels: 3 });
    const s2 = ssim(img, noise(0.2), { width: w, height: h, channels: 3 });
    expect(s2).toBeLessThan(s1);
    const toChw = (x: Float32Array) => Float32Array.from({ length: x.length }, (_, j) => x[(j % (w * h)) * 3 + Math.floor(j / (w * h))]);
    expect(ssim(toChw(img), toChw(noise(0.2)), { width: w, height: h, channels: 3, layout: 'chw' })).toBeCloseTo(s2, 12);
  });
});
