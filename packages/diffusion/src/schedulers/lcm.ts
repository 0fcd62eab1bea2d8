import { SdqError } from '@sdq/quant';
import { ConfigReader, type PredictionType, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { predictOriginal } from './ddim.js';
import { f, npLinspace } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseAlpha, outputBuffer } from './scheduler.js';

/** Latent consistency model multistep sampling (arXiv 2310.04378), diffusers `LCMScheduler`. */
export class LCMScheduler extends BaseScheduler {
  readonly className = 'LCMScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly originalSteps: number;
  private readonly timestepScaling: number;
  private readonly clipSample: boolean;
  private readonly clipRange: number;
  private readonly prediction: PredictionType;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', rescale: true });
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      original_inference_steps: r.integer('original_inference_steps', 50, 1),
      clip_sample: r.bool('clip_sample', false),
      clip_sample_range: r.number('clip_sample_range', 1),
      set_alpha_to_one: r.bool('set_alpha_to_one', true),
      steps_offset: r.integer('steps_offset', 0),
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      timestep_spacing: r.choice('timestep_spacing', 'leading', ['leading', 'trailing', 'linspace'] as const),
      timestep_scaling: r.number('timestep_scaling', 10),
      rescale_betas_zero_snr: schedule.rescaled,
    };
    r.thresholdingUnsupported();
    r.finish();
    super(config, options);
    this.schedule = schedule;
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : schedule.alphasCumprod[0];
    this.originalSteps = config.original_inference_steps;
    this.timestepScaling = config.timestep_scaling;
    this.clipSample = config.clip_sample;
    this.clipRange = config.clip_sample_range;
    this.prediction = config.prediction_type;
  }

  override get stochastic(): boolean {
    return true;
  }

  setTimesteps(n: number): void {
    const numTrain = this.schedule.numTrainTimesteps;
    if (this.originalSteps > numTrain) {
      throw new SdqError('INVALID_ARGUMENT', `${this.className}: original_inference_steps ${this.originalSteps} exceeds num_train_timesteps ${numTrain}`);
    }
    BaseScheduler.checkSteps(this.className, n, this.originalSteps);
    this.numInferenceSteps = n;
    const k = Math.floor(numTrain / this.originalSteps);
    // LCM's training schedule [k-1, 2k-1, ..., original*k - 1], reversed, sampled at floor(linspace(0, len, n, endpoint=False))
    const origin = Array.from({ length: this.originalSteps }, (_, i) => (this.originalSteps - i) * k - 1);
    const indices = npLinspace(0, origin.length, n, false);
    this.timesteps = Array.from(indices, (x) => origin[Math.floor(x)]);
    this.stepIndex = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep);
    const prevTimestep = index + 1 < this.timesteps.length ? this.timesteps[index + 1] : timestep;
    const ac = this.schedule.alphasCumprod;
    const alphaProd = ac[timestep];
    const alphaPrev = prevTimestep >= 0 ? ac[prevTimestep] : this.finalAlphaCumprod;
    const betaPrev = f(1 - alphaPrev);
    // boundary condition scalings with sigma_data = 0.5 (timestep is a tensor in diffusers: float32 math)
    const scaled = f(timestep * this.timestepScaling);
    const scaled2 = f(scaled * scaled);
    const cSkip = f(0.25 / f(scaled2 + 0.25));
    const cOut = f(scaled / f(Math.sqrt(f(scaled2 + 0.25))));
    const last = index === this.numInferenceSteps - 1;
    const noise = last ? null : this.drawNoise(sample.length);
    const sqrtAlphaPrev = f(Math.sqrt(alphaPrev));
    const sqrtBetaPrev = f(Math.sqrt(betaPrev));
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      let x0 = predictOriginal(this.prediction, alphaProd, modelOutput[i], x);
      if (this.clipSample) x0 = Math.min(this.clipRange, Math.max(-this.clipRange, x0));
      const denoised = f(f(cOut * x0) + f(cSkip * x));
      result[i] = noise === null ? denoised : f(sqrtAlphaPrev * denoised) + f(sqrtBetaPrev * noise[i]);
    }
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseAlpha(this.schedule.alphasCumprod[timestep], original, noise, out);
  }
}
