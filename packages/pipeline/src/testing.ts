// Test helpers: synthetic images and a complete BenchmarkReport to feed the writers.
import type { RgbImage } from './image.js';
import type { BenchmarkReport, PrecisionResult, Precision } from './types.js';
import { latencyStats } from './stats.js';

/** A `size`x`size` image of `bg` with a centred square of `fg` covering `fraction` of the side. */
export function squareImage(size: number, fg: readonly number[], bg: readonly number[], fraction = 0.5): RgbImage {
  const data = new Float32Array(size * size * 3);
  const lo = Math.floor((size * (1 - fraction)) / 2);
  const hi = lo + Math.round(size * fraction);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = x >= lo && x < hi && y >= lo && y < hi ? fg : bg;
      for (let k = 0; k < 3; k++) data[(y * size + x) * 3 + k] = c[k] / 255;
    }
  }
  return { width: size, height: size, data };
}

/**
 * A `size`x`size` image of `bg` with a centred `shape` of `fg` whose bounding box spans `fraction` of the side:
 * a square, a disk, an upward isosceles triangle, or a "blob" (a thin plus sign: right colours, no shape of the language).
 */
export function shapeImage(size: number, shape: 'square' | 'circle' | 'triangle' | 'blob', fg: readonly number[], bg: readonly number[], fraction = 0.5): RgbImage {
  if (shape === 'square') return squareImage(size, fg, bg, fraction);
  const data = new Float32Array(size * size * 3);
  const side = size * fraction;
  const lo = (size - side) / 2;
  const inside = (x: number, y: number): boolean => {
    const u = (x + 0.5 - lo) / side; // 0..1 across the bounding box
    const v = (y + 0.5 - lo) / side;
    if (u < 0 || u >= 1 || v < 0 || v >= 1) return false;
    if (shape === 'circle') return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;
    if (shape === 'triangle') return Math.abs(u - 0.5) <= v / 2;
    return Math.abs(u - 0.5) < 0.1 || Math.abs(v - 0.5) < 0.1; // a plus with arms 1/5 wide: fills 0.36 of its box
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = inside(x, y) ? fg : bg;
      for (let k = 0; k < 3; k++) data[(y * size + x) * 3 + k] = c[k] / 255;
    }
  }
  return { width: size, height: size, data };
}

export function sampleResult(precision: Precision, runsMs: number[], speedup: number | null): PrecisionResult {
  return {
    precision,
    modelDir: `/models/${precision}`,
    modelBytes: precision === 'fp32' ? 40_000_000 : precision === 'fp16' ? 20_000_000 : 12_000_000,
    loadMs: 500,
    runsMs,
    latency: latencyStats(runsMs),
    speedup,
    unetMsPerStep: 40,
    stages: { tokenizerMs: 0.5, textEncoderMs: 10, unetMs: 1000, schedulerMs: 2, vaeDecoderMs: 200, otherMs: 3 },
    overheadFraction: 0.0046,
    quality: precision === 'fp32' ? null : { psnr: precision === 'fp16' ? 61.5 : 28.25, ssim: 0.98, maxAbsDiff: 0.12, meanAbsDiff: 0.01 },
    fidelity: {
      faithful: 1,
      colourFaithful: 2,
      total: 2,
      steps: 25,
      verdicts: [
        { prompt: 'a red circle on a blue background', fg: 0.11, bg: 0.85, fill: 0.79, cornerGap: 0.19, cornerSpread: 0.04, shape: 'circle', colourFaithful: true, faithful: true },
        { prompt: 'a <b>green</b> square on a white background', fg: 0.1, bg: 0.8, fill: 0.6, cornerGap: 0.22, cornerSpread: 0.34, shape: 'triangle', colourFaithful: true, faithful: false },
      ],
    },
    image: `${precision}.png`,
  };
}

export function sampleReport(): BenchmarkReport {
  return {
    tool: 'sdq bench',
    createdAt: '2026-11-25T12:00:00.000Z',
    model: 'shapes-sd',
    prompt: 'a red circle on a blue background',
    negativePrompt: '',
    seed: 42,
    steps: 25,
    scheduler: 'ddim',
    guidance: 5,
    width: 128,
    height: 128,
    warmup: 1,
    runs: 3,
    threads: 2,
    machine: { cpuModel: 'Test CPU', cpus: 2, totalMemoryGiB: 16, platform: 'linux x64', node: '20.0.0', onnxruntime: '1.30.0', device: 'cpu', gpu: null },
    totalMs: 12_345,
    precisions: [
      sampleResult('fp32', [1200, 1220, 1250], 1),
      sampleResult('fp16', [1500, 1510, 1600], 0.8),
      sampleResult('int8', [800, 810, 900], 1.5),
    ],
    notes: ['a note with <html> & "quotes"'],
  };
}
