import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { SdqError } from '@sdq/quant';
import { FIXTURES, maxAbsDiff } from '../testing/fixtures.js';
import { writePng } from './image.js';
import { type GenerateOptions, StableDiffusionPipeline, type UnetInputs } from './pipeline.js';

const TINY = join(FIXTURES, 'models/tiny-sd');
const quiet = { intraOpNumThreads: 1, logger: () => undefined };
let pipeline: StableDiffusionPipeline;

beforeAll(async () => {
  pipeline = await StableDiffusionPipeline.fromDir(TINY, quiet);
});
afterAll(async () => {
  await pipeline.dispose();
});

const small: GenerateOptions = { prompt: 'a cat on a sofa', steps: 3, width: 64, height: 64, scheduler: 'ddim' };

/** A copy of tiny-sd made of symlinks, with `replace` mapping a component folder to another source folder (or null to drop it). */
function modelDirWith(replace: Record<string, string | null>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdq-model-'));
  for (const c of ['text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'scheduler']) {
    const source = c in replace ? replace[c] : join(TINY, c);
    if (source !== null) symlinkSync(source, join(dir, c));
  }
  return dir;
}

describe('StableDiffusionPipeline', () => {
  it('reads the model I/O and the VAE scaling factor from the model dir', () => {
    expect(pipeline.textEncoderIO.inputIds).toMatchObject({ name: 'input_ids', type: 'int32' });
    expect(pipeline.unetIO).toMatchObject({ sampleType: 'float32', hiddenType: 'float32', fixedBatch: null });
    expect(pipeline.unetIO.timestep.type).toBe('float32');
    expect(pipeline.vaeScalingFactor).toBe(0.18215);
    expect(pipeline.vaeScaleFactor).toBe(8);
    expect(pipeline.defaultSize).toBe(128);
  });

  it('runs uncond + cond as one batch of 2 per image, and only the cond half at guidance 1', async () => {
    const batches: number[] = [];
    const record = (u: UnetInputs): void => {
      batches.push(u.sample.dims[0]);
      expect(u.names).toEqual({ sample: 'sample', timestep: 'timestep', encoderHiddenStates: 'encoder_hidden_states' });
      expect(u.timestep.dims).toEqual([u.sample.dims[0]]);
      expect(u.encoderHiddenStates.dims).toEqual([u.sample.dims[0], 77, 32]);
    };
    const guided = await pipeline.generate({ ...small, numImages: 2, guidanceScale: 7.5, onUnetInput: record });
    expect(batches).toEqual([4, 4, 4]);
    expect(guided.images).toHaveLength(2);
    batches.length = 0;
    const plain = await pipeline.generate({ ...small, guidanceScale: 1, onUnetInput: record });
    expect(batches).toEqual([1, 1, 1]);
    expect(plain.timings.unetCalls).toBe(3);
  });

  it('is deterministic for a seed, differs across seeds and images, and replays from given latents', async () => {
    const a = await pipeline.generate({ ...small, seed: 7, numImages: 2 });
    const b = await pipeline.generate({ ...small, seed: 7, numImages: 2 });
    const c = await pipeline.generate({ ...small, seed: 8 });
    expect(maxAbsDiff(a.images[0].data, b.images[0].data)).toBe(0);
    expect(maxAbsDiff(a.images[0].data, a.images[1].data)).toBeGreaterThan(0);
    expect(maxAbsDiff(a.images[0].data, c.images[0].data)).toBeGreaterThan(0);
    expect(a.seed).toBe(7);
  });

  it('uses the negative prompt as the unconditional half', async () => {
    const hidden: Float32Array[] = [];
    const grab = (u: UnetInputs): void => {
      if (u.step === 0) hidden.push(Float32Array.from(u.encoderHiddenStates.data));
    };
    await pipeline.generate({ ...small, negativePrompt: '', onUnetInput: grab });
    await pipeline.generate({ ...small, negativePrompt: 'blurry', onUnetInput: grab });
    const half = hidden[0].length / 2;
    expect(maxAbsDiff(hidden[0].subarray(half), hidden[1].subarray(half))).toBe(0);
    expect(maxAbsDiff(hidden[0].subarray(0, half), hidden[1].subarray(0, half))).toBeGreaterThan(0);
  });

  it('records per-stage timings and reports every step to the callback', async () => {
    const steps: number[] = [];
    const r = await pipeline.generate({ ...small, scheduler: 'heun', onStep: (s) => steps.push(s.step) });
    expect(steps).toEqual(r.timesteps.map((_, i) => i));
    const t = r.timings;
    expect(t.unetStepMs).toHaveLength(r.timesteps.length);
    for (const v of [t.tokenizerMs, t.textEncoderMs, t.unetMs, t.schedulerMs, t.vaeDecoderMs, t.totalMs]) expect(v).toBeGreaterThanOrEqual(0);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.textEncoderMs + t.unetMs + t.vaeDecoderMs);
    expect(r.scheduler).toBe('HeunDiscreteScheduler');
  });

  it('returns RGB float and bytes that agree, and writes a PNG that reads back', async () => {
    const r = await pipeline.generate(small);
    const img = r.images[0];
    expect(img.data).toHaveLength(64 * 64 * 3);
    for (let i = 0; i < img.data.length; i++) expect(Math.abs(img.rgb8[i] - img.data[i] * 255)).toBeLessThanOrEqual(0.5);
    const path = join(mkdtempSync(join(tmpdir(), 'sdq-png-')), 'out.png');
    writePng(path, img);
    const png = PNG.sync.read(readFileSync(path));
    expect([png.width, png.height]).toEqual([64, 64]);
    expect(png.data[4 * 10 + 1]).toBe(img.rgb8[3 * 10 + 1]);
  });

  it.each([
    [{ width: 100 }, /width 100 must be a positive multiple of 8/],
    [{ height: 0 }, /height 0/],
    [{ numImages: 0 }, /numImages/],
    [{ latents: new Float32Array(5) }, /latents have 5 values/],
    [{ scheduler: 'nope' }, /unknown scheduler "nope"/],
  ])('rejects bad requests clearly: %p', async (extra, message) => {
    await expect(pipeline.generate({ ...small, ...(extra as Partial<GenerateOptions>) })).rejects.toThrow(message);
  });
});

