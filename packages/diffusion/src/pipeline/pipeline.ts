import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { SdqError } from '@sdq/quant';
import { type NoiseSource, SeededNoise } from '../random.js';
import type { SchedulerConfig } from '../schedulers/config.js';
import { createScheduler, createSchedulerByName } from '../schedulers/create.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { type TextEncoderIO, type UnetIO, type VaeDecoderIO, openSession, textEncoderIO, unetIO, vaeDecoderIO } from './components.js';
import { type RgbImage, vaeOutputToImage } from './image.js';
import { type ModelFamily, checkModelDir, componentModelPath, readJsonFile, readModelIndex, readOptionalJson } from './model-dir.js';
import {
  ClipPromptEncoding, ClipTextEncoder, type FloatTensor, type PromptEncoding, SdxlPromptEncoding, type SizeConditioning,
} from './prompt-encoding.js';
import { type Device, checkDeviceRuntime, deviceUnavailableMessage, executionProvidersFor } from './device.js';
import { FloatFeed, outputAsFloat32 } from './tensors.js';
import { UnetBatch, checkConditioningRoles } from './unet-batch.js';

const f = Math.fround;

/** How to create the onnxruntime sessions and which scheduler to use by default. */
export interface PipelineOptions {
  /** Default scheduler: a short name (`euler_a`, see SCHEDULER_ALIASES), a diffusers class name, or a full config object. Default: the model's scheduler_config.json. */
  scheduler?: string | SchedulerConfig;
  /** Threads per operator (onnxruntime intraOpNumThreads); default onnxruntime's (all cores). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  /** onnxruntime graph optimization level; default 'all'. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  /** Where the sessions run (default 'cpu'): 'webgpu' is onnxruntime-node's bundled WebGPU provider, 'cuda' its downloadable CUDA provider. An absent device is an SdqError, never a CPU run. */
  device?: Device;
  /** Execution providers in priority order; overrides `device`. Others (tensorrt, ...) pass through where the onnxruntime build has them. */
  executionProviders?: readonly ort.InferenceSession.ExecutionProviderConfig[];
  /** Any other onnxruntime session options (the fields above win). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** ONNX file names inside the component folders (default model.onnx), e.g. `{ unet: 'model_int8.onnx' }`. */
  modelFiles?: Partial<Record<'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder', string>>;
  /** Receives scheduler config notes (ignored keys, fallbacks). Default console.warn. */
  logger?: (message: string) => void;
}

/** One text-to-image request. SDXL's size conditioning (originalSize, cropsCoordsTopLeft, targetSize and their negative* counterparts) as in diffusers. */
export interface GenerateOptions extends SizeConditioning {
  prompt: string;
  /** SDXL: the prompt for tokenizer_2/text_encoder_2; default `prompt`. */
  prompt2?: string;
  /**
   * The unconditional prompt of classifier-free guidance. Left out, SD 1.x/2.x encode "" and SDXL (with
   * force_zeros_for_empty_prompt, its default) uses zero embeddings, as diffusers does; an explicit "" is encoded.
   */
  negativePrompt?: string;
  /** SDXL: the negative prompt for text_encoder_2; default `negativePrompt`. */
  negativePrompt2?: string;
  /** Denoising steps; default 25. */
  steps?: number;
  /** Classifier-free guidance scale; default 7.5. <= 1 runs the conditional pass only (batch N instead of 2N). */
  guidanceScale?: number;
  /** Image size in pixels, multiples of the VAE factor (8); default the UNet's sample_size x 8. */
  width?: number;
  height?: number;
  /** Images per prompt; default 1. */
  numImages?: number;
  /** Seed of the documented generator (mulberry32 + Box-Muller, see random.ts); default 0. */
  seed?: number;
  /** Noise source for the initial latents and stochastic schedulers; overrides `seed`. */
  noise?: NoiseSource;
  /** Initial latents [numImages, 4, h/8, w/8], N(0, 1) (scaled by init_noise_sigma here, as diffusers does). */
  latents?: Float32Array;
  /** Scheduler for this call (same forms as PipelineOptions.scheduler). */
  scheduler?: string | SchedulerConfig;
  /** DDIM eta (default 0). */
  eta?: number;
  /** Called after every denoising step. `latents` is the live buffer: copy it to keep it. */
  onStep?: (info: StepInfo) => void;
  /** Called with the UNet inputs before every UNet run (float32, live buffers: copy to keep; e.g. to capture calibration data). */
  onUnetInput?: (inputs: UnetInputs) => void;
}

