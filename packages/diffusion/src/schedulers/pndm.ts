import { SdqError } from '@sdq/quant';
import { ConfigReader, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule } from './config.js';
import { f, npArange, npLinspace, roundHalfEven } from './math.js';
import { BaseScheduler, type SchedulerOptions, addNoiseAlpha, copyInto, outputBuffer } from './scheduler.js';

/**
 * Pseudo numerical methods (Liu et al. 2022), diffusers `PNDMScheduler`: Runge-Kutta warm-up (PRK) then linear
 * multistep (PLMS); `skip_prk_steps` (what Stable Diffusion uses) replaces the warm-up by a repeated second step.
 */
export class PNDMScheduler extends BaseScheduler {
  readonly className = 'PNDMScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly finalAlphaCumprod: number;
  private readonly skipPrk: boolean;
  private readonly vPrediction: boolean;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private prkTimesteps: number[] = [];
  private counter = 0;
  /** Past model outputs, newest last (at most 4). */
  private ets: Float32Array[] = [];
  private curSample: Float32Array | null = null;
  private curModelOutput: Float32Array | null = null;
  private combined = new Float32Array(0);

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: false });
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      skip_prk_steps: r.bool('skip_prk_steps', false),
      set_alpha_to_one: r.bool('set_alpha_to_one', false),
      prediction_type: r.choice('prediction_type', 'epsilon', ['epsilon', 'v_prediction'] as const),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'leading', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
    };
    r.finish();
    super(config, options);
    this.schedule = schedule;
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : schedule.alphasCumprod[0];
    this.skipPrk = config.skip_prk_steps;
    this.vPrediction = config.prediction_type === 'v_prediction';
    this.spacing = config.timestep_spacing;
    this.stepsOffset = config.steps_offset;
  }

  setTimesteps(n: number): void {
    const numTrain = this.schedule.numTrainTimesteps;
    BaseScheduler.checkSteps(this.className, n, numTrain);
    this.numInferenceSteps = n;
    let base: number[]; // ascending, like diffusers' _timesteps
    if (this.spacing === 'linspace') base = Array.from(npLinspace(0, numTrain - 1, n), roundHalfEven);
    else if (this.spacing === 'leading') {
      const ratio = Math.floor(numTrain / n);
      base = Array.from({ length: n }, (_, i) => i * ratio + this.stepsOffset);
    } else base = Array.from(npArange(numTrain, 0, -numTrain / n), (t) => roundHalfEven(t) - 1).reverse();
    let plms: number[];
    if (this.skipPrk) {
      // [t_0 .. t_{n-2}, t_{n-2}, t_{n-1}] reversed: the second step is repeated
      plms = [...base.slice(0, -1), ...base.slice(-2, -1), ...base.slice(-1)].reverse();
      this.prkTimesteps = [];
    } else {
      if (n < 4) throw new SdqError('INVALID_ARGUMENT', `${this.className}: PRK warm-up needs at least 4 steps (or skip_prk_steps: true)`);
      const half = Math.floor(Math.floor(numTrain / n) / 2);
      const prk: number[] = [];
      for (const t of base.slice(-4)) prk.push(t, t + half);
      const pairs = prk.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1);
      this.prkTimesteps = pairs.reverse();
      plms = base.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curSample = null;
    this.curModelOutput = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const result = outputBuffer(sample.length, out);
    if (this.counter < this.prkTimesteps.length && !this.skipPrk) this.stepPrk(modelOutput, timestep, sample, result);
    else this.stepPlms(modelOutput, timestep, sample, result);
    return result;
  }

  private pushEt(modelOutput: Float32Array): void {
    const reuse = this.ets.length >= 4 ? (this.ets.shift() as Float32Array) : null;
    this.ets.push(copyInto(reuse, modelOutput));
  }

  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array, result: Float32Array): void {
    const ratio = Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps);
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(ratio / 2);
    const prevTimestep = timestep - diffToPrev;
    const t = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    const phase = this.counter % 4;
    if (this.curModelOutput === null || this.curModelOutput.length !== sample.length) this.curModelOutput = new Float32Array(sample.length);
    const acc = this.curModelOutput;
    let model = modelOutput;
    if (phase === 0) {
      // cur_model_output starts from 0: 0 + 1/6 m
      const w = f(1 / 6);
      for (let i = 0; i < acc.length; i++) acc[i] = f(w * modelOutput[i]);
      this.pushEt(modelOutput);
      this.curSample = copyInto(this.curSample, sample);
    } else if (phase === 1 || phase === 2) {
      const w = f(1 / 3);
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + f(w * modelOutput[i]);
    } else {
      const w = f(1 / 6);
      model = this.combinedBuffer(sample.length);
      for (let i = 0; i < acc.length; i++) {
        model[i] = acc[i] + f(w * modelOutput[i]);
        acc[i] = 0;
      }
    }
    const base = this.curSample ?? sample;
    this.prevSample(base, t, prevTimestep, model, result);
    this.counter++;
  }

  private combinedBuffer(length: number): Float32Array {
    if (this.combined.length !== length) this.combined = new Float32Array(length);
    return this.combined;
  }

  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array, result: Float32Array): void {
    const ratio = Math.floor(this.schedule.numTrainTimesteps / this.numInferenceSteps);
    let prevTimestep = timestep - ratio;
    let t = timestep;
    if (this.counter !== 1) {
      this.pushEt(modelOutput);
    } else {
      prevTimestep = timestep;
      t = timestep + ratio;
    }
    const e = this.ets;
    const n = e.length;
    const model = this.combinedBuffer(sample.length);
    let base = sample;
    if (n === 1 && this.counter === 0) {
      model.set(modelOutput);
      this.curSample = copyInto(this.curSample, sample);
    } else if (n === 1 && this.counter === 1) {
      for (let i = 0; i < model.length; i++) model[i] = f(modelOutput[i] + e[0][i]) / 2;
      base = this.curSample as Float32Array;
    } else if (n === 2) {
      for (let i = 0; i < model.length; i++) model[i] = f(f(3 * e[1][i]) - e[0][i]) / 2;
    } else if (n === 3) {
      for (let i = 0; i < model.length; i++) {
        model[i] = f(f(f(23 * e[2][i]) - f(16 * e[1][i])) + f(5 * e[0][i])) / 12;
      }
    } else {
      const w = f(1 / 24);
      for (let i = 0; i < model.length; i++) {
        const s = f(f(f(f(55 * e[3][i]) - f(59 * e[2][i])) + f(37 * e[1][i])) - f(9 * e[0][i]));
        model[i] = f(w * s);
      }
    }
    this.prevSample(base, t, prevTimestep, model, result);
    if (n === 1 && this.counter === 1) this.curSample = null;
    this.counter++;
  }

  /** Formula (9) of arXiv 2202.09778: x_{t-delta} from x_t and the combined model output, float32. */
  private prevSample(sample: Float32Array, timestep: number, prevTimestep: number, model: Float32Array, result: Float32Array): void {
    const ac = this.schedule.alphasCumprod;
    const alphaProd = ac[timestep];
    const alphaPrev = prevTimestep >= 0 ? ac[prevTimestep] : this.finalAlphaCumprod;
    const betaProd = f(1 - alphaProd);
    const betaPrev = f(1 - alphaPrev);
    const sampleCoeff = f(Math.sqrt(f(alphaPrev / alphaProd)));
    const denom = f(f(alphaProd * f(Math.sqrt(betaPrev))) + f(Math.sqrt(f(f(alphaProd * betaProd) * alphaPrev))));
    const diff = f(alphaPrev - alphaProd);
    const sqrtAlpha = f(Math.sqrt(alphaProd));
    const sqrtBeta = f(Math.sqrt(betaProd));
    for (let i = 0; i < result.length; i++) {
      const x = sample[i];
      const m = this.vPrediction ? f(f(sqrtAlpha * model[i]) + f(sqrtBeta * x)) : model[i];
      result[i] = f(sampleCoeff * x) - f(f(diff * m) / denom);
    }
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    return addNoiseAlpha(this.schedule.alphasCumprod[timestep], original, noise, out);
  }
}
