import { SdqError } from '@sdq/quant';
import { ConfigReader, SPACINGS, type TimestepSpacing, type TrainSchedule, readTrainSchedule, PREDICTION_TYPES, type PredictionType } from './config.js';
import { f, solveF32 } from './math.js';
import { alphaSigma, lambdaOf, multistepSchedule } from './multistep.js';
import { BaseScheduler, type SchedulerOptions, copyInto, outputBuffer } from './scheduler.js';
import { type SigmaSpacing, readSigmaSpacing } from './sigmas.js';


/**
 * UniPC (Zhao et al. 2023, arXiv 2302.04867) predictor-corrector, diffusers `UniPCMultistepScheduler` with the
 * data-prediction (predict_x0) B(h) variants bh1/bh2.
 */
export class UniPCMultistepScheduler extends BaseScheduler {
  readonly className = 'UniPCMultistepScheduler';
  readonly timestepType = 'int64';
  private readonly schedule: TrainSchedule;
  private readonly solverOrder: number;
  private readonly prediction: PredictionType;
  private readonly predictX0: boolean;
  private readonly solverType: 'bh1' | 'bh2';
  private readonly lowerOrderFinal: boolean;
  private readonly disableCorrector: readonly number[];
  private readonly sigmaSpacing: SigmaSpacing;
  private readonly finalSigmasType: 'zero' | 'sigma_min';
  private readonly spacing: TimestepSpacing;
  private readonly stepsOffset: number;
  private readonly bounds: { sigmaMin: number | null; sigmaMax: number | null };
  private modelOutputs: (Float32Array | null)[];
  private lowerOrderNums = 0;
  private lastSample: Float32Array | null = null;
  private corrected = new Float32Array(0);
  private spare: Float32Array | null = null;
  private thisOrder = 0;

