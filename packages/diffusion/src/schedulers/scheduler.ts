import { SdqError } from '@sdq/quant';
import type { NoiseSource } from '../random.js';
import { f } from './math.js';

/**
 * One interface over every scheduler, shaped like diffusers' (`set_timesteps`, `timesteps`, `init_noise_sigma`,
 * `scale_model_input`, `step`, `add_noise`). Latents are flat float32 arrays (any batch/shape: the update is
 * elementwise). `out` arguments let a caller reuse buffers; `out` may be the same array as `sample`.
 */
export interface Scheduler {
  /** diffusers class name, e.g. `EulerAncestralDiscreteScheduler`. */
  readonly className: string;
  /** The options in effect after defaults (diffusers' `scheduler.config`). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Timesteps of the current schedule, in the order the model is called (Heun and PNDM repeat some). */
  readonly timesteps: readonly number[];
  /** Whether timesteps are integers (int64 in diffusers) or fractional (float32). */
  readonly timestepType: 'int64' | 'float32';
  /** Noise levels for sigma-based schedulers (length timesteps + 1 except Heun), else null. */
  readonly sigmas: Float32Array | null;
  /** Multiply the initial N(0, 1) latents by this (diffusers `init_noise_sigma`). */
  readonly initNoiseSigma: number;
  /** Inference steps requested in the last `setTimesteps`. */
  readonly numInferenceSteps: number;
  /** True when `step` draws noise (Euler ancestral, DDPM, LCM, DDIM with eta > 0). */
  readonly stochastic: boolean;
  setTimesteps(numInferenceSteps: number): void;
  /** Where stochastic steps draw their noise from; replaying recorded draws reproduces a run. */
  setNoiseSource(noise: NoiseSource): void;
  /** The model input for `timestep`; may return `sample` itself when the scheduler does not scale. */
  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array;
  /** One denoising step: the latents for the next timestep. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array;
  /** Forward diffusion: `original` noised to the level of `timestep` (one of `timesteps` for sigma schedulers). */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array;
}

/** Construction options shared by all schedulers. */
export interface SchedulerOptions {
  noise?: NoiseSource;
  logger?: (message: string) => void;
  /** DDIM's eta (0 = deterministic DDIM, 1 = DDPM-like); diffusers passes it to `step`. */
  eta?: number;
}

/** Step-index bookkeeping, buffers and noise shared by the concrete schedulers. */
export abstract class BaseScheduler implements Scheduler {
  abstract readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  timesteps: number[] = [];
  abstract readonly timestepType: 'int64' | 'float32';
  sigmas: Float32Array | null = null;
  numInferenceSteps = 0;
  get stochastic(): boolean {
    return false;
  }
  protected stepIndex: number | null = null;
  private noiseSource: NoiseSource | null;
  private noiseBuffer = new Float32Array(0);

  protected constructor(config: Readonly<Record<string, unknown>>, options: SchedulerOptions) {
    this.config = Object.freeze({ ...config });
    this.noiseSource = options.noise ?? null;
  }

  /** Alpha-based (variance-preserving) schedulers start from unit noise; sigma-based ones override this. */
  get initNoiseSigma(): number {
    return 1;
  }

  abstract setTimesteps(numInferenceSteps: number): void;
  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array;
  abstract addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array;

  setNoiseSource(noise: NoiseSource): void {
    this.noiseSource = noise;
  }

  scaleModelInput(sample: Float32Array, _timestep: number, out?: Float32Array): Float32Array {
    if (out === undefined || out === sample) return sample;
    out.set(sample);
    return out;
  }

  /** diffusers `index_for_timestep`: the second match when a timestep repeats (a restart in the middle of a schedule). */
  protected indexForTimestep(timestep: number, missing: 'error' | 'last' = 'error'): number {
    const matches: number[] = [];
    for (let i = 0; i < this.timesteps.length && matches.length < 2; i++) if (this.timesteps[i] === timestep) matches.push(i);
    if (matches.length === 0) {
      if (missing === 'last') return this.timesteps.length - 1;
      throw new SdqError('INVALID_ARGUMENT', `${this.className}: timestep ${timestep} is not in the schedule [${this.timesteps.join(', ')}]`);
    }
    return matches.length > 1 ? matches[1] : matches[0];
  }

  /**
   * The current step index, initialised from the first timestep seen (diffusers `_init_step_index`). One deviation:
   * a run that starts at timesteps[0] starts at index 0 even when that timestep repeats (integer truncation can make
   * e.g. DPM-Solver + Karras + cosine betas start [998, 998, ...]); diffusers' second-match rule would start at 1
   * and index past the end of its sigmas on the last step.
   */
  protected currentIndex(timestep: number, missing: 'error' | 'last' = 'error'): number {
    if (this.stepIndex === null) this.stepIndex = timestep === this.timesteps[0] ? 0 : this.indexForTimestep(timestep, missing);
    return this.stepIndex;
  }

  protected requireTimesteps(): void {
    if (this.numInferenceSteps === 0) {
      throw new SdqError('INVALID_ARGUMENT', `${this.className}: call setTimesteps(n) before step()`);
    }
  }

  /** Draws standard-normal noise of `length` values into a reused buffer. */
  protected drawNoise(length: number): Float32Array {
    if (this.noiseSource === null) {
      throw new SdqError(
        'INVALID_ARGUMENT',
        `${this.className} draws noise in step(): pass options.noise to createScheduler or call setNoiseSource() first`,
      );
    }
    if (this.noiseBuffer.length !== length) this.noiseBuffer = new Float32Array(length);
    this.noiseSource.fill(this.noiseBuffer);
    return this.noiseBuffer;
  }

  protected static checkSteps(className: string, n: number, max: number): void {
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new SdqError('INVALID_ARGUMENT', `${className}: number of inference steps must be an integer in [1, ${max}], got ${n}`);
    }
  }
}

/** Returns `out` if it has the right length, else a new array (callers pass reused buffers to avoid allocation). */
export function outputBuffer(length: number, out?: Float32Array): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (out.length !== length) throw new SdqError('SHAPE_MISMATCH', `output buffer has ${out.length} values, ${length} needed`);
  return out;
}

/** Copies `src` into a reusable buffer slot (reallocating only when the size changes). */
export function copyInto(buffer: Float32Array | null, src: Float32Array): Float32Array {
  const dst = buffer !== null && buffer.length === src.length ? buffer : new Float32Array(src.length);
  dst.set(src);
  return dst;
}

/** add_noise of the alpha-parameterised schedulers: sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, float32 like torch. */
export function addNoiseAlpha(alphaCumprod: number, original: Float32Array, noise: Float32Array, out?: Float32Array): Float32Array {
  const result = outputBuffer(original.length, out);
  const a = f(Math.sqrt(alphaCumprod));
  const b = f(Math.sqrt(f(1 - alphaCumprod)));
  for (let i = 0; i < result.length; i++) result[i] = f(a * original[i]) + f(b * noise[i]);
  return result;
}

/** add_noise of the sigma (variance exploding) schedulers: x0 + sigma eps. */
export function addNoiseSigma(sigma: number, original: Float32Array, noise: Float32Array, out?: Float32Array): Float32Array {
  const result = outputBuffer(original.length, out);
  for (let i = 0; i < result.length; i++) result[i] = original[i] + f(noise[i] * sigma);
  return result;
}