export interface StepInfo {
  /** 0-based step index. */
  step: number;
  totalSteps: number;
  timestep: number;
  latents: Float32Array;
  /** Wall time of this step's UNet run(s), ms. */
  unetMs: number;
}

/** The UNet inputs of one step as float32 (the model may take float16/int64; these are the values before conversion). */
export interface UnetInputs {
  step: number;
  /** The UNet's own input names for sample / timestep / encoder_hidden_states. */
  names: { sample: string; timestep: string; encoderHiddenStates: string };
  sample: { data: Float32Array; dims: number[] };
  /** dims as the model takes them: [batch], [1] or [] (scalar). */
  timestep: { data: Float32Array; dims: number[] };
  encoderHiddenStates: { data: Float32Array; dims: number[] };
  /** The UNet's other conditioning inputs by its input names (SDXL: text_embeds, time_ids); empty for SD 1.x/2.x. */
  added: Record<string, { data: Float32Array; dims: number[] }>;
}

/** Wall time per stage of one generation, ms (performance.now()). */
export interface GenerationTimings {
  tokenizerMs: number;
  textEncoderMs: number;
  /** UNet run time of each step (one CFG batch per step, or the sum of its chunks). */
  unetStepMs: number[];
  unetMs: number;
  /** scale_model_input + CFG combination + scheduler step + float16 conversions, summed over steps. */
  schedulerMs: number;
  vaeDecoderMs: number;
  totalMs: number;
  /** Everything but the model runs: totalMs - textEncoderMs - unetMs - vaeDecoderMs. */
  overheadMs: number;
  unetCalls: number;
}

export interface GenerationResult {
  images: RgbImage[];
  /** Final latents [numImages, C, h/8, w/8] (before dividing by the VAE scaling factor). */
  latents: Float32Array;
  latentShape: [number, number, number, number];
  timesteps: number[];
  scheduler: string;
  /** The seed of the noise used (initial latents unless given, and stochastic steps), or null when a noise source was given. */
  seed: number | null;
  timings: GenerationTimings;
}

interface Sessions {
  textEncoder: ort.InferenceSession;
  /** SDXL's second text encoder; null for SD 1.x/2.x. */
  textEncoder2: ort.InferenceSession | null;
  unet: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
}

/** What fromDir read from the model dir besides the sessions. */
interface ModelParts {
  family: ModelFamily;
  tokenizer: ClipTokenizer;
  tokenizer2: ClipTokenizer | null;
  textEncoderIO: TextEncoderIO;
  unetIO: UnetIO;
  vaeDecoderIO: VaeDecoderIO;
  unetPath: string;
  promptEncoding: PromptEncoding;
}

/**
 * Stable Diffusion text-to-image over onnxruntime-node, for a model dir in optimum's ONNX layout: SD 1.x/2.x, and
 * SDXL (recognised from model_index.json). Reads each component's input names and types (int32/int64 input_ids,
 * float/int timestep, float16 or float32 tensors, the UNet's conditioning inputs) instead of assuming them, and
 * reproduces diffusers' StableDiffusionPipeline / StableDiffusionXLPipeline step for step.
 */
export class StableDiffusionPipeline {
  readonly family: ModelFamily;
  readonly tokenizer: ClipTokenizer;
  /** SDXL's tokenizer_2 (pads with `!`); null for SD 1.x/2.x. */
  readonly tokenizer2: ClipTokenizer | null;
  readonly textEncoderIO: TextEncoderIO;
  readonly unetIO: UnetIO;
  readonly vaeDecoderIO: VaeDecoderIO;
  private readonly unetPath: string;
  private readonly promptEncoding: PromptEncoding;

