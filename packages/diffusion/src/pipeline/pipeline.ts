import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { SdqError, float16ToFloat32, float32ToFloat16 } from '@sdq/quant';
import { type NoiseSource, SeededNoise } from '../random.js';
import type { SchedulerConfig } from '../schedulers/config.js';
import { createScheduler, createSchedulerByName } from '../schedulers/create.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import { type TextEncoderIO, type UnetIO, type VaeDecoderIO, openSession, textEncoderIO, unetIO, vaeDecoderIO } from './components.js';
import { type RgbImage, vaeOutputToImage } from './image.js';
import { checkModelDir, componentModelPath, readJsonFile, readOptionalJson } from './model-dir.js';
import { type Device, checkDeviceRuntime, deviceUnavailableMessage, executionProvidersFor } from './device.js';
import { FloatFeed, outputAsFloat32 } from './tensors.js';

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
  modelFiles?: Partial<Record<'text_encoder' | 'unet' | 'vae_decoder', string>>;
  /** Receives scheduler config notes (ignored keys, fallbacks). Default console.warn. */
  logger?: (message: string) => void;
}

/** One text-to-image request. */
export interface GenerateOptions {
  prompt: string;
  /** Default "" (the unconditional prompt of classifier-free guidance). */
  negativePrompt?: string;
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
  unet: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
}

/**
 * Stable Diffusion text-to-image over onnxruntime-node, for a model dir in optimum's ONNX layout. Reads each
 * component's input names and types (int32/int64 input_ids, float/int timestep, float16 or float32 tensors) instead
 * of assuming them, and reproduces diffusers' StableDiffusionPipeline step for step.
 */
export class StableDiffusionPipeline {
  private constructor(
    readonly dir: string,
    readonly tokenizer: ClipTokenizer,
    private readonly sessions: Sessions,
    readonly textEncoderIO: TextEncoderIO,
    readonly unetIO: UnetIO,
    readonly vaeDecoderIO: VaeDecoderIO,
    /** The model's scheduler/scheduler_config.json. */
    readonly schedulerConfig: SchedulerConfig,
    readonly vaeScalingFactor: number,
    readonly vaeScaleFactor: number,
    readonly latentChannels: number,
    readonly defaultSize: number,
    private readonly options: PipelineOptions,
  ) {}

