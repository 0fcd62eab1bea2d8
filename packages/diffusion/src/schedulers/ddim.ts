import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { f } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseAlpha, outputBuffer } from './scheduler.js';
import { spacedTimesteps } from './spacing.js';

/** Predicted x0 and epsilon from the model output (DDIM/DDPM/LCM parameterisations), float32 like torch. */
export function predictOriginal(
  prediction: PredictionType,
  alphaProd: number,
  modelOutput: number,
  sample: number,
): number {
  const betaProd = f(1 - alphaProd);
  if (prediction === 'epsilon') return f(f(sample - f(f(Math.sqrt(betaProd)) * modelOutput)) / f(Math.sqrt(alphaProd)));
  if (prediction === 'sample') return modelOutput;
  return f(f(f(Math.sqrt(alphaProd)) * sample) - f(f(Math.sqrt(betaProd)) * modelOutput));
}

/** DDIM (Song et al. 2020), diffusers `DDIMScheduler`. */
export class DDIMScheduler extends BaseScheduler {
  readonly className = 'DDIMScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private readonly stepsOffset: number;
  private readonly prediction: PredictionType;
  private readonly spacing: TimestepSpacing;
  private readonly eta: number;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      clip_sample: r.bool('clip_sample', true),
      clip_sample_range: r.number('clip_sample_range', 1),
      set_alpha_to_one: r.bool('set_alpha_to_one', true),
      steps_offset: r.integer('steps_offset', 0),
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'leading', SPACINGS),
      rescale_betas_zero_snr: schedule.rescaled,
    };
    r.thresholdingUnsupported();
    r.finish();
    super(config, options);
    this.schedule = schedule;
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : schedule.alphasCumprod[0];
    this.clipSample = config.clip_sample;
    this.clipRange = config.clip_sample_range;
    this.stepsOffset = config.steps_offset;
    this.prediction = config.prediction_type;
    this.spacing = config.timestep_spacing;
    this.eta = options.eta ?? 0;
  }

  override get stochastic(): boolean {
    return this.eta > 0;
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    this.timesteps = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, true);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const result = outputBuffer(sample.length, out);
    const ac = this.schedule.alphasCumprod;
    const prevTimestep = timestep - Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps);
    const alphaProd = ac[timestep];
    const alphaPrev = prevTimestep >= 0 ? ac[prevTimestep] : this.finalAlphaCumprod;
    const betaProd = f(1 - alphaProd);
    const betaPrev = f(1 - alphaPrev);
    // _get_variance: (beta_prev / beta_t) * (1 - abar_t / abar_prev)
    const variance = f(f(betaPrev / betaProd) * f(1 - f(alphaProd / alphaPrev)));
    const stdDev = f(this.eta * f(Math.sqrt(variance)));
    const directionCoeff = f(Math.sqrt(f(f(1 - alphaPrev) - f(stdDev * stdDev))));
    const sqrtAlphaPrev = f(Math.sqrt(alphaPrev));
    const sqrtAlpha = f(Math.sqrt(alphaProd));
    const sqrtBeta = f(Math.sqrt(betaProd));
    const noise = this.eta > 0 ? this.drawNoise(sample.length) : null;
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      const m = modelOutput[i];
      let x0: number;
      let eps: number;
      if (this.prediction === 'epsilon') {
        x0 = f(f(x - f(sqrtBeta * m)) / sqrtAlpha);
        eps = m;
      } else if (this.prediction === 'sample') {
        x0 = m;
        eps = f(f(x - f(sqrtAlpha * x0)) / sqrtBeta);
      } else {
        x0 = f(f(sqrtAlpha * x) - f(sqrtBeta * m));
        eps = f(f(sqrtAlpha * m) + f(sqrtBeta * x));
      }
      if (this.clipSample) x0 = Math.min(this.clipRange, Math.max(-this.clipRange, x0));
      let prev = f(f(sqrtAlphaPrev * x0) + f(directionCoeff * eps));
      if (noise !== null) prev = f(prev + f(stdDev * noise[i]));
      result[i] = prev;
    }
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseAlpha(this.schedule.alphasCumprod[timestep], original, noise, out);
  }
}
