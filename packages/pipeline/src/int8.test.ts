import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, openCalibrationData } from '@sdq/calib';
import { FAST_POLICY_MIN_LATENT, SDXL_UNET_FLOAT_LAYERS, captureCalibrationSet, int8PolicyFor, int8PolicyForModel, captureSchedule } from './int8.js';
import { checkModelDir } from './model-dir.js';

describe('int8PolicyFor: the INT8 UNet layout by latent size', () => {
  it.each([
    [16, DEFAULT_UNET_INT8_POLICY],
    [32, DEFAULT_UNET_INT8_POLICY],
    [FAST_POLICY_MIN_LATENT - 1, DEFAULT_UNET_INT8_POLICY],
    [64, FAST_UNET_INT8_POLICY],
    [96, FAST_UNET_INT8_POLICY],
  ])('%i x %i latents use the measured faster layout', (side, expected) => {
    expect(int8PolicyFor(side)).toEqual({ ...expected });
  });

  it('keeps the recipe overrides on top (e.g. int8 activations for TensorRT)', () => {
    const p = int8PolicyFor(64, { activationType: 'int8' });
    expect(p.activationType).toBe('int8');
    expect(p.floatOutputNodes).toBe(FAST_UNET_INT8_POLICY.floatOutputNodes);
    expect(int8PolicyFor(16, { activationType: 'int8' }).floatOutputNodes).toBeUndefined();
  });
});

describe('int8PolicyForModel: the INT8 recipe per model family', () => {
  it.each([
    ['SD at 32x32 calibration latents', { family: 'sd' as const, sampleSize: 64 }, 32, { ...DEFAULT_UNET_INT8_POLICY }],
    ['SD at 64x64', { family: 'sd' as const, sampleSize: 64 }, 64, { ...FAST_UNET_INT8_POLICY }],
    ['SDXL calibrated at 256x256: the layout of its 128x128 latents', { family: 'sdxl' as const, sampleSize: 128 }, 32, { ...FAST_UNET_INT8_POLICY, skipNodes: SDXL_UNET_FLOAT_LAYERS }],
    ['SDXL with no sample_size', { family: 'sdxl' as const }, 0, { ...FAST_UNET_INT8_POLICY, skipNodes: SDXL_UNET_FLOAT_LAYERS }],
  ])('%s', (_, target, side, expected) => {
    expect(int8PolicyForModel(target, side)).toEqual(expected);
  });

  it.each([
    ['/down_blocks.1/resnets.0/conv_shortcut/Conv', true],
    ['/m/up_blocks.0/resnets.2/conv_shortcut/Conv', true],
    ['/add_embedding/linear_1/Gemm', true],
    ['/conv_in/Conv', true],
    ['/time_embedding/linear_1/Gemm', true],
    ['/down_blocks.1/resnets.0/conv1/Conv', false],
    ['/mid_block/attentions.0/proj_in/MatMul', false],
  ])('SDXL keeps %s float: %s', (name, float) => {
    expect(SDXL_UNET_FLOAT_LAYERS.some((r) => r.test(name))).toBe(float);
  });

  it('keeps the overrides on top of the SDXL recipe', () => {
    expect(int8PolicyForModel({ family: 'sdxl', sampleSize: 128 }, 32, { activationType: 'int8' })).toMatchObject({ activationType: 'int8', skipNodes: SDXL_UNET_FLOAT_LAYERS });
  });
});

describe('captureSchedule: which prompts calibration generates and which steps it keeps', () => {
  it.each([
    // prompts, steps, samples -> prompt indices, every k-th step
    [8, 10, 40, [0, 1, 2, 3, 4, 5, 6, 7], 2], // the recipe: its 8 prompts, every 2nd step (as before)
    [168, 10, 40, [0, 21, 42, 63, 84, 105, 126, 147], 2], // a long prompt file: 8 prompts spread through it, not 40 first steps of its first 40
    [3, 10, 40, [0, 1, 2], 1], // fewer prompts than the sets need: all of them, every step
    [8, 1, 4, [0, 2, 4, 6], 1], // one step per generation: one set each
    [0, 10, 40, [], 1], // no prompts: nothing to generate
  ])('%i prompts, %i steps, %i samples', (prompts, steps, samples, indices, every) => {
    expect(captureSchedule(prompts, steps, samples)).toEqual({ promptIndices: indices, every });
  });

  it.each([[8, 10, 40], [168, 10, 40], [40, 20, 40], [100, 4, 16]])('%i prompts x %i steps, %i samples: every generation gives at least half its steps', (prompts, steps, samples) => {
    const { promptIndices, every } = captureSchedule(prompts, steps, samples);
    expect(Math.ceil(steps / every)).toBeGreaterThanOrEqual(Math.ceil(steps / 2));
    expect(promptIndices.length * Math.ceil(steps / every)).toBeGreaterThanOrEqual(Math.min(samples, promptIndices.length * steps));
  });
});

describe('captureCalibrationSet on SDXL (tiny-sdxl)', () => {
  const tinySdxl = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/tiny-sdxl');

  it('captures the UNet\'s added conditions (text_embeds, time_ids) with every step, readable as calibration feeds', async () => {
    const npz = path.join(await mkdtemp(path.join(tmpdir(), 'sdq-sdxl-cap-')), 'unet_inputs.npz');
    const r = await captureCalibrationSet(tinySdxl, npz, { prompts: ['a cat on a sofa'], steps: 2, guidance: 5, samples: 2, seed: 1, width: 64, height: 64, threads: 1 });
    expect(r.sets).toBe(2);
    const reader = await openCalibrationData(npz);
    const feeds = [];
    for await (const f of reader) feeds.push(f);
    await reader.close();
    expect(Object.keys(feeds[0]).sort()).toEqual(['encoder_hidden_states', 'sample', 'text_embeds', 'time_ids', 'timestep']);
    expect(feeds[0].encoder_hidden_states.dims).toEqual([2, 77, 64]);
    expect(feeds[0].text_embeds.dims).toEqual([2, 32]);
    // no negative prompt: force_zeros_for_empty_prompt zeroes the unconditional half, as diffusers does
    expect(Array.from((feeds[0].text_embeds.data as Float32Array).subarray(0, 32)).every((v) => v === 0)).toBe(true);
    expect(Array.from(feeds[0].time_ids.data as Float32Array)).toEqual([64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64]);
  });

  it('checkModelDir reads the family and names a missing text_encoder_2', async () => {
    expect((await checkModelDir(tinySdxl)).family).toBe('sdxl');
    const dir = await mkdtemp(path.join(tmpdir(), 'sdq-sdxl-dir-'));
    for (const c of ['model_index.json', 'text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'tokenizer_2', 'scheduler']) await symlink(path.join(tinySdxl, c), path.join(dir, c));
    await expect(checkModelDir(dir)).rejects.toThrow(/no text_encoder_2\/model.onnx, which its model_index.json \(an SDXL pipeline\) needs/);
  });
});
