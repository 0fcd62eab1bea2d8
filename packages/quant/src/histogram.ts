/**
 * Activation statistics exactly as onnxruntime's HistogramCollector (onnxruntime/python/tools/quantization/calibrate.py,
 * 1.30): histograms that grow and re-bin when a later batch widens the range, then range selection by entropy
 * (KL divergence), percentile or distribution. numpy's float32 arithmetic is reproduced step by step (numeric.ts).
 */
import { SdqError } from './errors.js';
import { arange32, f32, floorDivide32, linspace32, pairwiseSum32, pairwiseSum64 } from './numeric.js';
import { toFloat32, type FloatInput } from './quantize.js';

export type HistogramMethod = 'entropy' | 'percentile' | 'distribution';
/** Refuse to grow a histogram beyond this many bins (onnxruntime would try and run out of memory or fail). */
const MAX_BINS = 1 << 24;

/** Largest histogram the entropy search accepts: it is O(bins^2) (65536 bins take seconds). */
const MAX_ENTROPY_BINS = 1 << 16;

/** A calibrated range [min, max]. */
export type TensorRange = readonly [number, number];

export interface HistogramCollectorOptions {
  readonly method: HistogramMethod;
  /** percentile: histogram of |x| and a range symmetric around 0 (onnxruntime default for percentile: true). Entropy and distribution ignore it, as onnxruntime does. */
  readonly symmetric?: boolean;
  /** Initial bins (defaults as onnxruntime's create_calibrator: entropy 128, percentile 2048, distribution 2048). */
  readonly numBins?: number;
  /** entropy: bins of the quantized distribution the KL divergence compares against (default 128). */
  readonly numQuantizedBins?: number;
  /** percentile: the percentile to keep, 0..100 (default 99.999). */
  readonly percentile?: number;
  /** distribution: 'same' (default) or 'p3'. */
  readonly scenario?: 'same' | 'p3';
}

export interface HistogramState {
  /** Counts per bin (integers). */
  readonly hist: Float64Array;
  /** hist.length + 1 bin edges (float32). */
  readonly edges: Float32Array;
  /** min and max of the raw values seen (float32). */
  readonly min: number;
  readonly max: number;
  /** Half-width of the symmetric histogram range (absent for the |x| histogram of symmetric percentile). */
  readonly threshold?: number;
}

export interface DistributionResult {
  readonly avg: number;
  readonly std: number;
  readonly hist: Float64Array;
  readonly edges: Float32Array;
  /** Lowest and highest bin edge (onnxruntime's TensorData lowest/highest for this method). */
  readonly range: TensorRange;
}

/** np.histogram(data, n, range=(first, last)) with float32 data and edges: the uniform-bin fast path, NaN dropped. */
export function histogramUniform(data: Float32Array, numBins: number, first: number, last: number): { hist: Float64Array; edges: Float32Array } {
  let lo = f32(first);
  let hi = f32(last);
  if (lo === hi) {
    lo = f32(lo - 0.5);
    hi = f32(hi + 0.5);
  }
  const edges = linspace32(lo, hi, numBins + 1);
  const hist = new Float64Array(numBins);
  const denom = f32(hi - lo);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!(x >= lo && x <= hi)) continue;
    let idx = f32(f32(f32(x - lo) / denom) * numBins) | 0; // >= 0 and < 2^24: truncation as astype(intp)
    if (idx === numBins) idx--;
    if (x < edges[idx]) idx--;
    else if (idx !== numBins - 1 && x >= edges[idx + 1]) idx++;
    hist[idx]++;
  }
  return { hist, edges };
}

/** np.histogram(data, bins=edges) for explicit monotonic edges: [e_i, e_i+1) per bin, the last bin closed; NaN dropped. */
export function histogramEdges(data: Float32Array, edges: Float32Array): Float64Array {
  const n = edges.length - 1;
  const hist = new Float64Array(n);
  const first = edges[0];
  const last = edges[n];
  const inverseWidth = n / (last - first);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!(x >= first && x <= last)) continue;
    // largest j with edges[j] <= x: start from the uniform-width guess (the edges are linspace + arange), walk to it
    let a = ((x - first) * inverseWidth) | 0;
    if (a > n) a = n;
    while (a > 0 && edges[a] > x) a--;
    while (a < n && edges[a + 1] <= x) a++;
    hist[a === n ? n - 1 : a]++;
  }
  return hist;
}

