import { SdqError } from '@sdq/quant';
import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { f, torchLinspaceF32 } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseSigma, outputBuffer } from './scheduler.js';
import { type SigmaSpacing, discreteSigmas, readSigmaSpacing, trainSigmas } from './sigmas.js';
import { SigmaScheduler } from './sigma-scheduler.js';
import { spacedTimesteps } from './spacing.js';

/** Euler method of Karras et al. (2022) Algorithm 2 without churn, diffusers `EulerDiscreteScheduler`. */
export class EulerDiscreteScheduler extends SigmaScheduler {
  readonly className: string = 'EulerDiscreteScheduler';
  readonly timestepType = 'float32';
  protected readonly schedule: TrainSchedule;
  protected readonly spacing: TimestepSpacing;
  protected readonly prediction: PredictionType;
  protected readonly stepsOffset: number;
  private readonly sigmaSpacing: SigmaSpacing;
  private readonly interpolation: 'linear' | 'log_linear';
  private readonly finalSigmasType: 'zero' | 'sigma_min';
  private readonly continuousTimesteps: boolean;
  private readonly bounds: { sigmaMin: number | null; sigmaMax: number | null };

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const prediction = r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES);
    const sigmaSpacing = readSigmaSpacing(r);
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      prediction_type: prediction,
      interpolation_type: r.choice('interpolation_type', 'linear', ['linear', 'log_linear'] as const),
      use_karras_sigmas: sigmaSpacing === 'karras',
      use_exponential_sigmas: sigmaSpacing === 'exponential',
      sigma_min: r.optionalNumber('sigma_min'),
      sigma_max: r.optionalNumber('sigma_max'),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'linspace', SPACINGS),
      timestep_type: r.choice('timestep_type', 'discrete', ['discrete', 'continuous'] as const),
      steps_offset: r.integer('steps_offset', 0),
      rescale_betas_zero_snr: schedule.rescaled,
      final_sigmas_type: r.choice('final_sigmas_type', 'zero', ['zero', 'sigma_min'] as const),
    };
    r.finish();
    super(config, options);
    if (schedule.rescaled) schedule.alphasCumprod[schedule.alphasCumprod.length - 1] = 2 ** -24;
    this.schedule = schedule;
    this.spacing = config.timestep_spacing;
    this.prediction = config.prediction_type;
    this.stepsOffset = config.steps_offset;
    this.sigmaSpacing = sigmaSpacing;
    this.interpolation = config.interpolation_type;
    this.finalSigmasType = config.final_sigmas_type;
    this.continuousTimesteps = config.timestep_type === 'continuous' && prediction === 'v_prediction';
    this.bounds = { sigmaMin: config.sigma_min, sigmaMax: config.sigma_max };
    // Before setTimesteps diffusers' init_noise_sigma uses the training sigmas.
    const table = trainSigmas(schedule.alphasCumprod);
    this.sigmas = Float32Array.from([...table].reverse().concat([0]));
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    const base = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, false);
    let sigmas: number[];
    let timesteps: number[];
    if (this.interpolation === 'log_linear') {
      const table = trainSigmas(this.schedule.alphasCumprod);
      const logs = torchLinspaceF32(Math.log(table[table.length - 1]), Math.log(table[0]), n + 1);
      sigmas = Array.from(logs, (l) => f(Math.exp(l)));
      timesteps = base;
      if (this.sigmaSpacing !== 'interpolated') {
        throw new SdqError('UNSUPPORTED', `${this.className}: interpolation_type "log_linear" with Karras/exponential sigmas is not supported`);
      }
    } else {
      ({ sigmas, timesteps } = discreteSigmas(this.schedule, base, this.sigmaSpacing, n, this.bounds));
    }
    const ac0 = this.schedule.alphasCumprod[0];
    const last = this.finalSigmasType === 'sigma_min' ? f(Math.sqrt(f(f(1 - ac0) / ac0))) : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = this.continuousTimesteps
      ? Array.from(this.sigmas.subarray(0, this.sigmas.length - 1), (s) => f(0.25 * f(Math.log(s))))
      : timesteps.map(f);
    this.stepIndex = null;
  }

  /** x0 from the model output at noise level sigma (float32). */
  protected denoised(m: number, x: number, sigma: number, sigmaHat: number): number {
    if (this.prediction === 'epsilon') return f(x - f(sigmaHat * m));
    if (this.prediction === 'sample') return m;
    const c2 = f(f(sigma * sigma) + 1);
    return f(f(m * f(-sigma / f(Math.sqrt(c2)))) + f(x / c2));
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep);
    const sigmas = this.sigmas as Float32Array;
    const sigma = sigmas[index];
    const dt = f(sigmas[index + 1] - sigma);
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      const x0 = this.denoised(modelOutput[i], x, sigma, sigma);
      const derivative = f(f(x - x0) / sigma);
      result[i] = x + f(derivative * dt);
    }
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const index = this.indexForTimestep(timestep);
    return addNoiseSigma((this.sigmas as Float32Array)[index], original, noise, out);
  }
}
