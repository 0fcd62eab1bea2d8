import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmark } from './benchmark.js';
import type { GenerateParams, Generator, OpenGenerator } from './generator.js';
import { readPromptLanguage } from './fidelity.js';
import { shapeImage, squareImage } from './testing.js';

const models = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models');
const shapes = path.join(models, 'shapes-sd');

/** A deterministic fake: latency from the dir name, image = the prompt's colours (slightly off for "int8"). */
function fakeOpen(calls: string[]): OpenGenerator {
  return async (dir, options) => {
    const precision = dir.endsWith('int8') ? 'int8' : dir.endsWith('fp16') ? 'fp16' : 'fp32';
    const ms = { fp32: 100, fp16: 140, int8: 50 }[precision];
    const gen: Generator = {
      modelDir: dir,
      scheduler: options.scheduler,
      async generate(p: GenerateParams) {
        calls.push(`${precision}:${p.prompt}:${p.steps}`);
        const offset = precision === 'int8' ? 10 : 0;
        const img = p.prompt.includes('red circle') ? shapeImage(16, 'circle', [220 - offset, 30, 30], [40, 70, 220]) : squareImage(16, [30, 30, 30], [30, 30, 30]);
        return {
          image: img,
          timings: { totalMs: ms, tokenizerMs: 1, textEncoderMs: 4, unetMs: ms - 20, schedulerMs: 1, vaeDecoderMs: 13, unetCalls: p.steps ?? 0 },
        };
      },
      async dispose() {
        calls.push(`dispose:${precision}`);
      },
    };
    return gen;
  };
}

describe('benchmark (fake generator)', () => {
  const dirs = [
    { precision: 'fp32' as const, dir: shapes },
    { precision: 'fp16' as const, dir: `${shapes}/../shapes-sd-fp16` },
    { precision: 'int8' as const, dir: `${shapes}/../shapes-sd-int8` },
  ];

  it('interleaves runs, computes stats, speed-up, quality vs FP32 and fidelity', async () => {
    const calls: string[] = [];
    const language = (await readPromptLanguage(shapes))!;
    // model sizes are read from disk: point all three at the real dir
    const onDisk = dirs.map((d) => ({ ...d, dir: shapes }));
    const open: OpenGenerator = async (dir, o) => fakeOpen(calls)(`${dir}-${['fp32', 'fp16', 'int8'][calls.filter((c) => c === 'open').length]}`, o);
    const wrapped: OpenGenerator = async (dir, o) => {
      const g = await open(dir, o);
      calls.push('open');
      return g;
    };
    const events: string[] = [];
    const { report, images, fidelityImages } = await benchmark({
      models: onDisk,
      modelName: 'shapes-sd',
      prompt: 'a red circle on a blue background',
      width: 16,
      height: 16,
      steps: 4,
      warmup: 1,
      runs: 3,
      fidelity: { prompts: ['a red circle on a blue background', 'a white square on a green background'], steps: 2, language },
      openGenerator: wrapped,
      onnxruntimeVersion: 'test',
      onProgress: (e) => events.push(`${e.task} ${e.done}/${e.total}`),
    });
    const timed = calls.filter((c) => c.endsWith(':4'));
    expect(timed.slice(0, 6)).toEqual(['fp32', 'fp16', 'int8', 'fp32', 'fp16', 'int8'].map((p) => `${p}:a red circle on a blue background:4`));
    expect(timed).toHaveLength(12);
    expect(report.precisions.map((p) => [p.precision, p.latency.meanMs, p.speedup])).toEqual([
      ['fp32', 100, 1],
      ['fp16', 140, 100 / 140],
      ['int8', 50, 2],
    ]);
    expect(report.precisions[2].unetMsPerStep).toBeCloseTo(30 / 4, 10);
    expect(report.precisions[0].overheadFraction).toBeCloseTo((100 - 4 - 80 - 13) / 100, 10);
    expect(report.precisions[0].quality).toBeNull();
    expect(report.precisions[1].quality?.psnr).toBeNull();
    expect(report.precisions[2].quality?.maxAbsDiff).toBeCloseTo(10 / 255, 6);
    expect(report.precisions.map((p) => [p.fidelity?.faithful, p.fidelity?.colourFaithful])).toEqual([[1, 1], [1, 1], [1, 1]]);
    expect(report.precisions[0].modelBytes).toBeGreaterThan(1_000_000);
    expect(images.size).toBe(3);
    expect(fidelityImages.get('int8')).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('dispose'))).toHaveLength(3);
    expect(events.at(-1)).toBe('fidelity INT8 2/2');
    expect(events).toContain('bench runs 12/12');
  });

  it('disposes every loaded model when a run fails', async () => {
    const calls: string[] = [];
    const failing: OpenGenerator = async (dir, o) => {
      const g = await fakeOpen(calls)(dir, o);
      return { ...g, generate: async () => Promise.reject(new Error('boom')), dispose: g.dispose };
    };
    await expect(
      benchmark({ models: dirs.slice(0, 2), modelName: 'x', prompt: 'p', width: 8, height: 8, openGenerator: failing, onnxruntimeVersion: 'test' }),
    ).rejects.toThrow('boom');
    expect(calls.filter((c) => c.startsWith('dispose'))).toHaveLength(2);
  });

  it('refuses an empty model list and duplicate precisions', async () => {
    const base = { modelName: 'x', prompt: 'p', width: 8, height: 8, openGenerator: fakeOpen([]), onnxruntimeVersion: 'test' };
    await expect(benchmark({ ...base, models: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(benchmark({ ...base, models: [dirs[0], dirs[0]] })).rejects.toThrow(/listed twice/);
  });
});
