// The built-in text-to-image generator on onnxruntime-node: CLIP BPE + DDIM + CFG + VAE decode, timed per stage.
// A minimal stand-in while @sdq/diffusion's StableDiffusionPipeline is not available; schedulers and seeded noise
// are @sdq/diffusion's (createScheduler, SeededNoise), so images agree once its pipeline is swapped in.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SdqError } from '@sdq/quant';
import type { GenerateParams, Generation, Generator, OpenGenerator } from '../generator.js';
import { ClipBpe } from './clip-bpe.js';
import { createScheduler, SeededNoise, type SchedulerConfig } from '@sdq/diffusion';

/** UNet inputs of one denoising step (CFG batch), handed to calibration capture. */
export interface UnetFeeds {
  sample: { data: Float32Array; dims: number[] };
  timestep: { data: Float32Array; dims: number[] };
  encoder_hidden_states: { data: Float32Array; dims: number[] };
}

export function onnxruntimeVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}

/** --scheduler names -> diffusers class names. */
export const SCHEDULERS: Readonly<Record<string, string>> = {
  ddim: 'DDIMScheduler',
  ddpm: 'DDPMScheduler',
  pndm: 'PNDMScheduler',
  euler: 'EulerDiscreteScheduler',
  euler_a: 'EulerAncestralDiscreteScheduler',
  heun: 'HeunDiscreteScheduler',
  lms: 'LMSDiscreteScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler',
  unipc: 'UniPCMultistepScheduler',
  lcm: 'LCMScheduler',
};

async function readJson<T>(file: string): Promise<T> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new SdqError('BAD_FORMAT', `${file} is missing or not valid JSON (${(err as Error).message.split('\n')[0]}); copy it from the original model`);
  }
}

async function createSession(dir: string, component: string, threads: number): Promise<ort.InferenceSession> {
  const file = path.join(dir, component, 'model.onnx');
  try {
    return await ort.InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0].slice(0, 200);
    throw new SdqError('BAD_FORMAT', `${component} of ${dir} cannot be loaded (${first}); the file ${file} or its external data is corrupt or truncated: re-export or re-copy the ${component} folder`, { cause: err });
  }
}

function meta(session: ort.InferenceSession, name: string): { type: string } | undefined {
  const m = (session.inputMetadata as readonly { name: string; type?: string }[] | undefined)?.find((x) => x.name === name);
  return m?.type ? { type: m.type } : undefined;
}

export interface OrtGeneratorOptions {
  scheduler: string;
  threads: number;
  /** Called with the UNet inputs of every step (for calibration capture). */
  onUnetInputs?: (feeds: UnetFeeds) => void;
}

