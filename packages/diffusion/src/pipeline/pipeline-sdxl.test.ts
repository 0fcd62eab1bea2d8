import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SCHEDULER_ALIASES } from '../schedulers/aliases.js';
import { FIXTURES } from '../testing/fixtures.js';
import { type GenerateOptions, StableDiffusionPipeline, type UnetInputs } from './pipeline.js';
import { concatLastDim, sdxlTimeIds } from './prompt-encoding.js';

const TINY_SDXL = join(FIXTURES, 'models/tiny-sdxl');
const TINY_SD = join(FIXTURES, 'models/tiny-sd');
const quiet = { intraOpNumThreads: 1, logger: () => undefined };
let pipeline: StableDiffusionPipeline;

beforeAll(async () => {
  pipeline = await StableDiffusionPipeline.fromDir(TINY_SDXL, quiet);
});
afterAll(async () => {
  await pipeline.dispose();
});

const small: GenerateOptions = { prompt: 'a cat on a sofa', steps: 2, width: 64, height: 64, scheduler: 'euler' };

/** Copies (as numbers) of the first UNet call's inputs of a generation. */
async function firstUnetInputs(request: GenerateOptions): Promise<{ ehs: number[]; dims: number[]; textEmbeds: number[]; timeIds: number[]; timeDims: number[] }> {
  let first: UnetInputs | undefined;
  await pipeline.generate({ ...request, onUnetInput: (u) => void (first ??= structuredClone(u)) });
  const u = first!;
  return {
    ehs: Array.from(u.encoderHiddenStates.data),
    dims: u.encoderHiddenStates.dims,
    textEmbeds: Array.from(u.added['text_embeds'].data),
    timeIds: Array.from(u.added['time_ids'].data),
    timeDims: u.added['time_ids'].dims,
  };
}

