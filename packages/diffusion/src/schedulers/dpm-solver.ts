import { SdqError } from '@sdq/quant';
import { ConfigReader, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES, type PredictionType } from './config.js';
import { f } from './math.js';
import { alphaSigma, lambdaOf, lastTimestepFor, multistepSchedule } from './multistep.js';
import { BaseScheduler, type SchedulerOptions, outputBuffer } from './scheduler.js';
import { type SigmaSpacing, readSigmaSpacing } from './sigmas.js';

type Algorithm = 'dpmsolver++' | 'dpmsolver';
type SolverType = 'midpoint' | 'heun';

/**
 * Multistep DPM-Solver / DPM-Solver++ (Lu et al. 2022, arXiv 2211.01095), diffusers `DPMSolverMultistepScheduler`.
 * "DPM++ 2M" is algorithm_type dpmsolver++ with solver_order 2; "2M Karras" adds use_karras_sigmas.
 */
export class DPMSolverMultistepScheduler extends BaseScheduler {
  readonly className = 'DPMSolverMultistepScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly solverOrder: number;
  private readonly prediction: PredictionType;
  private readonly algorithm: Algorithm;
  private readonly solverType: SolverType;
  private readonly lowerOrderFinal: boolean;
  private readonly eulerAtFinal: boolean;
  private readonly sigmaSpacing: SigmaSpacing;
  private readonly finalSigmasType: 'zero' | 'sigma_min';
  private readonly lastTimestep: number;
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly roundKarras: boolean;
  /** Converted model outputs, oldest first; length solverOrder, reused buffers. */
  private modelOutputs: (Float32Array | null)[];
  private lowerOrderNums = 0;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const solverOrder = r.integer('solver_order', 2, 1);
    if (solverOrder > 3) throw new SdqError('INVALID_ARGUMENT', `DPMSolverMultistepScheduler: solver_order ${solverOrder} must be 1, 2 or 3`);
    let algorithm = r.choice('algorithm_type', 'dpmsolver++', ['dpmsolver++', 'dpmsolver', 'deis', 'sde-dpmsolver++', 'sde-dpmsolver'] as const);
    if (algorithm === 'sde-dpmsolver++' || algorithm === 'sde-dpmsolver') {
      throw new SdqError('UNSUPPORTED', `DPMSolverMultistepScheduler: algorithm_type "${algorithm}" (SDE variants) is not supported; use "dpmsolver++"`);
    }
    if (algorithm === 'deis') {
      options.logger?.('DPMSolverMultistepScheduler: algorithm_type "deis" falls back to "dpmsolver++" (as diffusers does)');
      algorithm = 'dpmsolver++';
    }
    let solverType = r.choice('solver_type', 'midpoint', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] as const);
    if (solverType !== 'midpoint' && solverType !== 'heun') {
      options.logger?.(`DPMSolverMultistepScheduler: solver_type "${solverType}" falls back to "midpoint" (as diffusers does)`);
      solverType = 'midpoint';
    }
    const sigmaSpacing = readSigmaSpacing(r);
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      solver_order: solverOrder,
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      algorithm_type: algorithm,
      solver_type: solverType,
      lower_order_final: r.bool('lower_order_final', true),
      euler_at_final: r.bool('euler_at_final', false),
      use_karras_sigmas: sigmaSpacing === 'karras',
      use_exponential_sigmas: sigmaSpacing === 'exponential',
      final_sigmas_type: r.choice('final_sigmas_type', 'zero', ['zero', 'sigma_min'] as const),
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'linspace', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
      rescale_betas_zero_snr: schedule.rescaled,
    };
    const lastTimestep = lastTimestepFor(r, schedule);
    const betaSchedule = r.choice('beta_schedule', 'linear', ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const);
    r.thresholdingUnsupported();
    r.unsupported('use_lu_lambdas', false);
    r.unsupported('use_flow_sigmas', false);
    r.unsupported('variance_type', null);
    r.unsupported('use_dynamic_shifting', false);
    r.number('flow_shift', 1);
    r.choice('time_shift_type', 'exponential', ['exponential'] as const);
    r.finish();
    if (algorithm === 'dpmsolver' && config.final_sigmas_type === 'zero') {
      throw new SdqError('INVALID_ARGUMENT', 'DPMSolverMultistepScheduler: final_sigmas_type "zero" is not supported with algorithm_type "dpmsolver"; use "sigma_min"');
    }
    super(config, options);
    if (schedule.rescaled) schedule.alphasCumprod[schedule.alphasCumprod.length - 1] = 2 ** -24;
    this.schedule = schedule;
    this.solverOrder = solverOrder;
    this.prediction = config.prediction_type;
    this.algorithm = algorithm;
    this.solverType = solverType;
    this.lowerOrderFinal = config.lower_order_final;
    this.eulerAtFinal = config.euler_at_final;
    this.sigmaSpacing = sigmaSpacing;
    this.finalSigmasType = config.final_sigmas_type;
    this.lastTimestep = lastTimestep;
    this.spacing = config.timestep_spacing;
    this.stepsOffset = config.steps_offset;
    this.roundKarras = betaSchedule !== 'squaredcos_cap_v2';
    this.modelOutputs = new Array<Float32Array | null>(solverOrder).fill(null);
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    const { timesteps, sigmas } = multistepSchedule(this.className, this.schedule, n, {
      spacing: this.spacing,
      stepsOffset: this.stepsOffset,
      lastTimestep: this.lastTimestep,
      trailingRatioBase: this.schedule.numTrainTimesteps,
      sigmaSpacing: this.sigmaSpacing,
      finalSigmasType: this.finalSigmasType,
      roundKarras: this.roundKarras,
      finalIsLastKarras: false,
    });
    this.timesteps = timesteps;
    this.sigmas = sigmas;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs.fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep, 'last');
    const count = this.timesteps.length;
    const lowerOrderFinal =
      index === count - 1 && (this.eulerAtFinal || (this.lowerOrderFinal && count < 15) || this.finalSigmasType === 'zero');
    const lowerOrderSecond = index === count - 2 && this.lowerOrderFinal && count < 15;

    // shift the history and convert this output into the slot that falls off
    const recycled = this.modelOutputs[0];
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1];
    const converted = recycled !== null && recycled.length === sample.length ? recycled : new Float32Array(sample.length);
    this.convertModelOutput(modelOutput, sample, index, converted);
    this.modelOutputs[this.solverOrder - 1] = converted;

    const result = outputBuffer(sample.length, out);
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) this.firstOrder(converted, sample, index, result);
    else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) this.secondOrder(sample, index, result);
    else this.thirdOrder(sample, index, result);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = index + 1;
    return result;
  }

  /** x0 prediction (dpmsolver++) or epsilon (dpmsolver) from the raw model output. */
  private convertModelOutput(model: Float32Array, sample: Float32Array, index: number, out: Float32Array): void {
    const [alpha, sigma] = alphaSigma((this.sigmas as Float32Array)[index]);
    const dataPrediction = this.algorithm === 'dpmsolver++';
    for (let i = 0; i < out.length; i++) {
      const x = sample[i];
      const m = model[i];
      if (dataPrediction) {
        if (this.prediction === 'epsilon') out[i] = f(x - f(sigma * m)) / alpha;
        else if (this.prediction === 'sample') out[i] = m;
        else out[i] = f(alpha * x) - f(sigma * m);
      } else {
        if (this.prediction === 'epsilon') out[i] = m;
        else if (this.prediction === 'sample') out[i] = f(x - f(alpha * m)) / sigma;
        else out[i] = f(alpha * m) + f(sigma * x);
      }
    }
  }

  private levels(index: number, back: number): { alphaT: number; sigmaT: number; lambdaT: number; s: { alpha: number; sigma: number; lambda: number }[] } {
    const sigmas = this.sigmas as Float32Array;
    const [alphaT, sigmaT] = alphaSigma(sigmas[index + 1]);
    const s = [];
    for (let k = 0; k < back; k++) {
      const [alpha, sigma] = alphaSigma(sigmas[index - k]);
      s.push({ alpha, sigma, lambda: lambdaOf(alpha, sigma) });
    }
    return { alphaT, sigmaT, lambdaT: lambdaOf(alphaT, sigmaT), s };
  }

  private firstOrder(m0: Float32Array, sample: Float32Array, index: number, result: Float32Array): void {
    const { alphaT, sigmaT, lambdaT, s } = this.levels(index, 1);
    const h = f(lambdaT - s[0].lambda);
    let cx: number;
    let cm: number;
    if (this.algorithm === 'dpmsolver++') {
      cx = f(sigmaT / s[0].sigma);
      cm = f(alphaT * f(f(Math.exp(-h)) - 1));
    } else {
      cx = f(alphaT / s[0].alpha);
      cm = f(sigmaT * f(f(Math.exp(h)) - 1));
    }
    for (let i = 0; i < result.length; i++) result[i] = f(cx * sample[i]) - f(cm * m0[i]);
  }

  private secondOrder(sample: Float32Array, index: number, result: Float32Array): void {
    const { alphaT, sigmaT, lambdaT, s } = this.levels(index, 2);
    const m0 = this.modelOutputs[this.solverOrder - 1] as Float32Array;
    const m1 = this.modelOutputs[this.solverOrder - 2] as Float32Array;
    const h = f(lambdaT - s[0].lambda);
    const h0 = f(s[0].lambda - s[1].lambda);
    const r0 = f(h0 / h);
    const invR0 = f(1 / r0);
    let cx: number;
    let c0: number;
    let c1: number;
    if (this.algorithm === 'dpmsolver++') {
      const em1 = f(f(Math.exp(-h)) - 1);
      cx = f(sigmaT / s[0].sigma);
      c0 = f(alphaT * em1);
      // midpoint: - 0.5 alpha_t (e^-h - 1) D1;  heun: + alpha_t ((e^-h - 1) / h + 1) D1
      c1 = this.solverType === 'midpoint' ? f(0.5 * f(alphaT * em1)) : -f(alphaT * f(f(em1 / h) + 1));
    } else {
      const ep1 = f(f(Math.exp(h)) - 1);
      cx = f(alphaT / s[0].alpha);
      c0 = f(sigmaT * ep1);
      c1 = this.solverType === 'midpoint' ? f(0.5 * f(sigmaT * ep1)) : f(sigmaT * f(f(ep1 / h) - 1));
    }
    for (let i = 0; i < result.length; i++) {
      const d1 = f(invR0 * f(m0[i] - m1[i]));
      result[i] = f(f(cx * sample[i]) - f(c0 * m0[i])) - f(c1 * d1);
    }
  }

  private thirdOrder(sample: Float32Array, index: number, result: Float32Array): void {
    const { alphaT, sigmaT, lambdaT, s } = this.levels(index, 3);
    const m0 = this.modelOutputs[2] as Float32Array;
    const m1 = this.modelOutputs[1] as Float32Array;
    const m2 = this.modelOutputs[0] as Float32Array;
    const h = f(lambdaT - s[0].lambda);
    const h0 = f(s[0].lambda - s[1].lambda);
    const h1 = f(s[1].lambda - s[2].lambda);
    const r0 = f(h0 / h);
    const r1 = f(h1 / h);
    const invR0 = f(1 / r0);
    const invR1 = f(1 / r1);
    const w1 = f(r0 / f(r0 + r1));
    const w2 = f(1 / f(r0 + r1));
    let cx: number;
    let c0: number;
    let c1: number;
    let c2: number;
    if (this.algorithm === 'dpmsolver++') {
      const em1 = f(f(Math.exp(-h)) - 1);
      cx = f(sigmaT / s[0].sigma);
      c0 = f(alphaT * em1);
      c1 = -f(alphaT * f(f(em1 / h) + 1));
      c2 = f(alphaT * f(f(f(em1 + h) / f(h * h)) - 0.5));
    } else {
      const ep1 = f(f(Math.exp(h)) - 1);
      cx = f(alphaT / s[0].alpha);
      c0 = f(sigmaT * ep1);
      c1 = f(sigmaT * f(f(ep1 / h) - 1));
      c2 = f(sigmaT * f(f(f(ep1 - h) / f(h * h)) - 0.5));
    }
    for (let i = 0; i < result.length; i++) {
      const d10 = f(invR0 * f(m0[i] - m1[i]));
      const d11 = f(invR1 * f(m1[i] - m2[i]));
      const d1 = f(d10 + f(w1 * f(d10 - d11)));
      const d2 = f(w2 * f(d10 - d11));
      result[i] = f(f(f(cx * sample[i]) - f(c0 * m0[i])) - f(c1 * d1)) - f(c2 * d2);
    }
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const [alpha, sigma] = alphaSigma((this.sigmas as Float32Array)[this.indexForTimestep(timestep, 'last')]);
    const result = outputBuffer(original.length, out);
    for (let i = 0; i < result.length; i++) result[i] = f(alpha * original[i]) + f(sigma * noise[i]);
    return result;
  }
}
