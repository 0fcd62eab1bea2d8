import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { predictOriginal } from './ddim.js';
import { f } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseAlpha, outputBuffer } from './scheduler.js';
import { spacedTimesteps } from './spacing.js';

type VarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large';

/** Ancestral sampling of Ho et al. (2020), diffusers `DDPMScheduler`. */
export class DDPMScheduler extends BaseScheduler {
  readonly className = 'DDPMScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly varianceType: VarianceType;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      variance_type: r.choice<VarianceType>('variance_type', 'fixed_small', ['fixed_small', 'fixed_small_log', 'fixed_large']),
      clip_sample: r.bool('clip_sample', true),
      clip_sample_range: r.number('clip_sample_range', 1),
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'leading', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
      rescale_betas_zero_snr: schedule.rescaled,
    };
    r.thresholdingUnsupported();
    r.finish();
    super(config, options);
    this.schedule = schedule;
    this.varianceType = config.variance_type;
    this.clipSample = config.clip_sample;
    this.clipRange = config.clip_sample_range;
    this.prediction = config.prediction_type;
    this.spacing = config.timestep_spacing;
    this.stepsOffset = config.steps_offset;
  }

  override get stochastic(): boolean {
    return true;
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    this.timesteps = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, true);
  }

  private previousTimestep(timestep: number): number {
    const index = this.timesteps.indexOf(timestep);
    if (index < 0) return timestep - 1;
    return index === this.timesteps.length - 1 ? -1 : this.timesteps[index + 1];
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const ac = this.schedule.alphasCumprod;
    const prevT = this.previousTimestep(timestep);
    const alphaProd = ac[timestep];
    const alphaPrev = prevT >= 0 ? ac[prevT] : 1;
    const betaProd = f(1 - alphaProd);
    const betaPrev = f(1 - alphaPrev);
    const currentAlpha = f(alphaProd / alphaPrev);
    const currentBeta = f(1 - currentAlpha);
    // formula (7) of arXiv 2006.11239: mean = c0 x0 + ct xt
    const x0Coeff = f(f(f(Math.sqrt(alphaPrev)) * currentBeta) / betaProd);
    const sampleCoeff = f(f(f(Math.sqrt(currentAlpha)) * betaPrev) / betaProd);
    let std = 0;
    let noise: Float32Array | null = null;
    if (timestep > 0) {
      noise = this.drawNoise(sample.length);
      const variance = Math.max(f(f(betaPrev / betaProd) * currentBeta), 1e-20);
      if (this.varianceType === 'fixed_small') std = f(Math.sqrt(variance));
      else if (this.varianceType === 'fixed_small_log') std = f(Math.exp(f(0.5 * f(Math.log(variance)))));
      else std = f(Math.sqrt(currentBeta));
    }
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      let x0 = predictOriginal(this.prediction, alphaProd, modelOutput[i], x);
      if (this.clipSample) x0 = Math.min(this.clipRange, Math.max(-this.clipRange, x0));
      const mean = f(f(x0Coeff * x0) + f(sampleCoeff * x));
      result[i] = noise === null ? mean : mean + f(std * noise[i]);
    }
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseAlpha(this.schedule.alphasCumprod[timestep], original, noise, out);
  }
}