describe('StableDiffusionPipeline on SDXL', () => {
  it('zeroes the unconditional half when no negative prompt is given (force_zeros_for_empty_prompt), and encodes an explicit ""', async () => {
    const none = await firstUnetInputs({ ...small, guidanceScale: 5 });
    const empty = await firstUnetInputs({ ...small, guidanceScale: 5, negativePrompt: '' });
    const half = none.ehs.length / 2;
    expect(none.ehs.slice(0, half).every((v) => v === 0)).toBe(true);
    expect(none.textEmbeds.slice(0, none.textEmbeds.length / 2).every((v) => v === 0)).toBe(true);
    expect(empty.ehs.slice(0, half).some((v) => v !== 0)).toBe(true);
    expect(empty.ehs.slice(half)).toEqual(none.ehs.slice(half));
  });

  it('runs the conditional half only at guidance 1 (batch 1 for every UNet input)', async () => {
    const plain = await firstUnetInputs({ ...small, guidanceScale: 1 });
    expect(plain.dims).toEqual([1, 77, 64]);
    expect(plain.timeDims).toEqual([1, 6]);
    expect(plain.textEmbeds).toHaveLength(32);
  });

  it('conditions on the size of a non-square image, and on given original size / crop / target size', async () => {
    const wide = await firstUnetInputs({ ...small, width: 128, height: 64, numImages: 2 });
    expect(wide.timeDims).toEqual([4, 6]);
    expect(wide.timeIds.slice(0, 6)).toEqual([64, 128, 0, 0, 64, 128]);
    const given = await firstUnetInputs({
      ...small,
      guidanceScale: 1,
      originalSize: { width: 1024, height: 768 },
      cropsCoordsTopLeft: { top: 16, left: 8 },
      targetSize: { width: 512, height: 256 },
    });
    expect(given.timeIds).toEqual([768, 1024, 16, 8, 256, 512]);
    const r = await pipeline.generate({ ...small, width: 128, height: 64 });
    expect(r.latentShape).toEqual([1, 4, 8, 16]);
    expect([r.images[0].width, r.images[0].height]).toEqual([128, 64]);
  });

  // diffusers' arguments as it takes them: (height, width) and (top, left) tuples.
  type Pair = [number, number];
  interface DiffusersCall {
    height: number;
    width: number;
    guidance_scale: number;
    num_images_per_prompt: number;
    original_size?: Pair;
    crops_coords_top_left?: Pair;
    target_size?: Pair;
    negative_original_size?: Pair;
    negative_crops_coords_top_left?: Pair;
    negative_target_size?: Pair;
  }
  /**
   * StableDiffusionXLPipeline.__call__'s time_ids, transcribed: original_size or (height, width), target_size or
   * (height, width), add_time_ids = list(original_size + crops_coords_top_left + target_size); negative_add_time_ids
   * from negative_original_size + (negative_crops_coords_top_left or (0, 0)) + negative_target_size when both sizes
   * are given, else add_time_ids; with guidance cat([negative, positive]). Rows per image as diffusers builds them at
   * num_images_per_prompt=1 ([negative x n, positive x n], the order of the embeddings).
   */
  function diffusersTimeIds(c: DiffusersCall): number[] {
    const original = c.original_size ?? [c.height, c.width];
    const target = c.target_size ?? [c.height, c.width];
    const add = [...original, ...(c.crops_coords_top_left ?? [0, 0]), ...target];
    const negative =
      c.negative_original_size !== undefined && c.negative_target_size !== undefined
        ? [...c.negative_original_size, ...(c.negative_crops_coords_top_left ?? [0, 0]), ...c.negative_target_size]
        : add;
    const n = c.num_images_per_prompt;
    return [...(c.guidance_scale > 1 ? Array<number[]>(n).fill(negative) : []), ...Array<number[]>(n).fill(add)].flat();
  }
  const size = (p: Pair | undefined) => (p === undefined ? undefined : { height: p[0], width: p[1] });
  const crop = (p: Pair | undefined) => (p === undefined ? undefined : { top: p[0], left: p[1] });
  function sdqRequest(c: DiffusersCall): GenerateOptions {
    return {
      ...small,
      steps: 1,
      width: c.width,
      height: c.height,
      guidanceScale: c.guidance_scale,
      numImages: c.num_images_per_prompt,
      originalSize: size(c.original_size),
      cropsCoordsTopLeft: crop(c.crops_coords_top_left),
      targetSize: size(c.target_size),
      negativeOriginalSize: size(c.negative_original_size),
      negativeCropsCoordsTopLeft: crop(c.negative_crops_coords_top_left),
      negativeTargetSize: size(c.negative_target_size),
    };
  }
  const base = { height: 64, width: 64, guidance_scale: 5, num_images_per_prompt: 1 };
  it.each<[string, DiffusersCall]>([
    ['defaults (the conformance runs)', base],
    ['non-square, 2 images', { ...base, height: 64, width: 128, num_images_per_prompt: 2 }],
    ['positive sizes and crop; the negative half repeats them', { ...base, original_size: [768, 1024], crops_coords_top_left: [16, 8], target_size: [256, 512] }],
    ['negative sizes: the negative crop is (0, 0), not the positive one', { ...base, crops_coords_top_left: [16, 8], negative_original_size: [256, 512], negative_target_size: [64, 64] }],
    ['every negative, non-square, 2 images', { ...base, height: 32, width: 96, num_images_per_prompt: 2, negative_original_size: [512, 1024], negative_crops_coords_top_left: [4, 12], negative_target_size: [1024, 1024] }],
    ['negative sizes without guidance: conditional rows only', { ...base, guidance_scale: 1, negative_original_size: [256, 256], negative_target_size: [64, 64] }],
  ])('time_ids as diffusers builds them: %s', async (_, call) => {
    const expected = diffusersTimeIds(call);
    const got = await firstUnetInputs(sdqRequest(call));
    expect(got.timeDims).toEqual([expected.length / 6, 6]);
    expect(got.timeIds).toEqual(expected);
  });

  it.each<[string, Partial<GenerateOptions>, RegExp]>([
    ['negativeOriginalSize alone', { negativeOriginalSize: { width: 512, height: 512 } }, /^negativeOriginalSize without negativeTargetSize: .*needs both/],
    ['negativeTargetSize alone', { negativeTargetSize: { width: 64, height: 64 } }, /^negativeTargetSize without negativeOriginalSize: /],
    ['a negative crop without sizes', { negativeCropsCoordsTopLeft: { top: 0, left: 0 } }, /^negativeCropsCoordsTopLeft without negativeOriginalSize: /],
    ['a negative size below 0', { negativeOriginalSize: { width: -1, height: 64 }, negativeTargetSize: { width: 64, height: 64 } }, /non-negative/],
  ])('rejects %s, which diffusers would take without a word', async (_, given, message) => {
    await expect(pipeline.generate({ ...small, ...given })).rejects.toThrow(message);
  });

  it.each(Object.keys(SCHEDULER_ALIASES))('generates with scheduler %s', async (scheduler) => {
    const r = await pipeline.generate({ ...small, scheduler });
    expect(r.scheduler).toBe(SCHEDULER_ALIASES[scheduler].className);
    expect(r.latents.every(Number.isFinite)).toBe(true);
  });

  it('rejects SDXL size conditioning on an SD 1.x dir', async () => {
    const sd = await StableDiffusionPipeline.fromDir(TINY_SD, quiet);
    await expect(sd.generate({ ...small, originalSize: { width: 1024, height: 1024 } })).rejects.toThrow(/originalSize apply to SDXL models only/);
    await expect(sd.generate({ ...small, negativeOriginalSize: { width: 512, height: 512 }, negativeTargetSize: { width: 64, height: 64 } })).rejects.toThrow(
      /^negativeOriginalSize, negativeTargetSize apply to SDXL models only/,
    );
    await sd.dispose();
  });
});