/** Concatenate one batch (an array or several arrays of the same tensor, as onnxruntime's list of outputs). */
export function batchValues(values: FloatInput | readonly FloatInput[]): Float32Array {
  if (!Array.isArray(values) || values.length === 0 || typeof values[0] === 'number') return toFloat32(values as FloatInput);
  const parts = (values as readonly FloatInput[]).map(toFloat32);
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** np.nanmin / np.nanmax of a batch; SdqError for no values, only NaN, or infinities (np.histogram rejects an infinite range). */
function finiteMinMax(x: Float32Array): { min: number; max: number } {
  if (x.length === 0) throw new SdqError('EMPTY_INPUT', 'empty batch; collect at least one value per batch');
  let mn = Infinity;
  let mx = -Infinity;
  let seen = false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    seen = true;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (!seen) throw new SdqError('INVALID_RANGE', `batch of ${x.length} values is all NaN; there is no range to histogram`);
  if (mn === -Infinity || mx === Infinity) {
    throw new SdqError('INVALID_RANGE', `batch contains ${mn === -Infinity ? '-Infinity' : 'Infinity'}; a histogram needs finite values (the model overflows here)`);
  }
  return { min: mn, max: mx };
}

function checkOptions(o: Required<Omit<HistogramCollectorOptions, 'method'>> & { method: string }): void {
  if (o.method !== 'entropy' && o.method !== 'percentile' && o.method !== 'distribution') {
    throw new SdqError('INVALID_ARGUMENT', `unknown histogram method ${JSON.stringify(o.method)}; use 'entropy', 'percentile' or 'distribution'`);
  }
  if (!Number.isInteger(o.numBins) || o.numBins < 1) throw new SdqError('INVALID_ARGUMENT', `numBins must be a positive integer, got ${o.numBins}`);
  if (o.method === 'entropy' && (!Number.isInteger(o.numQuantizedBins) || o.numQuantizedBins < 2)) {
    throw new SdqError('INVALID_ARGUMENT', `numQuantizedBins must be an integer >= 2, got ${o.numQuantizedBins}`);
  }
  if (o.method === 'percentile' && !(o.percentile >= 0 && o.percentile <= 100)) {
    throw new SdqError('INVALID_ARGUMENT', `Invalid percentile ${o.percentile}. Must be in range 0 <= percentile <= 100.`);
  }
  if (o.method === 'distribution') {
    if (o.numBins < 512) throw new SdqError('INVALID_ARGUMENT', `Invalid num_bins ${o.numBins} for distribution. Must be in range 512 <= num_bins.`);
    if (o.scenario !== 'same' && o.scenario !== 'p3') throw new SdqError('INVALID_ARGUMENT', `Invalid scenario ${JSON.stringify(o.scenario)}. Must be 'same' or 'p3'.`);
  }
}

/**
 * Streaming histogram of one tensor. Feed batches with collect() (several arrays in one call count as one batch, like
 * onnxruntime's list of outputs), then computeRange(). To reproduce onnxruntime's calibrate() exactly, pass all arrays
 * of a tensor that onnxruntime would collect together in one collect() call: later batches re-bin the histogram.
 */
export class HistogramCollector {
  readonly method: HistogramMethod;
  readonly symmetric: boolean;
  readonly numBins: number;
  readonly numQuantizedBins: number;
  readonly percentile: number;
  readonly scenario: 'same' | 'p3';
  private state: HistogramState | undefined;

  constructor(options: HistogramCollectorOptions) {
    const method = options.method;
    this.method = method;
    this.symmetric = options.symmetric ?? method === 'percentile';
    this.numBins = options.numBins ?? (method === 'entropy' ? 128 : 2048);
    this.numQuantizedBins = options.numQuantizedBins ?? 128;
    this.percentile = options.percentile ?? 99.999;
    this.scenario = options.scenario ?? 'same';
    checkOptions(this);
  }

  /** The histogram so far (undefined before the first batch). */
  get histogram(): HistogramState | undefined {
    return this.state;
  }

  /** Add one batch. */
  collect(values: FloatInput | readonly FloatInput[]): void {
    const x = batchValues(values);
    if (this.method === 'percentile' && this.symmetric) this.collectAbsolute(x);
    else this.collectValue(x);
  }

  /** onnxruntime collect_absolute_value: histogram of |x|, extended by whole bins of the first width. */
  private collectAbsolute(x: Float32Array): void {
    const { min, max } = finiteMinMax(x);
    const abs = new Float32Array(x.length);
    let amin = Infinity;
    let amax = 0;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]);
      abs[i] = a;
      if (a < amin) amin = a;
      if (a > amax) amax = a;
    }
    const old = this.state;
    if (!old) {
      const { hist, edges } = histogramUniform(abs, this.numBins, amin, amax);
      this.state = { hist, edges, min, max };
      return;
    }
    let edges = old.edges;
    const lastEdge = edges[edges.length - 1];
    if (amax > lastEdge) {
      const width = f32(edges[1] - edges[0]);
      const count = Math.ceil(f32(f32(f32(amax + width) - f32(lastEdge + width)) / width));
      if (!(width > 0) || !(count + edges.length <= MAX_BINS)) {
        throw new SdqError('INVALID_RANGE', `histogram of |x| would grow from ${edges.length - 1} bins by ${count} (max ${lastEdge} -> ${amax}); collect a representative first batch or use method 'minmax'`);
      }
      const extra = arange32(f32(lastEdge + width), f32(amax + width), width);
      const grown = new Float32Array(edges.length + extra.length);
      grown.set(edges);
      grown.set(extra, edges.length);
      edges = grown;
    }
    const hist = histogramEdges(abs, edges);
    for (let i = 0; i < old.hist.length; i++) hist[i] += old.hist[i];
    this.state = { hist, edges, min: Math.min(old.min, min), max: Math.max(old.max, max) };
  }

  /** onnxruntime collect_value + merge_histogram: symmetric [-t, t] histogram, widened by whole old bins. */
  private collectValue(x: Float32Array): void {
    const { min, max } = finiteMinMax(x);
    const threshold = Math.max(Math.abs(min), Math.abs(max));
    const old = this.state;
    if (!old) {
      const { hist, edges } = histogramUniform(x, this.numBins, -threshold, threshold);
      this.state = { hist, edges, min, max, threshold };
      return;
    }
    const oldT = old.threshold ?? 0;
    const mn = Math.min(old.min, min);
    const mx = Math.max(old.max, max);
    if (threshold <= oldT) {
      const { hist } = histogramUniform(x, old.hist.length, -oldT, oldT);
      for (let i = 0; i < hist.length; i++) hist[i] += old.hist[i];
      this.state = { hist, edges: old.edges, min: mn, max: mx, threshold: oldT };
      return;
    }
    if (oldT === 0) {
      const { hist, edges } = histogramUniform(x, old.hist.length, -threshold, threshold);
      for (let i = 0; i < hist.length; i++) hist[i] += old.hist[i];
      this.state = { hist, edges, min: mn, max: mx, threshold };
      return;
    }
    const oldBins = old.hist.length;
    const oldStride = f32(f32(2 * oldT) / oldBins);
    const half = Math.trunc(f32(floorDivide32(f32(threshold - oldT), oldStride) + 1));
    const newBins = oldBins + 2 * half;
    if (!Number.isFinite(half) || newBins > MAX_BINS) {
      throw new SdqError(
        'INVALID_RANGE',
        `histogram would grow from ${oldBins} to ${newBins} bins (range ${oldT} -> ${threshold}); the first batch's range is far too narrow for later ones. Collect a representative first batch or use method 'minmax'`,
      );
    }
    const newT = f32(f32(half * oldStride) + oldT);
    const { hist, edges } = histogramUniform(x, newBins, -newT, newT);
    for (let i = 0; i < oldBins; i++) hist[half + i] += old.hist[i];
    this.state = { hist, edges, min: mn, max: mx, threshold: newT };
  }

  private collected(): HistogramState {
    if (!this.state) throw new SdqError('EMPTY_INPUT', 'Histogram has not been collected. Call collect() with at least one batch first.');
    return this.state;
  }

  /** The calibrated range: entropy (min KL divergence), percentile, or distribution's lowest/highest edge. */
  computeRange(): TensorRange {
    const h = this.collected();
    if (this.method === 'percentile') return percentileRange(h, this.percentile, this.symmetric);
    if (this.method === 'entropy') return entropyRange(h, this.numQuantizedBins);
    return this.computeDistribution().range;
  }

  /** onnxruntime compute_distribution: mean and standard deviation of the histogram (for float8 scales). */
  computeDistribution(): DistributionResult {
    const h = this.collected();
    if (this.method !== 'distribution') throw new SdqError('UNSUPPORTED', `computeDistribution() needs method 'distribution', this collector uses '${this.method}'`);
    const { avg, std } = histogramAvgStd(h.hist, h.edges, this.scenario === 'same' ? 1 : 1 / 3);
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of h.edges) {
      if (e < lo) lo = e;
      if (e > hi) hi = e;
    }
    return { avg, std, hist: h.hist, edges: h.edges, range: [lo, hi] };
  }
}

