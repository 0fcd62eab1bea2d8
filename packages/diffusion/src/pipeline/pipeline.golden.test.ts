import { join } from 'node:path';
import { ReplayNoise } from '../random.js';
import { FIXTURES, maxAbsDiff, readJson, readNpyFloat32 } from '../testing/fixtures.js';
import { StableDiffusionPipeline } from './pipeline.js';

/** fixtures/pipeline/pipeline.json: diffusers StableDiffusionPipeline on models/tiny-sd (see PROVENANCE.md). */
interface PipelineCase {
  key: string;
  scheduler: string;
  scheduler_config: Record<string, unknown>;
  prompt: string;
  negative_prompt: string;
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

const CLASS_OF: Record<string, string> = {
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler',
  euler: 'EulerDiscreteScheduler',
  euler_a: 'EulerAncestralDiscreteScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler',
  lms: 'LMSDiscreteScheduler',
  unipc: 'UniPCMultistepScheduler',
};

const fixture = readJson<{ cases: PipelineCase[] }>('pipeline/pipeline.json');
const LATENT_TOLERANCE = 1e-4;
const IMAGE_TOLERANCE = 2e-3;
let pipeline: StableDiffusionPipeline;

beforeAll(async () => {
  pipeline = await StableDiffusionPipeline.fromDir(join(FIXTURES, 'models/tiny-sd'), { intraOpNumThreads: 1, logger: () => undefined });
});
afterAll(async () => {
  await pipeline.dispose();
});

describe('StableDiffusionPipeline reproduces diffusers on tiny-sd (pipeline.json)', () => {
  it.each(fixture.cases.map((c) => [c.key, c] as const))('%s', async (_key, c) => {
    expect(pipeline.tokenizer.call(c.prompt).inputIds).toEqual(c.input_ids);
    const stepLatents: Float32Array[] = [];
    const result = await pipeline.generate({
      prompt: c.prompt,
      negativePrompt: c.negative_prompt,
      guidanceScale: c.guidance_scale,
      steps: c.steps,
      width: c.width,
      height: c.height,
      latents: Float32Array.from(c.initial_latents),
      noise: new ReplayNoise(c.noise_draws),
      scheduler: { _class_name: CLASS_OF[c.scheduler], ...c.scheduler_config },
      onStep: ({ latents }) => stepLatents.push(Float32Array.from(latents)),
    });
    expect(stepLatents).toHaveLength(c.step_latents.length);
    const latentErrors = stepLatents.map((l, i) => maxAbsDiff(l, c.step_latents[i]));
    expect(Math.max(...latentErrors)).toBeLessThanOrEqual(LATENT_TOLERANCE);
    const reference = readNpyFloat32(join(FIXTURES, 'pipeline', c.image_npy));
    expect(reference.shape).toEqual(c.image_shape);
    const image = result.images[0];
    expect([image.height, image.width, 3]).toEqual(c.image_shape);
    expect(maxAbsDiff(image.data, reference.data)).toBeLessThanOrEqual(IMAGE_TOLERANCE);
    // timings are recorded on every run
    expect(result.timings.unetStepMs).toHaveLength(result.timesteps.length);
    expect(result.timings.unetCalls).toBe(result.timesteps.length);
    expect(result.timings.totalMs).toBeGreaterThan(0);
  });
});