  static async fromDir(dir: string, options: PipelineOptions = {}): Promise<StableDiffusionPipeline> {
    checkModelDir(dir);
    const schedulerConfig = readJsonFile(join(dir, 'scheduler', 'scheduler_config.json'), 'the scheduler config');
    if (Object.keys(schedulerConfig).length === 0) {
      throw new SdqError('EMPTY_INPUT', `${join(dir, 'scheduler', 'scheduler_config.json')} is empty; it needs _class_name and the beta schedule of the model`);
    }
    const tokenizer = ClipTokenizer.fromDir(join(dir, 'tokenizer'));
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
      unet: await open(paths.unet),
      vaeDecoder: await open(paths.vaeDecoder),
    };
    const te = textEncoderIO(sessions.textEncoder, paths.textEncoder);
    const un = unetIO(sessions.unet, paths.unet);
    const vae = vaeDecoderIO(sessions.vaeDecoder, paths.vaeDecoder);
    const scaling = typeof vaeConfig['scaling_factor'] === 'number' ? vaeConfig['scaling_factor'] : 0.18215;
    const blocks = Array.isArray(vaeConfig['block_out_channels']) ? vaeConfig['block_out_channels'].length : 4;
    const vaeScale = 2 ** (blocks - 1);
    const channelDim = un.sample.shape[1];
    const channels = typeof channelDim === 'number' ? channelDim : typeof unetConfig['in_channels'] === 'number' ? unetConfig['in_channels'] : 4;
    const sampleSize = typeof unetConfig['sample_size'] === 'number' ? unetConfig['sample_size'] : 64;
    const pipeline = new StableDiffusionPipeline(
      dir, tokenizer, sessions, te, un, vae, schedulerConfig, scaling, vaeScale, channels, sampleSize * vaeScale, options,
    );
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
    await Promise.all([this.sessions.textEncoder.release(), this.sessions.unet.release(), this.sessions.vaeDecoder.release()]);
  }

  private async encodeText(ids: number[]): Promise<Float32Array> {
    const type = this.textEncoderIO.inputIds.type;
    const data = type === 'int64' ? BigInt64Array.from(ids, (v) => BigInt(v)) : Int32Array.from(ids);
    const feeds = { [this.textEncoderIO.inputIds.name]: new ort.Tensor(type, data, [1, ids.length]) };
    const out = await this.sessions.textEncoder.run(feeds);
    const name = this.textEncoderIO.hiddenStates.name;
    return Float32Array.from(outputAsFloat32(out[name], name));
  }

  async generate(request: GenerateOptions): Promise<GenerationResult> {
    const start = performance.now();
    const steps = request.steps ?? 25;
    const guidance = request.guidanceScale ?? 7.5;
    const numImages = request.numImages ?? 1;
    const width = request.width ?? this.defaultSize;
    const height = request.height ?? this.defaultSize;
    const factor = this.vaeScaleFactor;
    for (const [name, value] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(value) || value <= 0 || value % factor !== 0) {
        throw new SdqError('INVALID_ARGUMENT', `${name} ${value} must be a positive multiple of ${factor} (the VAE downsampling factor)`);
      }
    }
    if (!Number.isInteger(numImages) || numImages < 1) throw new SdqError('INVALID_ARGUMENT', `numImages must be a positive integer, got ${numImages}`);
    if (!Number.isInteger(steps) || steps < 1) throw new SdqError('INVALID_ARGUMENT', `steps must be a positive integer, got ${steps}`);
    if (typeof request.prompt !== 'string') throw new SdqError('INVALID_ARGUMENT', 'prompt must be a string');
    const cfg = guidance > 1;
    const h = height / factor;
    const w = width / factor;
    const c = this.latentChannels;
    const latentSize = c * h * w;
    const n = numImages;
    const batch = cfg ? 2 * n : n;

    // text encoding: diffusers encodes prompt and negative prompt separately and repeats them per image
    let t0 = performance.now();
    const condIds = this.tokenizer.call(request.prompt).inputIds;
    const uncondIds = cfg ? this.tokenizer.call(request.negativePrompt ?? '').inputIds : null;
    const tokenizerMs = performance.now() - t0;
    t0 = performance.now();
    const cond = await this.encodeText(condIds);
    const uncond = uncondIds !== null ? await this.encodeText(uncondIds) : null;
    const textEncoderMs = performance.now() - t0;
    const tokens = cond.length;
    const hidden = new Float32Array(batch * tokens);
    for (let i = 0; i < n; i++) {
      if (uncond !== null) {
        hidden.set(uncond, i * tokens);
        hidden.set(cond, (n + i) * tokens);
      } else hidden.set(cond, i * tokens);
    }
    const hiddenDims = [batch, this.tokenizer.modelMaxLength, tokens / this.tokenizer.modelMaxLength];

    // scheduler and initial latents
    const seed = request.noise === undefined ? (request.seed ?? 0) : null;
    const noise = request.noise ?? new SeededNoise(request.seed ?? 0);
    const scheduler = this.makeScheduler(request.scheduler ?? this.options.scheduler, noise, request.eta);
    scheduler.setTimesteps(steps);
    let latents: Float32Array = new Float32Array(n * latentSize);
    let spare: Float32Array = new Float32Array(n * latentSize);
    if (request.latents !== undefined) {
      if (request.latents.length !== latents.length) {
        throw new SdqError('SHAPE_MISMATCH', `latents have ${request.latents.length} values; [${n}, ${c}, ${h}, ${w}] = ${latents.length} expected`);
      }
      latents.set(request.latents);
    } else noise.fill(latents);
    const sigma0 = scheduler.initNoiseSigma;
    if (sigma0 !== 1) for (let i = 0; i < latents.length; i++) latents[i] = f(latents[i] * sigma0);

    // buffers and tensors reused by every step
    const io = this.unetIO;
    const chunk = io.fixedBatch ?? batch;
    if (batch % chunk !== 0) {
      throw new SdqError('SHAPE_MISMATCH', `the UNet has a fixed batch of ${chunk}; the run needs batch ${batch} (guidance ${cfg ? 'on' : 'off'}, ${n} images)`);
    }
    const sampleData = new Float32Array(batch * latentSize);
    const modelOut = new Float32Array(batch * latentSize);
    const timestepDims = this.timestepDims(batch);
    const timestepData = new Float32Array(timestepDims.length === 0 ? 1 : timestepDims[0]);
    const names = { sample: io.sample.name, timestep: io.timestep.name, encoderHiddenStates: io.encoderHiddenStates.name };
    const chunks = Array.from({ length: batch / chunk }, (_, k) => {
      const sample = new FloatFeed(io.sampleType, sampleData.subarray(k * chunk * latentSize, (k + 1) * chunk * latentSize), [chunk, c, h, w]);
      const ehs = new FloatFeed(io.hiddenType, hidden.subarray(k * chunk * tokens, (k + 1) * chunk * tokens), [chunk, hiddenDims[1], hiddenDims[2]]);
      ehs.sync();
      // the UNet writes its output straight into modelOut (float32) or a reused float16 buffer: no per-step arrays
      const outView = modelOut.subarray(k * chunk * latentSize, (k + 1) * chunk * latentSize);
      const outHalf = io.output.type === 'float16' ? new Uint16Array(outView.length) : null;
      const outDims = [chunk, c, h, w];
      const output = outHalf !== null
        ? new ort.Tensor('float16', outHalf, outDims)
        : io.output.type === 'float32' ? new ort.Tensor('float32', outView, outDims) : null;
      return { sample, ehs, timestep: this.timestepTensor(chunk), outView, outHalf, output };
    });
    const guided = cfg ? new Float32Array(n * latentSize) : modelOut;
    const unetStepMs: number[] = [];
    let schedulerMs = 0;
    let unetCalls = 0;
    const half = n * latentSize;
    const modelInput = sampleData.subarray(0, half);
    const condOutput = modelOut.subarray(0, half);

    const timesteps = [...scheduler.timesteps];
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      let s0 = performance.now();
      scheduler.scaleModelInput(latents, t, modelInput);
      if (cfg) sampleData.copyWithin(half, 0, half);
      timestepData.fill(t);
      for (const ch of chunks) {
        ch.sample.sync();
        this.setTimestep(ch.timestep, t);
      }
      schedulerMs += performance.now() - s0;
      request.onUnetInput?.({
        step: i,
        names,
        sample: { data: sampleData, dims: [batch, c, h, w] },
        timestep: { data: timestepData, dims: timestepDims },
        encoderHiddenStates: { data: hidden, dims: hiddenDims },
      });
      const u0 = performance.now();
      for (let k = 0; k < chunks.length; k++) {
        const ch = chunks[k];
        const feeds = {
          [io.sample.name]: ch.sample.tensor,
          [io.timestep.name]: ch.timestep,
          [io.encoderHiddenStates.name]: ch.ehs.tensor,
        };
        unetCalls++;
        if (ch.output !== null) {
          await this.sessions.unet.run(feeds, { [io.output.name]: ch.output });
          if (ch.outHalf !== null) float16ToFloat32(ch.outHalf, ch.outView);
        } else {
          const out = await this.sessions.unet.run(feeds);
          outputAsFloat32(out[io.output.name], io.output.name, ch.outView);
        }
      }
      const unetMs = performance.now() - u0;
      unetStepMs.push(unetMs);
      s0 = performance.now();
      if (cfg) {
        // noise = uncond + g (cond - uncond), float32 like torch
        for (let j = 0; j < half; j++) {
          const u = modelOut[j];
          guided[j] = u + f(guidance * f(modelOut[half + j] - u));
        }
      }
      const next = scheduler.step(cfg ? guided : condOutput, t, latents, spare);
      spare = latents;
      latents = next;
      schedulerMs += performance.now() - s0;
      request.onStep?.({ step: i, totalSteps: timesteps.length, timestep: t, latents, unetMs });
    }

    // VAE decode, one image at a time (as optimum's pipeline does)
    t0 = performance.now();
    const vaeIO = this.vaeDecoderIO;
    const latentFeed = new FloatFeed(vaeIO.latentType, new Float32Array(latentSize), [1, c, h, w]);
    const images: RgbImage[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < latentSize; j++) latentFeed.data[j] = latents[i * latentSize + j] / this.vaeScalingFactor;
      const out = await this.sessions.vaeDecoder.run({ [vaeIO.latent.name]: latentFeed.sync() });
      images.push(vaeOutputToImage(outputAsFloat32(out[vaeIO.output.name], vaeIO.output.name), width, height));
    }
    const vaeDecoderMs = performance.now() - t0;
    const totalMs = performance.now() - start;
    const unetTotal = unetStepMs.reduce((a, b) => a + b, 0);
    return {
      images,
      latents,
      latentShape: [n, c, h, w],
      timesteps,
      scheduler: scheduler.className,
      seed,
      timings: {
        tokenizerMs,
        textEncoderMs,
        unetStepMs,
        unetMs: unetTotal,
        schedulerMs,
        vaeDecoderMs,
        totalMs,
        overheadMs: totalMs - textEncoderMs - unetTotal - vaeDecoderMs,
        unetCalls,
      },
    };
  }

  /** Timestep dims the model takes: [] (scalar), its fixed [k], or [batch]. */
  private timestepDims(batch: number): number[] {
    const shape = this.unetIO.timestep.shape;
    return shape.length === 0 ? [] : typeof shape[0] === 'number' ? [shape[0]] : [batch];
  }

  /** The timestep input tensor, typed as the model wants it. */
  private timestepTensor(batch: number): ort.Tensor {
    const info = this.unetIO.timestep;
    const dims = this.timestepDims(batch);
    const size = dims.length === 0 ? 1 : dims[0];
    switch (info.type) {
      case 'float32':
        return new ort.Tensor('float32', new Float32Array(size), dims);
      case 'float16':
        return new ort.Tensor('float16', new Uint16Array(size), dims);
      case 'int64':
        return new ort.Tensor('int64', new BigInt64Array(size), dims);
      case 'int32':
        return new ort.Tensor('int32', new Int32Array(size), dims);
      default:
        throw new SdqError('UNSUPPORTED_TYPE', `UNet input ${info.name} is ${info.type}; expected float32, float16, int32 or int64`);
    }
  }

  /** Writes timestep `t` into the tensor (integers truncate like numpy's astype). */
  private setTimestep(tensor: ort.Tensor, t: number): void {
    const data = tensor.data;
    if (data instanceof Float32Array) data.fill(t);
    else if (data instanceof BigInt64Array) data.fill(BigInt(Math.trunc(t)));
    else if (data instanceof Int32Array) data.fill(Math.trunc(t));
    else if (data instanceof Uint16Array) float32ToFloat16(new Float32Array(data.length).fill(t), data);
  }
}
