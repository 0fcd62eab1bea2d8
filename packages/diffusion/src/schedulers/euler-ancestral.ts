import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule } from './config.js';
import { f } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseSigma, outputBuffer } from './scheduler.js';
import { discreteSigmas, trainSigmas } from './sigmas.js';
import { SigmaScheduler } from './sigma-scheduler.js';
import { spacedTimesteps } from './spacing.js';

/** Ancestral Euler sampling (k-diffusion `sample_euler_ancestral`), diffusers `EulerAncestralDiscreteScheduler`. */
export class EulerAncestralDiscreteScheduler extends SigmaScheduler {
  readonly className = 'EulerAncestralDiscreteScheduler';
  readonly timestepType = 'float32';
  private readonly schedule: TrainSchedule;
  protected readonly spacing: TimestepSpacing;
  private readonly prediction: PredictionType;
  private readonly stepsOffset: number;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', ['epsilon', 'v_prediction']),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'linspace', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
      rescale_betas_zero_snr: schedule.rescaled,
    };
    r.finish();
    super(config, options);
    if (schedule.rescaled) schedule.alphasCumprod[schedule.alphasCumprod.length - 1] = 2 ** -24;
    this.schedule = schedule;
    this.spacing = config.timestep_spacing;
    this.prediction = config.prediction_type;
    this.stepsOffset = config.steps_offset;
    this.sigmas = Float32Array.from([...trainSigmas(schedule.alphasCumprod)].reverse().concat([0]));
  }

  override get stochastic(): boolean {
    return true;
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    const timesteps = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, false);
    const { sigmas } = discreteSigmas(this.schedule, timesteps, 'interpolated', n);
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps.map(f);
    this.stepIndex = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep);
    const sigmas = this.sigmas as Float32Array;
    const sigma = sigmas[index];
    const sigmaTo = sigmas[index + 1];
    const from2 = f(sigma * sigma);
    const to2 = f(sigmaTo * sigmaTo);
    // sigma_up = sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2), sigma_down = sqrt(sigma_to^2 - sigma_up^2)
    const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);
    const c2 = f(from2 + 1);
    const vScale = f(-sigma / f(Math.sqrt(c2)));
    const noise = this.drawNoise(sample.length);
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      const m = modelOutput[i];
      const x0 = this.prediction === 'epsilon' ? f(x - f(sigma * m)) : f(f(m * vScale) + f(x / c2));
      const derivative = f(f(x - x0) / sigma);
      const prev = f(x + f(derivative * dt));
      result[i] = prev + f(noise[i] * sigmaUp);
    }
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseSigma((this.sigmas as Float32Array)[this.indexForTimestep(timestep)], original, noise, out);
  }
}