/** First index i with cdf[i] >= v (np.searchsorted side='left'). */
function searchLeft(cdf: Float64Array, v: number): number {
  let a = 0;
  let b = cdf.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (cdf[m] < v) a = m + 1;
    else b = m;
  }
  return a;
}

/** onnxruntime compute_percentile. */
export function percentileRange(h: HistogramState, percentile: number, symmetric: boolean): TensorRange {
  let total = 0;
  for (const c of h.hist) total += c;
  const cdf = new Float64Array(h.hist.length);
  let acc = 0;
  for (let i = 0; i < h.hist.length; i++) {
    acc += h.hist[i] / total;
    cdf[i] = acc;
  }
  let lo: number;
  let hi: number;
  if (symmetric) {
    const idx = searchLeft(cdf, percentile / 100);
    lo = -h.edges[idx];
    hi = h.edges[idx];
  } else {
    const cut = (100 - percentile) / 200;
    lo = h.edges[searchLeft(cdf, cut)];
    hi = h.edges[searchLeft(cdf, 1 - cut)];
  }
  if (lo < h.min) lo = h.min;
  if (hi > h.max) hi = h.max;
  return [lo, hi];
}

/**
 * onnxruntime quant_utils.smooth_distribution in float32 of p[0, n) into out[0, n): zeros become eps, the mass is
 * taken off the non-zeros. False where p has no non-zero (onnxruntime returns None).
 */
