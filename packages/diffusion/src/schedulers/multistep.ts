import { SdqError } from '@sdq/quant';
import type { ConfigReader, TimestepSpacing, TrainSchedule } from './config.js';
import { f, karrasSigmas, exponentialSigmas, npArange, npInterpIndex, npLinspace, roundHalfEven, sigmaToT } from './math.js';
import { type SigmaSpacing, trainSigmas } from './sigmas.js';

/** alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma alpha_t (VP parameterisation of a VE sigma), float32. */
export function alphaSigma(sigma: number): [number, number] {
  const alpha = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  return [alpha, f(sigma * alpha)];
}

/** lambda = log(alpha_t) - log(sigma_t), the half log-SNR (float32). */
export function lambdaOf(alpha: number, sigma: number): number {
  return f(f(Math.log(alpha)) - f(Math.log(sigma)));
}

/**
 * Timesteps and sigmas of the multistep solvers (DPM-Solver++, UniPC): the schedule is spaced over n + 1 points and
 * the last dropped; Karras/exponential sigmas map back to (rounded) timesteps.
 */
export function multistepSchedule(
  className: string,
  schedule: TrainSchedule,
  n: number,
  options: {
    spacing: TimestepSpacing;
    stepsOffset: number;
    lastTimestep: number;
    trailingRatioBase: number;
    sigmaSpacing: SigmaSpacing;
    finalSigmasType: 'zero' | 'sigma_min';
    roundKarras: boolean;
    /** UniPC's sigma_min option for Karras (final) is the last Karras sigma. */
    finalIsLastKarras: boolean;
    bounds?: { sigmaMin: number | null; sigmaMax: number | null };
  },
): { timesteps: number[]; sigmas: Float32Array } {
  const { spacing, stepsOffset, lastTimestep } = options;
  let timesteps: number[];
  if (spacing === 'linspace') {
    timesteps = Array.from(npLinspace(0, lastTimestep - 1, n + 1), roundHalfEven).reverse().slice(0, -1);
  } else if (spacing === 'leading') {
    const ratio = Math.floor(lastTimestep / (n + 1));
    timesteps = Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
  } else if (spacing === 'trailing') {
    timesteps = Array.from(npArange(lastTimestep, 0, -options.trailingRatioBase / n), (t) => roundHalfEven(t) - 1);
  } else {
    throw new SdqError('INVALID_ARGUMENT', `${className}: unknown timestep_spacing ${String(spacing)}`);
  }
  const table = trainSigmas(schedule.alphasCumprod);
  const logSigmas = table.map(Math.log);
  const ac0 = schedule.alphasCumprod[0];
  const sigmaMinTrain = f(Math.sqrt(f(f(1 - ac0) / ac0)));
  let sigmas: number[];
  let last: number;
  if (options.sigmaSpacing === 'interpolated') {
    sigmas = timesteps.map((t) => npInterpIndex(t, table));
    last = options.finalSigmasType === 'sigma_min' ? sigmaMinTrain : 0;
  } else {
    const sigmaMin = options.bounds?.sigmaMin ?? table[0];
    const sigmaMax = options.bounds?.sigmaMax ?? table[table.length - 1];
    sigmas = Array.from(options.sigmaSpacing === 'karras' ? karrasSigmas(sigmaMin, sigmaMax, n) : exponentialSigmas(sigmaMin, sigmaMax, n));
    const ts = sigmas.map((s) => sigmaToT(s, logSigmas));
    timesteps = options.sigmaSpacing === 'karras' && options.roundKarras ? ts.map(roundHalfEven) : ts.map(Math.trunc);
    last = options.finalSigmasType === 'zero' ? 0 : options.finalIsLastKarras ? sigmas[sigmas.length - 1] : sigmaMinTrain;
  }
  return { timesteps, sigmas: Float32Array.from([...sigmas, last]) };
}

/** Reads lambda_min_clipped and returns diffusers' last_timestep = T - searchsorted(flip(lambda_t), lambda_min_clipped). */
export function lastTimestepFor(r: ConfigReader, schedule: TrainSchedule): number {
  const clip = r.number('lambda_min_clipped', -Infinity);
  if (clip === -Infinity) return schedule.numTrainTimesteps;
  const ac = schedule.alphasCumprod;
  const lambdas = Array.from(ac, (a) => f(f(Math.log(f(Math.sqrt(a)))) - f(Math.log(f(Math.sqrt(f(1 - a)))))));
  const flipped = lambdas.reverse();
  let idx = 0;
  while (idx < flipped.length && flipped[idx] < clip) idx++;
  return schedule.numTrainTimesteps - idx;
}
