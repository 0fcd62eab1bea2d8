import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToFloat16 } from '@sdq/quant';
import { createSchedulerByName } from '../schedulers/create.js';
import { FIXTURES, relativeError, readJson } from '../testing/fixtures.js';
import { ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT64, encodeModel, float32Raw, int64Raw } from '../testing/onnx-writer.js';
import { StableDiffusionPipeline, type UnetInputs } from './pipeline.js';

const TINY = join(FIXTURES, 'models/tiny-sd');

/** Text encoder with int64 input_ids: last_hidden_state[b, s, :] = input_ids[b, s] / 49407 (float32, width 32). */
function int64TextEncoder(): Uint8Array {
  return encodeModel({
    inputs: [{ name: 'input_ids', type: ONNX_INT64, shape: ['batch', 'sequence'] }],
    outputs: [{ name: 'last_hidden_state', type: ONNX_FLOAT, shape: ['batch', 'sequence', 32] }],
    initializers: [
      { name: 'axes', type: ONNX_INT64, dims: [1], raw: int64Raw([2]) },
      { name: 'width', type: ONNX_INT64, dims: [3], raw: int64Raw([1, 1, 32]) },
      { name: 'vocab', type: ONNX_FLOAT, dims: [], raw: float32Raw([49407]) },
    ],
    nodes: [
      { op: 'Cast', inputs: ['input_ids'], outputs: ['ids_f'], attributes: { to: ONNX_FLOAT } },
      { op: 'Div', inputs: ['ids_f', 'vocab'], outputs: ['scaled'] },
      { op: 'Unsqueeze', inputs: ['scaled', 'axes'], outputs: ['col'] },
      { op: 'Expand', inputs: ['col', 'width'], outputs: ['last_hidden_state'] },
    ],
  });
}

/** float16 UNet with an int64 timestep: out_sample = 0.5 sample + 0.001 timestep (encoder_hidden_states unused). */
function float16Unet(batch: number | string = 'batch', timestepShape: (number | string)[] = ['batch']): Uint8Array {
  const half = (v: number): Uint8Array => new Uint8Array(float32ToFloat16(new Float32Array([v])).buffer);
  return encodeModel({
    inputs: [
      { name: 'sample', type: ONNX_FLOAT16, shape: [batch, 4, 'height', 'width'] },
      { name: 'timestep', type: ONNX_INT64, shape: timestepShape },
      { name: 'encoder_hidden_states', type: ONNX_FLOAT16, shape: [batch, 'sequence', 32] },
    ],
    outputs: [{ name: 'out_sample', type: ONNX_FLOAT16, shape: [batch, 4, 'height', 'width'] }],
    initializers: [
      { name: 'to4d', type: ONNX_INT64, dims: [4], raw: int64Raw([-1, 1, 1, 1]) },
      { name: 'k_t', type: ONNX_FLOAT16, dims: [], raw: half(0.001) },
      { name: 'k_x', type: ONNX_FLOAT16, dims: [], raw: half(0.5) },
    ],
    nodes: [
      { op: 'Cast', inputs: ['timestep'], outputs: ['t16'], attributes: { to: ONNX_FLOAT16 } },
      { op: 'Reshape', inputs: ['t16', 'to4d'], outputs: ['t4'] },
      { op: 'Mul', inputs: ['t4', 'k_t'], outputs: ['bias'] },
      { op: 'Mul', inputs: ['sample', 'k_x'], outputs: ['half_sample'] },
      { op: 'Add', inputs: ['half_sample', 'bias'], outputs: ['out_sample'] },
    ],
  });
}

function modelDir(unet: Uint8Array = float16Unet()): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdq-iotypes-'));
  for (const c of ['vae_decoder', 'tokenizer', 'scheduler']) symlinkSync(join(TINY, c), join(dir, c));
  mkdirSync(join(dir, 'text_encoder'));
  writeFileSync(join(dir, 'text_encoder', 'model.onnx'), int64TextEncoder());
  mkdirSync(join(dir, 'unet'));
  writeFileSync(join(dir, 'unet', 'model.onnx'), unet);
  writeFileSync(join(dir, 'unet', 'config.json'), JSON.stringify({ sample_size: 8, in_channels: 4 }));
  return dir;
}

