import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { f } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseSigma, copyInto, outputBuffer } from './scheduler.js';
import { type SigmaSpacing, discreteSigmas, readSigmaSpacing } from './sigmas.js';
import { SigmaScheduler } from './sigma-scheduler.js';
import { spacedTimesteps } from './spacing.js';

/**
 * Heun's method (Karras et al. 2022, Algorithm 1), diffusers `HeunDiscreteScheduler`: every step but the last is a
 * predictor (first order) and a corrector (second order) model call, so timesteps repeat.
 */
export class HeunDiscreteScheduler extends SigmaScheduler {
  readonly className = 'HeunDiscreteScheduler';
  readonly timestepType = 'float32';
  private readonly schedule: TrainSchedule;
  protected readonly spacing: TimestepSpacing;
  private readonly prediction: PredictionType;
  private readonly stepsOffset: number;
  private readonly sigmaSpacing: SigmaSpacing;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private readonly bounds: { sigmaMin: number | null; sigmaMax: number | null } = { sigmaMin: null, sigmaMax: null };
  private prevDerivative: Float32Array | null = null;
  private savedSample: Float32Array | null = null;
  private dt: number | null = null;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'linear', rescale: false });
    const sigmaSpacing = readSigmaSpacing(r);
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      use_karras_sigmas: sigmaSpacing === 'karras',
      use_exponential_sigmas: sigmaSpacing === 'exponential',
      clip_sample: r.bool('clip_sample', false),
      clip_sample_range: r.number('clip_sample_range', 1),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'linspace', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
    };
    r.finish();
    super(config, options);
    this.schedule = schedule;
    this.spacing = config.timestep_spacing;
    this.prediction = config.prediction_type;
    this.stepsOffset = config.steps_offset;
    this.sigmaSpacing = sigmaSpacing;
    this.clipSample = config.clip_sample;
    this.clipRange = config.clip_sample_range;
    // diffusers' __init__ calls set_timesteps(num_train_timesteps).
    this.setTimesteps(schedule.numTrainTimesteps);
    this.numInferenceSteps = 0;
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    const base = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, false);
    const { sigmas, timesteps } = discreteSigmas(this.schedule, base, this.sigmaSpacing, n, this.bounds);
    const s = Float32Array.from([...sigmas, 0]);
    // sigmas: [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0]; timesteps: [t0, t1, t1, ..., t_{n-1}, t_{n-1}]
    const repeated: number[] = [s[0]];
    for (let i = 1; i < s.length - 1; i++) repeated.push(s[i], s[i]);
    repeated.push(s[s.length - 1]);
    this.sigmas = Float32Array.from(repeated);
    const ts = timesteps.map(f);
    this.timesteps = [ts[0]];
    for (let i = 1; i < ts.length; i++) this.timesteps.push(ts[i], ts[i]);
    this.prevDerivative = null;
    this.savedSample = null;
    this.dt = null;
    this.stepIndex = null;
  }

  private denoised(m: number, x: number, sigmaInput: number): number {
    let x0: number;
    if (this.prediction === 'epsilon') x0 = f(x - f(sigmaInput * m));
    else if (this.prediction === 'sample') x0 = m;
    else {
      const c2 = f(f(sigmaInput * sigmaInput) + 1);
      x0 = f(f(m * f(-sigmaInput / f(Math.sqrt(c2)))) + f(x / c2));
    }
    return this.clipSample ? Math.min(this.clipRange, Math.max(-this.clipRange, x0)) : x0;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep);
    const sigmas = this.sigmas as Float32Array;
    const result = outputBuffer(sample.length, out);
    if (this.dt === null) {
      // first order (Euler) predictor
      const sigma = sigmas[index];
      const dt = f(sigmas[index + 1] - sigma);
      this.savedSample = copyInto(this.savedSample, sample);
      const derivative = this.prevDerivative !== null && this.prevDerivative.length === sample.length
        ? this.prevDerivative
        : new Float32Array(sample.length);
      for (let i = 0; i < result.length; i++) {
        const x = sample[i];
        derivative[i] = f(x - this.denoised(modelOutput[i], x, sigma)) / sigma;
        result[i] = x + f(derivative[i] * dt);
      }
      this.prevDerivative = derivative;
      this.dt = dt;
    } else {
      // second order corrector: average the derivatives at sigma and sigma_next, step from the saved sample
      const sigmaNext = sigmas[index];
      const dt = this.dt;
      const prev = this.prevDerivative as Float32Array;
      const base = this.savedSample as Float32Array;
      for (let i = 0; i < result.length; i++) {
        const x = sample[i];
        const derivative = f(f(x - this.denoised(modelOutput[i], x, sigmaNext)) / sigmaNext);
        const averaged = f(f(prev[i] + derivative) / 2);
        result[i] = base[i] + f(averaged * dt);
      }
      this.dt = null;
    }
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseSigma((this.sigmas as Float32Array)[this.indexForTimestep(timestep)], original, noise, out);
  }
}