export async function openOrtGenerator(modelDir: string, options: OrtGeneratorOptions): Promise<Generator> {
  const className = SCHEDULERS[options.scheduler];
  if (!className) {
    throw new SdqError('INVALID_ARGUMENT', `unknown scheduler "${options.scheduler}"; use one of ${Object.keys(SCHEDULERS).join(', ')}`);
  }
  const tokenizer = await ClipBpe.fromDir(path.join(modelDir, 'tokenizer'));
  const schedulerConfig = await readJson<SchedulerConfig>(path.join(modelDir, 'scheduler', 'scheduler_config.json'));
  const vaeConfig = await readJson<{ scaling_factor?: number }>(path.join(modelDir, 'vae_decoder', 'config.json')).catch(() => ({ scaling_factor: 0.18215 }));
  const scaling = vaeConfig.scaling_factor ?? 0.18215;
  const textEncoder = await createSession(modelDir, 'text_encoder', options.threads);
  const unet = await createSession(modelDir, 'unet', options.threads).catch(async (e) => {
    await textEncoder.release();
    throw e;
  });
  const vae = await createSession(modelDir, 'vae_decoder', options.threads).catch(async (e) => {
    await Promise.all([textEncoder.release(), unet.release()]);
    throw e;
  });
  const idsType = meta(textEncoder, 'input_ids')?.type ?? 'int32';
  const tsType = meta(unet, 'timestep')?.type ?? 'float32';
  for (const [s, input, name] of [[unet, 'sample', 'unet'], [vae, 'latent_sample', 'vae_decoder']] as const) {
    const t = meta(s, input)?.type;
    if (t && t !== 'float32') throw new SdqError('UNSUPPORTED', `${name} input ${input} is ${t}; the built-in generator feeds float32 (convert with --keep-io-types)`);
  }

  async function generate(p: GenerateParams): Promise<Generation> {
    if (p.width % 8 !== 0 || p.height % 8 !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `size ${p.width}x${p.height} is not a multiple of 8; pass --size with multiples of 8`);
    }
    const t0 = performance.now();
    const cfg = p.guidance !== 1;
    const prompts = cfg ? [p.negativePrompt, p.prompt] : [p.prompt];
    const ids = prompts.map((s) => tokenizer.encode(s));
    const t1 = performance.now();
    const batch = prompts.length;
    const flatIds = new Int32Array(batch * 77);
    ids.forEach((x, i) => flatIds.set(x, i * 77));
    const idsTensor = idsType === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(flatIds, (v) => BigInt(v)), [batch, 77])
      : new ort.Tensor('int32', flatIds, [batch, 77]);
    const te = await textEncoder.run({ input_ids: idsTensor });
    const hidden = te.last_hidden_state ?? te[textEncoder.outputNames[0]];
    const t2 = performance.now();

    const h = p.height / 8;
    const w = p.width / 8;
    const n = 4 * h * w;
    const noise = new SeededNoise(p.seed);
    const scheduler = createScheduler(schedulerConfig, { className, noise, logger: () => undefined });
    scheduler.setTimesteps(p.steps);
    let latents: Float32Array = new Float32Array(n);
    noise.fill(latents);
    for (let i = 0; i < n; i++) latents[i] *= scheduler.initNoiseSigma;
    let unetMs = 0;
    let schedulerMs = 0;
    const sample = new Float32Array(batch * n);
    for (let k = 0; k < scheduler.timesteps.length; k++) {
      const t = scheduler.timesteps[k];
      const s0 = performance.now();
      const modelInput = scheduler.scaleModelInput(latents, t);
      for (let b = 0; b < batch; b++) sample.set(modelInput, b * n);
      const tsData = new Float32Array(batch).fill(t);
      const feeds = {
        sample: new ort.Tensor('float32', sample, [batch, 4, h, w]),
        timestep: tsType === 'int64' ? new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(Math.round(t))), [batch]) : new ort.Tensor('float32', tsData, [batch]),
        encoder_hidden_states: hidden,
      };
      options.onUnetInputs?.({
        sample: { data: new Float32Array(sample), dims: [batch, 4, h, w] },
        timestep: { data: tsData, dims: [batch] },
        // new Float32Array(...) rather than .slice(): a copy in this realm (onnxruntime's outputs may come from another).
        encoder_hidden_states: { data: new Float32Array(hidden.data as Float32Array), dims: [...hidden.dims] },
      });
      const s1 = performance.now();
      const out = await unet.run(feeds);
      const s2 = performance.now();
      const eps = (out.out_sample ?? out[unet.outputNames[0]]).data as Float32Array;
      let guided: Float32Array;
      if (cfg) {
        guided = new Float32Array(n);
        for (let i = 0; i < n; i++) guided[i] = eps[i] + p.guidance * (eps[n + i] - eps[i]);
      } else guided = eps;
      latents = scheduler.step(guided, t, latents);
      const s3 = performance.now();
      unetMs += s2 - s1;
      schedulerMs += s1 - s0 + (s3 - s2);
      p.onStep?.(k + 1, scheduler.timesteps.length);
    }
    const v0 = performance.now();
    const scaled = new Float32Array(n);
    for (let i = 0; i < n; i++) scaled[i] = latents[i] / scaling;
    const decoded = await vae.run({ latent_sample: new ort.Tensor('float32', scaled, [1, 4, h, w]) });
    const v1 = performance.now();
    const chw = (decoded.sample ?? decoded[vae.outputNames[0]]).data as Float32Array;
    const H = p.height;
    const W = p.width;
    const data = new Float32Array(H * W * 3);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < H * W; i++) data[i * 3 + c] = Math.min(1, Math.max(0, chw[c * H * W + i] / 2 + 0.5));
    }
    const t3 = performance.now();
    return {
      image: { width: W, height: H, data },
      timings: {
        totalMs: t3 - t0,
        tokenizerMs: t1 - t0,
        textEncoderMs: t2 - t1,
        unetMs,
        schedulerMs,
        vaeDecoderMs: v1 - v0,
        unetCalls: scheduler.timesteps.length,
      },
    };
  }

  return {
    modelDir,
    scheduler: options.scheduler,
    generate,
    async dispose() {
      await Promise.all([textEncoder.release(), unet.release(), vae.release()]);
    },
  };
}

export const openDiffusionGenerator: OpenGenerator = (dir, o) => openOrtGenerator(dir, o);
