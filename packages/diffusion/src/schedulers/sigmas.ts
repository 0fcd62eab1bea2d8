import { SdqError } from '@sdq/quant';
import type { ConfigReader, TimestepSpacing, TrainSchedule } from './config.js';
import { exponentialSigmas, f, karrasSigmas, npInterpIndex, sigmaToT } from './math.js';

/** The training noise levels sigma_t = sqrt((1 - abar_t) / abar_t), float32 like torch. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

export type SigmaSpacing = 'interpolated' | 'karras' | 'exponential';

/** Reads use_karras_sigmas / use_exponential_sigmas / use_beta_sigmas (beta sigmas need scipy's beta ppf: unsupported). */
export function readSigmaSpacing(r: ConfigReader, exponential = true): SigmaSpacing {
  const karras = r.bool('use_karras_sigmas', false);
  const expo = exponential ? r.bool('use_exponential_sigmas', false) : false;
  r.unsupported('use_beta_sigmas', false);
  if (karras && expo) {
    throw new SdqError('INVALID_ARGUMENT', `${r.className}: only one of use_karras_sigmas and use_exponential_sigmas can be true`);
  }
  return karras ? 'karras' : expo ? 'exponential' : 'interpolated';
}

/**
 * Sigma schedule of the k-diffusion style schedulers (Euler, Euler ancestral, Heun, LMS): sigmas interpolated at the
 * timesteps (numpy float64), optionally re-spaced (Karras / exponential) with timesteps recovered by `_sigma_to_t`.
 * Returns float64 sigmas (without the final one) and float64 timesteps.
 */
export function discreteSigmas(
  schedule: TrainSchedule,
  timesteps: number[],
  spacing: SigmaSpacing,
  n: number,
  bounds: { sigmaMin: number | null; sigmaMax: number | null } = { sigmaMin: null, sigmaMax: null },
): { sigmas: number[]; timesteps: number[] } {
  const table = trainSigmas(schedule.alphasCumprod);
  const logSigmas = table.map(Math.log);
  let sigmas = timesteps.map((t) => npInterpIndex(t, table));
  if (spacing === 'interpolated') return { sigmas, timesteps };
  const sigmaMin = bounds.sigmaMin ?? sigmas[sigmas.length - 1];
  const sigmaMax = bounds.sigmaMax ?? sigmas[0];
  sigmas = Array.from(spacing === 'karras' ? karrasSigmas(sigmaMin, sigmaMax, n) : exponentialSigmas(sigmaMin, sigmaMax, n));
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/** init_noise_sigma of the sigma schedulers: max sigma for linspace/trailing, sqrt(max^2 + 1) for leading (float32). */
export function initSigma(sigmas: Float32Array, spacing: TimestepSpacing): number {
  let max = 0;
  for (const s of sigmas) if (s > max) max = s;
  return spacing === 'leading' ? f(Math.sqrt(f(f(max * max) + 1))) : max;
}

/** 1 / sqrt(sigma^2 + 1), the k-diffusion input scaling (float32). */
export function inputScale(sigma: number): number {
  return f(Math.sqrt(f(f(sigma * sigma) + 1)));
}