describe('StableDiffusionPipeline.fromDir errors', () => {
  it('names a missing component folder', async () => {
    await expect(StableDiffusionPipeline.fromDir(modelDirWith({ vae_decoder: null }), quiet)).rejects.toThrow(/no vae_decoder\/ folder/);
  });

  it('rejects a model whose inputs do not look like a UNet', async () => {
    const dir = modelDirWith({ unet: join(TINY, 'vae_decoder') });
    await expect(StableDiffusionPipeline.fromDir(dir, quiet)).rejects.toThrow(/does not look like a UNet: its inputs are latent_sample/);
  });

  it('rejects a model whose inputs do not look like a text encoder or VAE decoder', async () => {
    await expect(StableDiffusionPipeline.fromDir(modelDirWith({ text_encoder: join(TINY, 'unet') }), quiet)).rejects.toThrow(/does not look like a CLIP text encoder/);
    await expect(StableDiffusionPipeline.fromDir(modelDirWith({ vae_decoder: join(TINY, 'text_encoder') }), quiet)).rejects.toThrow(/does not look like a VAE decoder/);
  });

  it('rejects an empty scheduler config', async () => {
    const scheduler = mkdtempSync(join(tmpdir(), 'sdq-sched-'));
    writeFileSync(join(scheduler, 'scheduler_config.json'), '{}');
    await expect(StableDiffusionPipeline.fromDir(modelDirWith({ scheduler }), quiet)).rejects.toThrow(/scheduler_config.json is empty/);
  });

  it('rejects an unknown scheduler class at load time', async () => {
    const scheduler = mkdtempSync(join(tmpdir(), 'sdq-sched-'));
    writeFileSync(join(scheduler, 'scheduler_config.json'), JSON.stringify({ _class_name: 'KDPM2DiscreteScheduler' }));
    const err = await StableDiffusionPipeline.fromDir(modelDirWith({ scheduler }), quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdqError);
    expect((err as SdqError).message).toMatch(/KDPM2DiscreteScheduler" is not supported/);
  });

  it('names a missing model file', async () => {
    const unet = mkdtempSync(join(tmpdir(), 'sdq-unet-'));
    mkdirSync(join(unet, 'empty'));
    await expect(StableDiffusionPipeline.fromDir(modelDirWith({ unet }), quiet)).rejects.toThrow(/model\.onnx is missing/);
  });
});
