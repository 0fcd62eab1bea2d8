import { ConfigReader, type PredictionType, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES } from './config.js';
import { f } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseSigma, outputBuffer } from './scheduler.js';
import { type SigmaSpacing, discreteSigmas, readSigmaSpacing, trainSigmas } from './sigmas.js';
import { SigmaScheduler } from './sigma-scheduler.js';
import { spacedTimesteps } from './spacing.js';

// 4-point Gauss-Legendre nodes/weights on [-1, 1]: exact for the degree <= 3 Lagrange polynomials LMS integrates
// (diffusers uses scipy.integrate.quad, which is exact for them up to rounding).
const GL_NODES = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_WEIGHTS = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/** Linear multistep (k-diffusion `sample_lms`), diffusers `LMSDiscreteScheduler` with order 4. */
export class LMSDiscreteScheduler extends SigmaScheduler {
  readonly className = 'LMSDiscreteScheduler';
  readonly timestepType = 'float32';
  private readonly schedule: TrainSchedule;
  protected readonly spacing: TimestepSpacing;
  private readonly prediction: PredictionType;
  private readonly stepsOffset: number;
  private readonly sigmaSpacing: SigmaSpacing;
  private readonly order = 4;
  /** Newest last; a ring of reused buffers. */
  private derivatives: Float32Array[] = [];
  private spare: Float32Array[] = [];

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: false });
    const sigmaSpacing = readSigmaSpacing(r);
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      use_karras_sigmas: sigmaSpacing === 'karras',
      use_exponential_sigmas: sigmaSpacing === 'exponential',
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
    this.sigmas = Float32Array.from([...trainSigmas(schedule.alphasCumprod)].reverse().concat([0]));
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    this.numInferenceSteps = n;
    const base = spacedTimesteps(this.spacing, n, this.schedule.numTrainTimesteps, this.stepsOffset, false);
    const { sigmas, timesteps } = discreteSigmas(this.schedule, base, this.sigmaSpacing, n);
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps.map(f);
    this.spare.push(...this.derivatives);
    this.derivatives = [];
    this.stepIndex = null;
  }

  /** Integral over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial `current` through sigma_t..sigma_{t-order+1}. */
  private lmsCoefficient(order: number, t: number, current: number): number {
    const s = this.sigmas as Float32Array;
    const a = s[t];
    const b = s[t + 1];
    let integral = 0;
    for (let q = 0; q < GL_NODES.length; q++) {
      const tau = ((b - a) / 2) * GL_NODES[q] + (a + b) / 2;
      let prod = 1;
      for (let k = 0; k < order; k++) {
        if (k === current) continue;
        prod *= (tau - s[t - k]) / (s[t - current] - s[t - k]);
      }
      integral += GL_WEIGHTS[q] * prod;
    }
    return (integral * (b - a)) / 2;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep);
    const sigma = (this.sigmas as Float32Array)[index];
    const c2 = f(f(sigma * sigma) + 1);
    const vScale = f(-sigma / f(Math.sqrt(c2)));
    let derivative = this.derivatives.length >= this.order ? (this.derivatives.shift() as Float32Array) : this.spare.pop();
    if (derivative === undefined || derivative.length !== sample.length) derivative = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i];
      const m = modelOutput[i];
      const x0 = this.prediction === 'epsilon' ? f(x - f(sigma * m)) : this.prediction === 'sample' ? m : f(f(m * vScale) + f(x / c2));
      derivative[i] = f(x - x0) / sigma;
    }
    this.derivatives.push(derivative);
    const order = Math.min(index + 1, this.order);
    const coeffs = Array.from({ length: order }, (_, k) => f(this.lmsCoefficient(order, index, k)));
    const n = this.derivatives.length;
    const result = outputBuffer(sample.length, out);
    for (let i = 0; i < result.length; i++) {
      // prev = sample + sum(coeff_k * derivative_{newest - k}), summed left to right like Python's sum()
      let sum = f(coeffs[0] * this.derivatives[n - 1][i]);
      for (let k = 1; k < order; k++) sum = f(sum + f(coeffs[k] * this.derivatives[n - 1 - k][i]));
      result[i] = sample[i] + sum;
    }
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseSigma((this.sigmas as Float32Array)[this.indexForTimestep(timestep)], original, noise, out);
  }
}