describe('StableDiffusionPipeline on int64 / float16 models', () => {
  let pipeline: StableDiffusionPipeline;
  beforeAll(async () => {
    pipeline = await StableDiffusionPipeline.fromDir(modelDir(), { intraOpNumThreads: 1, logger: () => undefined });
  });
  afterAll(async () => {
    await pipeline.dispose();
  });

  it('reads the types from the sessions', () => {
    expect(pipeline.textEncoderIO.inputIds.type).toBe('int64');
    expect(pipeline.unetIO.sampleType).toBe('float16');
    expect(pipeline.unetIO.hiddenType).toBe('float16');
    expect(pipeline.unetIO.timestep.type).toBe('int64');
    expect(pipeline.unetIO.output.type).toBe('float16');
    expect(pipeline.defaultSize).toBe(64);
  });

  it('feeds int64 ids and timesteps and float16 tensors, and reads float16 outputs back', async () => {
    const latents = Float32Array.from({ length: 2 * 4 * 8 * 8 }, (_, i) => Math.sin(i));
    const inputs: UnetInputs[] = [];
    const timesteps: number[] = [];
    const result = await pipeline.generate({
      prompt: 'a cat',
      steps: 4,
      numImages: 2,
      scheduler: 'ddim',
      latents,
      onUnetInput: (u) => {
        // the hook sees live buffers: copy what is kept
        timesteps.push(u.timestep.data[0]);
        inputs.push({ ...u, encoderHiddenStates: { ...u.encoderHiddenStates, data: Float32Array.from(u.encoderHiddenStates.data) } });
      },
    });
    // uncond ("" -> BOS, EOS, EOS...) then cond ("a cat"), each repeated per image; ids / 49407 from the int64 encoder
    const row = 77 * 32;
    const hidden = inputs[0].encoderHiddenStates.data;
    expect(hidden[0]).toBeCloseTo(49406 / 49407, 6);
    expect(hidden[32]).toBeCloseTo(1, 6);
    expect(hidden[2 * row + 32]).toBeCloseTo(320 / 49407, 6); // "a"
    expect(hidden[3 * row + 32]).toBeCloseTo(320 / 49407, 6);
    expect(timesteps).toEqual(result.timesteps);
    // reference: the same DDIM loop in float32 with the model's formula (float16 inside the model: ~1e-3)
    const scheduler = createSchedulerByName('ddim', readJson('models/tiny-sd/scheduler/scheduler_config.json'), { logger: () => undefined });
    scheduler.setTimesteps(4);
    let x: Float32Array = Float32Array.from(latents);
    for (const t of scheduler.timesteps) x = scheduler.step(x.map((v) => 0.5 * v + 0.001 * t), t, x);
    expect(relativeError(result.latents, x)).toBeLessThan(5e-3);
    expect(result.images).toHaveLength(2);
  });
});

describe('a UNet with a fixed batch of 1 and a scalar timestep', () => {
  it('runs the CFG batch in chunks and gives what the dynamic-batch model gives', async () => {
    const fixed = await StableDiffusionPipeline.fromDir(modelDir(float16Unet(1, [])), { intraOpNumThreads: 1, logger: () => undefined });
    const dynamic = await StableDiffusionPipeline.fromDir(modelDir(), { intraOpNumThreads: 1, logger: () => undefined });
    expect(fixed.unetIO.fixedBatch).toBe(1);
    const dims: number[][] = [];
    const request = { prompt: 'a cat', steps: 3, numImages: 2, scheduler: 'euler_a', seed: 5 };
    const a = await fixed.generate({ ...request, onUnetInput: (u) => dims.push(u.timestep.dims) });
    const b = await dynamic.generate(request);
    expect(dims[0]).toEqual([]);
    expect(a.timings.unetCalls).toBe(3 * 4);
    expect(Array.from(a.latents)).toEqual(Array.from(b.latents));
    await Promise.all([fixed.dispose(), dynamic.dispose()]);
  });
});
