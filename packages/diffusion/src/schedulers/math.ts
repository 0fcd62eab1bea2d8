/**
 * Numerics shared by the schedulers, written to match what diffusers computes: numpy float64 where diffusers uses
 * numpy, torch float32 (every operation rounded to float32, `f = Math.fround`) where diffusers uses float32 tensors.
 */

/** Round to float32, the precision of every torch tensor operation the schedulers emulate. */
export const f = Math.fround;

/** numpy's `round` (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch.linspace(start, end, steps, dtype=float32) on CPU: step in float32, first half from start, second half from end. */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  return out;
}

/** numpy.linspace(start, stop, num, endpoint) in float64 (y = i * step + start, last value = stop when endpoint). */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): Float64Array {
  const out = new Float64Array(num);
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) out[i] = i * step + start;
  } else {
    for (let i = 0; i < num; i++) out[i] = i * delta + start;
  }
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** numpy.arange(start, stop, step) for floats: length ceil((stop - start) / step), values start + i * (start + step - start). */
export function npArange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = start + i * delta;
  return out;
}

/** numpy.interp(x, arange(len(fp)), fp) in float64 (fp given as float32 values). */
export function npInterpIndex(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (x <= 0) return fp[0];
  if (x >= n - 1) return fp[n - 1];
  const j = Math.floor(x);
  const slope = (fp[j + 1] - fp[j]) / 1;
  const y = slope * (x - j) + fp[j];
  return Number.isNaN(y) ? slope * (x - (j + 1)) + fp[j + 1] : y;
}

/** torch.cumprod on float32 (CPU accumulates in double, stores float32). */
export function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** diffusers' betas_for_alpha_bar (cosine, "squaredcos_cap_v2"): float64 math, stored as float32. */
export function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float32Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/** diffusers' rescale_zero_terminal_snr (arXiv 2305.08891, Algorithm 1) in float32. */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = new Float32Array(n);
  for (let i = 0; i < n; i++) alphas[i] = f(1 - betas[i]);
  const cumprod = cumprodF32(alphas);
  const sqrtBar = new Float32Array(n);
  for (let i = 0; i < n; i++) sqrtBar[i] = Math.sqrt(cumprod[i]);
  const first = sqrtBar[0];
  const last = sqrtBar[n - 1];
  const scale = f(first / f(first - last));
  const bar = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const shifted = f(sqrtBar[i] - last);
    const scaled = f(shifted * scale);
    bar[i] = f(scaled * scaled);
  }
  const out = new Float32Array(n);
  out[0] = f(1 - bar[0]);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(bar[i] / bar[i - 1]));
  return out;
}

/** Karras et al. (2022) eq. 5 noise levels, rho = 7, in float64 (diffusers `_convert_to_karras`). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  const rho = 7;
  const ramp = npLinspace(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (maxInv + ramp[i] * (minInv - maxInv)) ** rho;
  return out;
}

/** Exponentially spaced noise levels (diffusers `_convert_to_exponential`), float64. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  const logs = npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
  return logs.map(Math.exp);
}

/** diffusers `_sigma_to_t`: fractional timestep of `sigma` by interpolating log-sigmas (float32 table), float64 result. */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/** Solves the small system A x = b in float32 with partial pivoting (torch.linalg.solve on float32 scalars). */
export function solveF32(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.map(f), f(b[i])]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const factor = f(m[r][col] / m[col][col]);
      for (let c = col; c <= n; c++) m[r][c] = f(m[r][c] - f(factor * m[col][c]));
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s = f(s - f(m[r][c] * x[c]));
    x[r] = f(s / m[r][r]);
  }
  return x;
}
