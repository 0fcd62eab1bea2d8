/**
 * Streaming range collectors for calibration: MinMax (plain, symmetric, moving average) as onnxruntime's
 * MinMaxCalibrater, the histogram methods through HistogramCollector, and a many-tensor front end.
 */
import { SdqError } from './errors.js';
import { f32, pairwiseSum32 } from './numeric.js';
import { toFloat32, type FloatInput } from './quantize.js';
import { HistogramCollector, type HistogramCollectorOptions, type TensorRange } from './histogram.js';

export interface MinMaxCollectorOptions {
  /** Make the range [-absmax, absmax] (onnxruntime's `symmetric` extra option). */
  readonly symmetric?: boolean;
  /** Moving average of the per-batch min/max instead of the global min/max (onnxruntime's `moving_average`). */
  readonly movingAverage?: boolean;
  /** Smoothing constant of the moving average, 0..1 (default 0.01). */
  readonly averagingConstant?: number;
}

/** One batch's arrays (each array is one inference output, like onnxruntime's list of ReduceMin/ReduceMax results). */
function batchArrays(values: FloatInput | readonly FloatInput[]): Float32Array[] {
  if (Array.isArray(values) && values.length > 0 && typeof values[0] !== 'number') return (values as readonly FloatInput[]).map(toFloat32);
  return [toFloat32(values as FloatInput)];
}

/** min and max of float32 values; SdqError for empty input, NaN or infinities. */
export function minMax(x: Float32Array): { min: number; max: number } {
  const n = x.length;
  if (n === 0) throw new SdqError('EMPTY_INPUT', 'empty tensor; there is no range to collect');
  // Math.min/max are branch-free and propagate NaN, so one pass finds min, max and any NaN (4x a compare loop)
  let mn0 = x[0];
  let mn1 = x[0];
  let mx0 = x[0];
  let mx1 = x[0];
  const even = n & ~1;
  for (let i = 0; i < even; i += 2) {
    const v = x[i];
    const w = x[i + 1];
    mn0 = Math.min(mn0, v);
    mx0 = Math.max(mx0, v);
    mn1 = Math.min(mn1, w);
    mx1 = Math.max(mx1, w);
  }
  const mn = Math.min(mn0, mn1, x[n - 1]);
  const mx = Math.max(mx0, mx1, x[n - 1]);
  if (!Number.isFinite(mn) || !Number.isFinite(mx)) {
    const bad = x.findIndex((v) => !Number.isFinite(v));
    throw new SdqError('INVALID_RANGE', `value ${x[bad]} at index ${bad}; calibration needs finite values (the model overflows or produces NaN here)`);
  }
  return { min: mn, max: mx };
}

/** Streaming MinMax range of one tensor (onnxruntime MinMaxCalibrater.compute_data / merge_range). */
export class MinMaxCollector {
  readonly symmetric: boolean;
  readonly movingAverage: boolean;
  readonly averagingConstant: number;
  private range: [number, number] | undefined;
  private batches = 0;

  constructor(options: MinMaxCollectorOptions = {}) {
    this.symmetric = options.symmetric ?? false;
    this.movingAverage = options.movingAverage ?? false;
    this.averagingConstant = options.averagingConstant ?? 0.01;
    const c = this.averagingConstant;
    if (this.movingAverage && !(c >= 0 && c <= 1)) throw new SdqError('INVALID_ARGUMENT', `Invalid averaging constant ${c}, which should not be < 0 or > 1.`);
  }

  /** Number of collect() calls so far. */
  get count(): number {
    return this.batches;
  }

  /** Add one batch: an array, or the arrays of several inferences collected together. */
  collect(values: FloatInput | readonly FloatInput[]): void {
    const parts = batchArrays(values).map(minMax);
    let lo: number;
    let hi: number;
    if (this.movingAverage) {
      // np.mean over the batch's per-inference min/max (float32)
      lo = f32(pairwiseSum32(parts.map((p) => p.min)) / parts.length);
      hi = f32(pairwiseSum32(parts.map((p) => p.max)) / parts.length);
    } else {
      lo = Math.min(...parts.map((p) => p.min));
      hi = Math.max(...parts.map((p) => p.max));
    }
    if (this.symmetric) {
      const a = Math.max(Math.abs(lo), Math.abs(hi));
      lo = -a;
      hi = a;
    }
    const old = this.range;
    if (!old) this.range = [lo, hi];
    else if (this.movingAverage) {
      const c = this.averagingConstant;
      this.range = [f32(old[0] + f32(c * f32(lo - old[0]))), f32(old[1] + f32(c * f32(hi - old[1])))];
    } else this.range = [Math.min(old[0], lo), Math.max(old[1], hi)];
    this.batches++;
  }

  computeRange(): TensorRange {
    if (!this.range) throw new SdqError('EMPTY_INPUT', 'No data is collected. Call collect() with at least one batch first.');
    return [this.range[0], this.range[1]];
  }
}

export type CalibrationMethod = 'minmax' | 'entropy' | 'percentile' | 'distribution';
export type RangeCollectorOptions = ({ readonly method: 'minmax' } & MinMaxCollectorOptions) | HistogramCollectorOptions;

/** What every single-tensor collector offers. */
export interface RangeCollector {
  collect(values: FloatInput | readonly FloatInput[]): void;
  computeRange(): TensorRange;
}

/** A collector for one tensor: MinMaxCollector for 'minmax', HistogramCollector otherwise. */
export function createRangeCollector(options: RangeCollectorOptions): RangeCollector {
  if (options.method === 'minmax') return new MinMaxCollector(options);
  return new HistogramCollector(options);
}

function named<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SdqError) throw new SdqError(e.code, `tensor "${name}": ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Ranges of many tensors: one collector per tensor name, created on first sight. Feed it batch by batch
 * (collect(name, values) or collectBatch({ name: values })), then computeRanges().
 */
export class TensorRangeCollector {
  readonly options: RangeCollectorOptions;
  private readonly collectors = new Map<string, RangeCollector>();

  constructor(options: RangeCollectorOptions) {
    this.options = options;
    createRangeCollector(options); // validate the options now, not at the first tensor
  }

  /** Tensor names in the order first collected. */
  get names(): string[] {
    return [...this.collectors.keys()];
  }

  collect(name: string, values: FloatInput | readonly FloatInput[]): void {
    let c = this.collectors.get(name);
    if (!c) {
      c = createRangeCollector(this.options);
      this.collectors.set(name, c);
    }
    const collector = c;
    named(name, () => collector.collect(values));
  }

  collectBatch(batch: Readonly<Record<string, FloatInput | readonly FloatInput[]>> | ReadonlyMap<string, FloatInput | readonly FloatInput[]>): void {
    const entries = batch instanceof Map ? [...batch.entries()] : Object.entries(batch);
    for (const [name, values] of entries) this.collect(name, values);
  }

  computeRange(name: string): TensorRange {
    const c = this.collectors.get(name);
    if (!c) throw new SdqError('NOT_FOUND', `tensor "${name}" was never collected; known tensors: ${this.names.slice(0, 10).join(', ')}${this.collectors.size > 10 ? ', ...' : ''}`);
    return named(name, () => c.computeRange());
  }

  computeRanges(): Record<string, TensorRange> {
    const out: Record<string, TensorRange> = {};
    for (const name of this.collectors.keys()) out[name] = this.computeRange(name);
    return out;
  }
}