function smoothDistribution(p: Float64Array, n: number, out: Float32Array): boolean {
  let zeros = 0;
  for (let i = 0; i < n; i++) if (p[i] === 0) zeros++;
  const nonzeros = n - zeros;
  if (nonzeros === 0) return false;
  const eps = 0.0001;
  const eps1 = (eps * zeros) / nonzeros;
  if (!(eps1 < 1)) throw new SdqError('RUNTIME_ERROR', `cannot smooth a distribution with ${zeros} zero and ${nonzeros} non-zero bins (onnxruntime asserts here); use fewer bins`);
  const addZero = f32(eps);
  const addNonzero = f32(-eps1);
  for (let i = 0; i < n; i++) out[i] = f32(f32(p[i]) + (p[i] === 0 ? addZero : addNonzero));
  return true;
}

/**
 * scipy.stats.entropy(p, q) on float32 inputs p[0, n), q[0, n): both normalized in float32, sum(p * log(p / q))
 * summed as numpy float32 (terms in `vec`).
 */
function klDivergence32(p: Float32Array, q: Float32Array, n: number, vec: Float32Array): number {
  const sp = pairwiseSum32(p, 0, n);
  const sq = pairwiseSum32(q, 0, n);
  // Math looked up once: in a vm context (jest) each global lookup in this loop costs more than the arithmetic
  const log = Math.log;
  for (let i = 0; i < n; i++) {
    const pk = f32(p[i] / sp);
    const qk = f32(q[i] / sq);
    vec[i] = pk > 0 && qk > 0 ? pk * log(pk / qk) : pk === 0 && qk >= 0 ? 0 : Infinity;
  }
  return pairwiseSum32(vec, 0, n);
}

