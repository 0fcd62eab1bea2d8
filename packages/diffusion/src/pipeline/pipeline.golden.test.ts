import { join } from 'node:path';
import { ReplayNoise } from '../random.js';
import { SCHEDULER_ALIASES } from '../schedulers/aliases.js';
import { FIXTURES, maxAbsDiff, readJson, readNpyFloat32 } from '../testing/fixtures.js';
import { type GenerateOptions, StableDiffusionPipeline, type UnetInputs } from './pipeline.js';

/** One diffusers run: fixtures/pipeline/pipeline.json (StableDiffusionPipeline on models/tiny-sd) and pipeline-sdxl (see PROVENANCE.md). */
interface PipelineCase {
  key: string;
  scheduler: string;
  scheduler_config: Record<string, unknown>;
  prompt: string;
  /** null: none given (SDXL's force_zeros_for_empty_prompt applies); "" is encoded like any prompt. */
  negative_prompt: string | null;
  guidance_scale: number;
  steps: number;
  height: number;
  width: number;
  input_ids: number[];
  initial_latents: number[];
  step_latents: number[][];
  noise_draws: number[][];
  image_npy: string;
  image_shape: number[];
}

/** fixtures/pipeline-sdxl/pipeline-sdxl.json: diffusers StableDiffusionXLPipeline on models/tiny-sdxl. */
interface SdxlCase extends PipelineCase {
  input_ids_2: number[];
  prompt_embeds: number[];
  pooled_prompt_embeds: number[];
  negative_prompt_embeds: number[];
  negative_pooled_prompt_embeds: number[];
  unet_first_call: { time_ids: number[]; text_embeds_shape: number[]; encoder_hidden_states_shape: number[] };
}

const sd = readJson<{ cases: PipelineCase[] }>('pipeline/pipeline.json');
const sdxl = readJson<{ cases: SdxlCase[] }>('pipeline-sdxl/pipeline-sdxl.json');
const EMBEDDING_TOLERANCE = 1e-4;
const LATENT_TOLERANCE = 1e-4;
const IMAGE_TOLERANCE = 2e-3;
const pipelines: Record<'sd' | 'sdxl', StableDiffusionPipeline> = {} as Record<'sd' | 'sdxl', StableDiffusionPipeline>;

beforeAll(async () => {
  const options = { intraOpNumThreads: 1, logger: () => undefined };
  pipelines.sd = await StableDiffusionPipeline.fromDir(join(FIXTURES, 'models/tiny-sd'), options);
  pipelines.sdxl = await StableDiffusionPipeline.fromDir(join(FIXTURES, 'models/tiny-sdxl'), options);
});
afterAll(async () => {
  await Promise.all(Object.values(pipelines).map((p) => p.dispose()));
});

/** Runs a case from its initial latents and recorded noise; checks every step's latents and the image. */
async function checkRun(pipeline: StableDiffusionPipeline, c: PipelineCase, folder: string, extra: Partial<GenerateOptions> = {}): Promise<void> {
  const stepLatents: Float32Array[] = [];
  const result = await pipeline.generate({
    prompt: c.prompt,
    ...(c.negative_prompt !== null && { negativePrompt: c.negative_prompt }),
    guidanceScale: c.guidance_scale,
    steps: c.steps,
    width: c.width,
    height: c.height,
    latents: Float32Array.from(c.initial_latents),
    noise: new ReplayNoise(c.noise_draws),
    scheduler: { _class_name: SCHEDULER_ALIASES[c.scheduler].className, ...c.scheduler_config },
    onStep: ({ latents }) => stepLatents.push(Float32Array.from(latents)),
    ...extra,
  });
  expect(stepLatents).toHaveLength(c.step_latents.length);
  const latentErrors = stepLatents.map((l, i) => maxAbsDiff(l, c.step_latents[i]));
  expect(Math.max(...latentErrors)).toBeLessThanOrEqual(LATENT_TOLERANCE);
  const reference = readNpyFloat32(join(FIXTURES, folder, c.image_npy));
  expect(reference.shape).toEqual(c.image_shape);
  const image = result.images[0];
  expect([image.height, image.width, 3]).toEqual(c.image_shape);
  expect(maxAbsDiff(image.data, reference.data)).toBeLessThanOrEqual(IMAGE_TOLERANCE);
  // timings are recorded on every run
  expect(result.timings.unetStepMs).toHaveLength(result.timesteps.length);
  expect(result.timings.unetCalls).toBe(result.timesteps.length);
  expect(result.timings.totalMs).toBeGreaterThan(0);
}

describe('StableDiffusionPipeline reproduces diffusers on tiny-sd (pipeline.json)', () => {
  it.each(sd.cases.map((c) => [c.key, c] as const))('%s', async (_key, c) => {
    expect(pipelines.sd.tokenizer.call(c.prompt).inputIds).toEqual(c.input_ids);
    await checkRun(pipelines.sd, c, 'pipeline');
  });
});

/** The uncond / cond halves of a [2, ...] guidance batch tensor. */
function halves(data: Float32Array): [Float32Array, Float32Array] {
  return [data.subarray(0, data.length / 2), data.subarray(data.length / 2)];
}

describe('StableDiffusionPipeline reproduces diffusers StableDiffusionXLPipeline on tiny-sdxl (pipeline-sdxl.json)', () => {
  it('recognises the SDXL dir from model_index.json with its VAE scaling factor', () => {
    expect(pipelines.sdxl.family).toBe('sdxl');
    expect(pipelines.sdxl.vaeScalingFactor).toBe(0.13025);
    expect(pipelines.sdxl.unetIO.conditioning.map((c) => c.role)).toEqual(['encoder_hidden_states', 'text_embeds', 'time_ids']);
  });

  it.each(sdxl.cases.map((c) => [c.key, c] as const))('%s', async (_key, c) => {
    const pipeline = pipelines.sdxl;
    expect(pipeline.tokenizer.call(c.prompt).inputIds).toEqual(c.input_ids);
    expect(pipeline.tokenizer2?.call(c.prompt).inputIds).toEqual(c.input_ids_2);
    let first: UnetInputs | undefined;
    await checkRun(pipeline, c, 'pipeline-sdxl', { onUnetInput: (u) => void (first ??= structuredClone(u)) });
    // the UNet's conditioning inputs of the first call: [negative, positive]
    const { encoderHiddenStates, added } = first!;
    expect(encoderHiddenStates.dims).toEqual(c.unet_first_call.encoder_hidden_states_shape);
    expect(added['text_embeds'].dims).toEqual(c.unet_first_call.text_embeds_shape);
    expect(Array.from(added['time_ids'].data)).toEqual(c.unet_first_call.time_ids);
    const [negative, positive] = halves(encoderHiddenStates.data);
    const [negativePooled, pooled] = halves(added['text_embeds'].data);
    expect(maxAbsDiff(positive, c.prompt_embeds)).toBeLessThanOrEqual(EMBEDDING_TOLERANCE);
    expect(maxAbsDiff(negative, c.negative_prompt_embeds)).toBeLessThanOrEqual(EMBEDDING_TOLERANCE);
    expect(maxAbsDiff(pooled, c.pooled_prompt_embeds)).toBeLessThanOrEqual(EMBEDDING_TOLERANCE);
    expect(maxAbsDiff(negativePooled, c.negative_pooled_prompt_embeds)).toBeLessThanOrEqual(EMBEDDING_TOLERANCE);
  });
});