  private constructor(
    readonly dir: string,
    parts: ModelParts,
    private readonly sessions: Sessions,
    /** The model's scheduler/scheduler_config.json. */
    readonly schedulerConfig: SchedulerConfig,
    readonly vaeScalingFactor: number,
    readonly vaeScaleFactor: number,
    readonly latentChannels: number,
    readonly defaultSize: number,
    private readonly options: PipelineOptions,
  ) {
    ({
      family: this.family,
      tokenizer: this.tokenizer,
      tokenizer2: this.tokenizer2,
      textEncoderIO: this.textEncoderIO,
      unetIO: this.unetIO,
      vaeDecoderIO: this.vaeDecoderIO,
      unetPath: this.unetPath,
      promptEncoding: this.promptEncoding,
    } = parts);
  }

  static async fromDir(dir: string, options: PipelineOptions = {}): Promise<StableDiffusionPipeline> {
    const index = readModelIndex(dir);
    checkModelDir(dir, index.family);
    const sdxl = index.family === 'sdxl';
    const schedulerConfig = readJsonFile(join(dir, 'scheduler', 'scheduler_config.json'), 'the scheduler config');
    if (Object.keys(schedulerConfig).length === 0) {
      throw new SdqError('EMPTY_INPUT', `${join(dir, 'scheduler', 'scheduler_config.json')} is empty; it needs _class_name and the beta schedule of the model`);
    }
    const tokenizer = ClipTokenizer.fromDir(join(dir, 'tokenizer'));
    const tokenizer2 = sdxl ? ClipTokenizer.fromDir(join(dir, 'tokenizer_2')) : null;
    const vaeConfig = readOptionalJson(join(dir, 'vae_decoder', 'config.json'));
    const unetConfig = readOptionalJson(join(dir, 'unet', 'config.json'));
    const device = options.device ?? 'cpu';
    if (options.executionProviders === undefined) checkDeviceRuntime(device);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionProviders: executionProvidersFor(device),
      logSeverityLevel: 3,
      ...options.sessionOptions,
      ...(options.intraOpNumThreads !== undefined && { intraOpNumThreads: options.intraOpNumThreads }),
      ...(options.interOpNumThreads !== undefined && { interOpNumThreads: options.interOpNumThreads }),
      ...(options.graphOptimizationLevel !== undefined && { graphOptimizationLevel: options.graphOptimizationLevel }),
      ...(options.executionProviders !== undefined && { executionProviders: options.executionProviders }),
    };
    const files = options.modelFiles ?? {};
    const paths = {
      textEncoder: componentModelPath(dir, 'text_encoder', files.text_encoder),
      textEncoder2: sdxl ? componentModelPath(dir, 'text_encoder_2', files.text_encoder_2) : null,
      unet: componentModelPath(dir, 'unet', files.unet),
      vaeDecoder: componentModelPath(dir, 'vae_decoder', files.vae_decoder),
    };
    const open = async (file: string): Promise<ort.InferenceSession> => {
      try {
        return await openSession(file, sessionOptions);
      } catch (e) {
        // an absent device fails every component alike: say what is missing instead of blaming the model file
        const unavailable = options.executionProviders === undefined ? deviceUnavailableMessage(device, String((e as Error).cause ?? e)) : undefined;
        if (unavailable !== undefined) throw new SdqError('UNSUPPORTED', unavailable, { cause: e });
        throw e;
      }
    };
    const sessions: Sessions = {
      textEncoder: await open(paths.textEncoder),
      textEncoder2: paths.textEncoder2 === null ? null : await open(paths.textEncoder2),
      unet: await open(paths.unet),
      vaeDecoder: await open(paths.vaeDecoder),
    };
    const te = textEncoderIO(sessions.textEncoder, paths.textEncoder);
    const un = unetIO(sessions.unet, paths.unet);
    const vae = vaeDecoderIO(sessions.vaeDecoder, paths.vaeDecoder);
    const encoder = new ClipTextEncoder(tokenizer, sessions.textEncoder, te);
    const promptEncoding =
      sessions.textEncoder2 !== null && tokenizer2 !== null && paths.textEncoder2 !== null
        ? new SdxlPromptEncoding(
            [encoder, new ClipTextEncoder(tokenizer2, sessions.textEncoder2, textEncoderIO(sessions.textEncoder2, paths.textEncoder2))],
            [paths.textEncoder, paths.textEncoder2],
            index.forceZerosForEmptyPrompt,
          )
        : new ClipPromptEncoding(encoder);
    checkConditioningRoles(un, paths.unet, promptEncoding.roles);
    const scaling = typeof vaeConfig['scaling_factor'] === 'number' ? vaeConfig['scaling_factor'] : 0.18215;
    const blocks = Array.isArray(vaeConfig['block_out_channels']) ? vaeConfig['block_out_channels'].length : 4;
    const vaeScale = 2 ** (blocks - 1);
    const channelDim = un.sample.shape[1];
    const channels = typeof channelDim === 'number' ? channelDim : typeof unetConfig['in_channels'] === 'number' ? unetConfig['in_channels'] : 4;
    const sampleSize = typeof unetConfig['sample_size'] === 'number' ? unetConfig['sample_size'] : 64;
    const parts: ModelParts = {
      family: index.family, tokenizer, tokenizer2, textEncoderIO: te, unetIO: un, vaeDecoderIO: vae, unetPath: paths.unet, promptEncoding,
    };
    const pipeline = new StableDiffusionPipeline(dir, parts, sessions, schedulerConfig, scaling, vaeScale, channels, sampleSize * vaeScale, options);
    // Fail at load time, not at the first generate, on a bad scheduler choice.
    pipeline.makeScheduler(options.scheduler, undefined, undefined);
    return pipeline;
  }

  /** A fresh scheduler for one run (schedulers carry per-run state). */
  makeScheduler(choice: string | SchedulerConfig | undefined, noise: NoiseSource | undefined, eta: number | undefined): Scheduler {
    const logger = this.options.logger;
    const common = { ...(noise && { noise }), ...(eta !== undefined && { eta }), ...(logger && { logger }) };
    if (choice === undefined) return createScheduler(this.schedulerConfig, common);
    if (typeof choice === 'string') return createSchedulerByName(choice, this.schedulerConfig, common);
    return createScheduler(choice, common);
  }

  async dispose(): Promise<void> {
    const { textEncoder, textEncoder2, unet, vaeDecoder } = this.sessions;
    await Promise.all([textEncoder, unet, vaeDecoder, ...(textEncoder2 === null ? [] : [textEncoder2])].map((s) => s.release()));
  }

  /** The checked size, image count and steps of a request. */
  private requestShape(request: GenerateOptions): { width: number; height: number; n: number; steps: number } {
    const size = { width: request.width ?? this.defaultSize, height: request.height ?? this.defaultSize };
    for (const [name, value] of Object.entries(size)) {
      if (!Number.isInteger(value) || value <= 0 || value % this.vaeScaleFactor !== 0) {
        throw new SdqError('INVALID_ARGUMENT', `${name} ${value} must be a positive multiple of ${this.vaeScaleFactor} (the VAE downsampling factor)`);
      }
    }
    const [n, steps] = [request.numImages ?? 1, request.steps ?? 25];
    if (!Number.isInteger(n) || n < 1) throw new SdqError('INVALID_ARGUMENT', `numImages must be a positive integer, got ${n}`);
    if (!Number.isInteger(steps) || steps < 1) throw new SdqError('INVALID_ARGUMENT', `steps must be a positive integer, got ${steps}`);
    if (typeof request.prompt !== 'string') throw new SdqError('INVALID_ARGUMENT', 'prompt must be a string');
    return { ...size, n, steps };
  }

  async generate(request: GenerateOptions): Promise<GenerationResult> {
    const start = performance.now();
    const { width, height, n, steps } = this.requestShape(request);
    const guidance = request.guidanceScale ?? 7.5;
    const cfg = guidance > 1;
    const [c, h, w] = [this.latentChannels, height / this.vaeScaleFactor, width / this.vaeScaleFactor];
    const half = n * c * h * w;
    const { tensors, tokenizerMs, textEncoderMs } = await this.promptEncoding.encode({ ...request, guidance: cfg, numImages: n, width, height });

    // scheduler and initial latents (N(0, 1) scaled by init_noise_sigma, as diffusers does)
    const seed = request.noise === undefined ? (request.seed ?? 0) : null;
    const noise = request.noise ?? new SeededNoise(request.seed ?? 0);
    const scheduler = this.makeScheduler(request.scheduler ?? this.options.scheduler, noise, request.eta);
    scheduler.setTimesteps(steps);
    let latents: Float32Array = new Float32Array(half);
    let spare: Float32Array = new Float32Array(half);
    if (request.latents !== undefined && request.latents.length !== half) {
      throw new SdqError('SHAPE_MISMATCH', `latents have ${request.latents.length} values; [${n}, ${c}, ${h}, ${w}] = ${half} expected`);
    }
    if (request.latents !== undefined) latents.set(request.latents);
    else noise.fill(latents);
    const sigma0 = scheduler.initNoiseSigma;
    if (sigma0 !== 1) for (let i = 0; i < half; i++) latents[i] = f(latents[i] * sigma0);

    const unet = new UnetBatch(this.sessions.unet, this.unetIO, this.unetPath, tensors, [cfg ? 2 * n : n, c, h, w]);
    const guided = cfg ? new Float32Array(half) : unet.output.subarray(0, half);
    const unetStepMs: number[] = [];
    let schedulerMs = 0;
    const timesteps = [...scheduler.timesteps];
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      let s0 = performance.now();
      scheduler.scaleModelInput(latents, t, unet.sample.subarray(0, half));
      if (cfg) unet.sample.copyWithin(half, 0, half);
      unet.prepare(t);
      schedulerMs += performance.now() - s0;
      request.onUnetInput?.(this.unetInputs(i, unet));
      const u0 = performance.now();
      await unet.run();
      unetStepMs.push(performance.now() - u0);
      s0 = performance.now();
      // noise = uncond + g (cond - uncond), float32 like torch
      if (cfg) for (let j = 0; j < half; j++) guided[j] = unet.output[j] + f(guidance * f(unet.output[half + j] - unet.output[j]));
      const next = scheduler.step(guided, t, latents, spare);
      [spare, latents] = [latents, next];
      schedulerMs += performance.now() - s0;
      request.onStep?.({ step: i, totalSteps: timesteps.length, timestep: t, latents, unetMs: unetStepMs[i] });
    }

    const t0 = performance.now();
    const images = await this.decode(latents, n, width, height);
    const vaeDecoderMs = performance.now() - t0;
    const totalMs = performance.now() - start;
    const unetMs = unetStepMs.reduce((a, b) => a + b, 0);
    const overheadMs = totalMs - textEncoderMs - unetMs - vaeDecoderMs;
    const timings = { tokenizerMs, textEncoderMs, unetStepMs, unetMs, schedulerMs, vaeDecoderMs, totalMs, overheadMs, unetCalls: unet.calls };
    return { images, latents, latentShape: [n, c, h, w], timesteps, scheduler: scheduler.className, seed, timings };
  }

  /** The UNet inputs of one step for onUnetInput (live buffers). */
  private unetInputs(step: number, unet: UnetBatch): UnetInputs {
    const io = this.unetIO;
    const added: Record<string, FloatTensor> = {};
    for (const [name, tensor] of unet.conditioning) if (name !== io.encoderHiddenStates.name) added[name] = tensor;
    return {
      step,
      names: { sample: io.sample.name, timestep: io.timestep.name, encoderHiddenStates: io.encoderHiddenStates.name },
      sample: { data: unet.sample, dims: [...unet.sampleDims] },
      timestep: unet.timestep,
      encoderHiddenStates: unet.conditioning.get(io.encoderHiddenStates.name)!,
      added,
    };
  }

  /** VAE decode of latents / scaling_factor, one image at a time (as optimum's pipeline does). */
  private async decode(latents: Float32Array, n: number, width: number, height: number): Promise<RgbImage[]> {
    const io = this.vaeDecoderIO;
    const size = latents.length / n;
    const feed = new FloatFeed(io.latentType, new Float32Array(size), [1, this.latentChannels, height / this.vaeScaleFactor, width / this.vaeScaleFactor]);
    const images: RgbImage[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < size; j++) feed.data[j] = latents[i * size + j] / this.vaeScalingFactor;
      const out = await this.sessions.vaeDecoder.run({ [io.latent.name]: feed.sync() });
      images.push(vaeOutputToImage(outputAsFloat32(out[io.output.name], io.output.name), width, height));
    }
    return images;
  }
}