/** onnxruntime get_entropy_threshold: the [edge, edge] window around the zero bin with the least KL divergence. */
export function entropyRange(h: HistogramState, numQuantizedBins: number): TensorRange {
  const hist = h.hist;
  const edges = h.edges;
  const numBins = hist.length;
  const zeroBin = Math.floor(numBins / 2);
  const halfQuant = Math.floor(numQuantizedBins / 2);
  if (numBins > MAX_ENTROPY_BINS) {
    throw new SdqError(
      'INVALID_RANGE',
      `entropy search over ${numBins} bins would take O(bins^2) time; the histogram grew because later batches were much wider than the first (range ${h.threshold ?? '?'}). Collect a representative first batch (or pass all arrays in one collect call), or use method 'percentile' or 'minmax'`,
    );
  }
  if (zeroBin < halfQuant) {
    throw new SdqError('INVALID_ARGUMENT', `histogram has ${numBins} bins, fewer than numQuantizedBins ${numQuantizedBins}; use more bins`);
  }
  // prefix sums for the outlier counts
  const prefix = new Float64Array(numBins + 1);
  for (let i = 0; i < numBins; i++) prefix[i + 1] = prefix[i] + hist[i];
  let bestKl = Infinity;
  let bestIndex = -1;
  let best: [number, number] = [0, 0];
  // Buffers for the widest window, reused by every candidate: allocating them per candidate was most of the search.
  const p = new Float64Array(numBins);
  const q = new Float64Array(numBins);
  const quantized = new Float64Array(numQuantizedBins);
  const ps = new Float32Array(numBins);
  const qs = new Float32Array(numBins);
  const terms = new Float32Array(numBins);
  for (let i = halfQuant; i <= zeroBin; i++) {
    const start = zeroBin - i;
    const end = Math.min(zeroBin + i + 1, numBins);
    const size = end - start;
    for (let j = 0; j < size; j++) p[j] = hist[start + j];
    p[0] += prefix[start];
    p[size - 1] += prefix[numBins] - prefix[end];
    const merged = Math.floor(size / numQuantizedBins);
    for (let k = 0; k < numQuantizedBins; k++) {
      let s = 0;
      for (let j = k * merged; j < k * merged + merged; j++) s += hist[start + j];
      quantized[k] = s;
    }
    for (let j = numQuantizedBins * merged; j < size; j++) quantized[numQuantizedBins - 1] += hist[start + j];
    q.fill(0, 0, size);
    for (let k = 0; k < numQuantizedBins; k++) {
      const from = k * merged;
      const to = from + merged;
      let norm = 0;
      for (let j = from; j < to; j++) if (p[j] !== 0) norm++;
      if (norm !== 0) {
        const v = Math.trunc(quantized[k] / norm); // assigned into an int64 array
        for (let j = from; j < to; j++) q[j] = v;
      }
    }
    const kl = smoothDistribution(p, size, ps) && smoothDistribution(q, size, qs) ? f32(klDivergence32(ps, qs, size, terms)) : Infinity;
    if (bestIndex < 0 || kl < bestKl) {
      bestKl = kl;
      bestIndex = i;
      best = [edges[start], edges[end]];
    }
  }
  let [lo, hi] = best;
  if (lo < h.min) lo = h.min;
  if (hi > h.max) hi = h.max;
  return [lo, hi];
}

/** onnxruntime HistogramCollector._avg_std: mean and std of bin centers weighted by counts (power 1/3 for 'p3'). */
export function histogramAvgStd(hist: Float64Array, edges: Float32Array, power: number): { avg: number; std: number } {
  const n = hist.length;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = f32(f32(edges[i] + edges[i + 1]) * 0.5);
  if (power !== 1) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const fact = v === 0 ? 1 : Math.sign(v);
      values[i] = f32(f32(Math.pow(Math.abs(v), power)) * fact);
    }
  }
  let total = 0;
  for (const c of hist) total += c;
  const weighted = new Float64Array(n);
  const weightedSq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    weighted[i] = hist[i] * values[i];
    weightedSq[i] = hist[i] * f32(values[i] * values[i]);
  }
  const avg = pairwiseSum64(weighted) / total;
  const std = Math.sqrt(pairwiseSum64(weightedSq) / total - avg * avg);
  return { avg: f32(avg), std: f32(std) };
}