  constructor(r: ConfigReader, options: SchedulerOptions) {
    const schedule = readTrainSchedule(r, { betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear', rescale: true });
    const solverOrder = r.integer('solver_order', 2, 1);
    let solverType = r.choice('solver_type', 'bh2', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho'] as const);
    if (solverType !== 'bh1' && solverType !== 'bh2') {
      options.logger?.(`UniPCMultistepScheduler: solver_type "${solverType}" falls back to "bh2" (as diffusers does)`);
      solverType = 'bh2';
    }
    const disable = r.numberList('disable_corrector') ?? [];
    const sigmaSpacing = readSigmaSpacing(r);
    const config = {
      num_train_timesteps: schedule.numTrainTimesteps,
      solver_order: solverOrder,
      prediction_type: r.choice<PredictionType>('prediction_type', 'epsilon', PREDICTION_TYPES),
      predict_x0: r.bool('predict_x0', true),
      solver_type: solverType,
      lower_order_final: r.bool('lower_order_final', true),
      disable_corrector: disable,
      use_karras_sigmas: sigmaSpacing === 'karras',
      use_exponential_sigmas: sigmaSpacing === 'exponential',
      timestep_spacing: r.choice<TimestepSpacing>('timestep_spacing', 'linspace', SPACINGS),
      steps_offset: r.integer('steps_offset', 0),
      final_sigmas_type: r.choice('final_sigmas_type', 'zero', ['zero', 'sigma_min'] as const),
      rescale_betas_zero_snr: schedule.rescaled,
      sigma_min: r.optionalNumber('sigma_min'),
      sigma_max: r.optionalNumber('sigma_max'),
    };
    r.thresholdingUnsupported();
    r.unsupported('solver_p', null);
    r.unsupported('use_flow_sigmas', false);
    r.unsupported('use_dynamic_shifting', false);
    r.unsupported('shift_terminal', null);
    r.number('flow_shift', 1);
    r.choice('time_shift_type', 'exponential', ['exponential'] as const);
    r.finish();
    // With a zero final sigma these combinations divide by infinity on the last step: diffusers returns NaN latents.
    const nanAtEnd = config.final_sigmas_type === 'zero' && (solverType === 'bh1' || !config.predict_x0 || (!config.lower_order_final && solverOrder > 1));
    if (nanAtEnd) {
      throw new SdqError(
        'INVALID_ARGUMENT',
        'UniPCMultistepScheduler: solver_type "bh1", predict_x0 false or lower_order_final false with final_sigmas_type "zero" ' +
          'gives NaN on the last step (as in diffusers); set final_sigmas_type: "sigma_min"',
      );
    }
    super(config, options);
    if (schedule.rescaled) schedule.alphasCumprod[schedule.alphasCumprod.length - 1] = 2 ** -24;
    this.schedule = schedule;
    this.solverOrder = solverOrder;
    this.prediction = config.prediction_type;
    this.predictX0 = config.predict_x0;
    this.solverType = solverType;
    this.lowerOrderFinal = config.lower_order_final;
    this.disableCorrector = disable;
    this.sigmaSpacing = sigmaSpacing;
    this.finalSigmasType = config.final_sigmas_type;
    this.spacing = config.timestep_spacing;
    this.stepsOffset = config.steps_offset;
    this.bounds = { sigmaMin: config.sigma_min, sigmaMax: config.sigma_max };
    this.modelOutputs = new Array<Float32Array | null>(solverOrder).fill(null);
  }

  setTimesteps(n: number): void {
    BaseScheduler.checkSteps(this.className, n, this.schedule.numTrainTimesteps);
    const { timesteps, sigmas } = multistepSchedule(this.className, this.schedule, n, {
      spacing: this.spacing,
      stepsOffset: this.stepsOffset,
      lastTimestep: this.schedule.numTrainTimesteps,
      trailingRatioBase: this.schedule.numTrainTimesteps,
      sigmaSpacing: this.sigmaSpacing,
      finalSigmasType: this.finalSigmasType,
      roundKarras: true,
      finalIsLastKarras: true,
      bounds: this.bounds,
    });
    this.timesteps = timesteps;
    this.sigmas = sigmas;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs.fill(null);
    this.lowerOrderNums = 0;
    this.lastSample = null;
    this.stepIndex = null;
  }

  private convertModelOutput(model: Float32Array, sample: Float32Array, index: number, out: Float32Array): void {
    const [alpha, sigma] = alphaSigma((this.sigmas as Float32Array)[index]);
    for (let i = 0; i < out.length; i++) {
      const x = sample[i];
      const m = model[i];
      if (this.predictX0) {
        if (this.prediction === 'epsilon') out[i] = f(x - f(sigma * m)) / alpha;
        else if (this.prediction === 'sample') out[i] = m;
        else out[i] = f(alpha * x) - f(sigma * m);
      } else if (this.prediction === 'epsilon') out[i] = m;
      else if (this.prediction === 'sample') out[i] = f(x - f(alpha * m)) / sigma;
      else out[i] = f(alpha * m) + f(sigma * x);
    }
  }

  /**
   * Shared coefficients of the B(h) update between sigma index `from` (s0) and `to` (t): rk ratios of the older
   * outputs (indices `older`), the phi-function right-hand side b and matrix R (rows rks^(i-1)).
   */
  private coefficients(from: number, to: number, older: number[], order: number) {
    const sigmas = this.sigmas as Float32Array;
    const [alphaT, sigmaT] = alphaSigma(sigmas[to]);
    const [alphaS0, sigmaS0] = alphaSigma(sigmas[from]);
    const h = f(lambdaOf(alphaT, sigmaT) - lambdaOf(alphaS0, sigmaS0));
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const rks: number[] = older.map((si) => {
      const [a, s] = alphaSigma(sigmas[si]);
      return f(f(lambdaOf(a, s) - lambdaS0) / h);
    });
    rks.push(1);
    const hh = this.predictX0 ? -h : h;
    const hPhi1 = f(Math.expm1(hh));
    let hPhiK = f(f(hPhi1 / hh) - 1);
    let factorial = 1;
    const bh = this.solverType === 'bh1' ? hh : f(Math.expm1(hh));
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((rk) => f(rk ** (i - 1))));
      b.push(f(f(hPhiK * factorial) / bh));
      factorial *= i + 1;
      hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
    }
    return { alphaT, sigmaT, alphaS0, sigmaS0, rks, hPhi1, bh, R, b };
  }

  /** x_t_ = sigma_t / sigma_s0 x - alpha_t h_phi_1 m0 (data prediction) or its noise-prediction twin. */
  private baseCoefficients(c: { alphaT: number; sigmaT: number; alphaS0: number; sigmaS0: number; hPhi1: number; bh: number }) {
    return this.predictX0
      ? { cx: f(c.sigmaT / c.sigmaS0), cm: f(c.alphaT * c.hPhi1), cr: f(c.alphaT * c.bh) }
      : { cx: f(c.alphaT / c.alphaS0), cm: f(c.sigmaT * c.hPhi1), cr: f(c.sigmaT * c.bh) };
  }

  /** UniP: the predictor update of order `order` from sigma[index] to sigma[index + 1]. */
  private predictor(sample: Float32Array, index: number, order: number, result: Float32Array): void {
    const outputs = this.modelOutputs;
    const last = this.solverOrder - 1;
    const m0 = outputs[last] as Float32Array;
    const older = Array.from({ length: order - 1 }, (_, k) => index - (k + 1));
    const c = this.coefficients(index, index + 1, older, order);
    const { cx, cm, cr } = this.baseCoefficients(c);
    let rhos: number[] = [];
    if (order === 2) rhos = [0.5];
    else if (order > 2) rhos = solveF32(c.R.slice(0, -1).map((row) => row.slice(0, -1)), c.b.slice(0, -1));
    const mis = older.map((_, k) => outputs[last - (k + 1)] as Float32Array);
    const rks = c.rks;
    for (let i = 0; i < result.length; i++) {
      const base = f(f(cx * sample[i]) - f(cm * m0[i]));
      let res = 0;
      for (let k = 0; k < mis.length; k++) res = f(res + f(rhos[k] * f(f(mis[k][i] - m0[i]) / rks[k])));
      result[i] = base - f(cr * res);
    }
  }

  /** UniC: corrects `thisSample` (at sigma[index]) using the new converted output and the previous step's state. */
  private corrector(converted: Float32Array, index: number, order: number, result: Float32Array): void {
    const outputs = this.modelOutputs;
    const last = this.solverOrder - 1;
    const m0 = outputs[last] as Float32Array;
    const x = this.lastSample as Float32Array;
    const older = Array.from({ length: order - 1 }, (_, k) => index - (k + 2));
    const c = this.coefficients(index - 1, index, older, order);
    const { cx, cm, cr } = this.baseCoefficients(c);
    const rhos = order === 1 ? [0.5] : solveF32(c.R, c.b);
    const mis = older.map((_, k) => outputs[last - (k + 1)] as Float32Array);
    const rks = c.rks;
    const rhoLast = f(rhos[rhos.length - 1]);
    for (let i = 0; i < result.length; i++) {
      const base = f(f(cx * x[i]) - f(cm * m0[i]));
      let corr = 0;
      for (let k = 0; k < mis.length; k++) corr = f(corr + f(rhos[k] * f(f(mis[k][i] - m0[i]) / rks[k])));
      const d1t = f(converted[i] - m0[i]);
      result[i] = base - f(cr * f(corr + f(rhoLast * d1t)));
    }
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, out?: Float32Array): Float32Array {
    this.requireTimesteps();
    const index = this.currentIndex(timestep, 'last');
    const useCorrector = index > 0 && !this.disableCorrector.includes(index - 1) && this.lastSample !== null;
    const converted = this.spare !== null && this.spare.length === sample.length ? this.spare : new Float32Array(sample.length);
    this.convertModelOutput(modelOutput, sample, index, converted);
    let current = sample;
    if (useCorrector) {
      if (this.corrected.length !== sample.length) this.corrected = new Float32Array(sample.length);
      this.corrector(converted, index, this.thisOrder, this.corrected);
      current = this.corrected;
    }
    // the output that falls off the history becomes the next step's conversion buffer
    this.spare = this.modelOutputs[0];
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1];
    this.modelOutputs[this.solverOrder - 1] = converted;
    if (this.solverOrder === 1) this.spare = null;
    const order = this.lowerOrderFinal ? Math.min(this.solverOrder, this.timesteps.length - index) : this.solverOrder;
    this.thisOrder = Math.min(order, this.lowerOrderNums + 1);
    if (this.thisOrder < 1) throw new SdqError('RUNTIME_ERROR', `${this.className}: internal order ${this.thisOrder} at step ${index}`);
    this.lastSample = copyInto(this.lastSample, current);
    const result = outputBuffer(sample.length, out);
    this.predictor(this.lastSample, index, this.thisOrder, result);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = index + 1;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    const [alpha, sigma] = alphaSigma((this.sigmas as Float32Array)[this.indexForTimestep(timestep, 'last')]);
    const result = outputBuffer(original.length, out);
    for (let i = 0; i < result.length; i++) result[i] = f(alpha * original[i]) + f(sigma * noise[i]);
    return result;
  }
}