/** A copy of tiny-sdxl made of symlinks, with `replace` mapping an entry to another source (or null to drop it). */
function sdxlDirWith(replace: Record<string, string | null>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdq-sdxl-'));
  for (const c of ['model_index.json', 'text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'tokenizer', 'tokenizer_2', 'scheduler']) {
    const source = c in replace ? replace[c] : join(TINY_SDXL, c);
    if (source !== null) symlinkSync(source, join(dir, c));
  }
  return dir;
}

describe('StableDiffusionPipeline.fromDir on SDXL dirs: errors', () => {
  it('names the SDXL folders an SDXL model_index.json needs', async () => {
    await expect(StableDiffusionPipeline.fromDir(sdxlDirWith({ text_encoder_2: null }), quiet)).rejects.toThrow(/no text_encoder_2\/ folder.*names an SDXL pipeline/);
  });

  it('says a text encoder without hidden_states.N outputs cannot give the penultimate layer', async () => {
    const dir = sdxlDirWith({ text_encoder_2: join(TINY_SD, 'text_encoder') });
    await expect(StableDiffusionPipeline.fromDir(dir, quiet)).rejects.toThrow(/text_encoder_2\/model.onnx has no hidden_states.N outputs; SDXL conditions on the penultimate layer/);
  });

  it('says an SDXL UNet in an SD 1.x dir needs the SDXL layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdq-sd-'));
    for (const c of ['text_encoder', 'vae_decoder', 'tokenizer', 'scheduler']) symlinkSync(join(TINY_SD, c), join(dir, c));
    symlinkSync(join(TINY_SDXL, 'unet'), join(dir, 'unet'));
    writeFileSync(join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
    await expect(StableDiffusionPipeline.fromDir(dir, quiet)).rejects.toThrow(/unet\/model.onnx takes text_embeds \[batch, 32\], time_ids \[batch, 6\], which this model dir's prompt encoding does not produce/);
  });
});

describe('SDXL conditioning math', () => {
  it('concatLastDim puts each row of a before the same row of b (torch.cat dim=-1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (rows, wa, wb) => {
        const a = Float32Array.from({ length: rows * wa }, (_, i) => i);
        const b = Float32Array.from({ length: rows * wb }, (_, i) => -1 - i);
        const out = concatLastDim(a, b, rows);
        for (let r = 0; r < rows; r++) {
          expect(Array.from(out.subarray(r * (wa + wb), r * (wa + wb) + wa))).toEqual(Array.from(a.subarray(r * wa, (r + 1) * wa)));
          expect(Array.from(out.subarray(r * (wa + wb) + wa, (r + 1) * (wa + wb)))).toEqual(Array.from(b.subarray(r * wb, (r + 1) * wb)));
        }
      }),
    );
  });

  it('sdxlTimeIds rejects negative sizes', () => {
    expect(() => sdxlTimeIds({ width: 64, height: 64, cropsCoordsTopLeft: { top: -1, left: 0 } })).toThrow(/non-negative/);
  });
});
