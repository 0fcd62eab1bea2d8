import { SdqError } from '@sdq/quant';
import type { Range } from './stats.js';

export interface HistogramMethodOptions {
  /** Histogram bins (onnxruntime defaults: 128 for entropy, 2048 for percentile). */
  readonly numBins?: number;
  /** Entropy: quantized bins the KL search compares against (onnxruntime default 128). */
  readonly numQuantizedBins?: number;
  /** Percentile: the percentile kept (onnxruntime default 99.999). */
  readonly percentile?: number;
  readonly symmetric?: boolean;
}

export interface HistogramRanges {
  collect(name: string, values: Float32Array): void;
  ranges(): Record<string, Range>;
  readonly options: Record<string, number | boolean | string>;
}

export function createHistogramRanges(method: 'percentile' | 'entropy', _options: HistogramMethodOptions): HistogramRanges {
  throw new SdqError('UNSUPPORTED', `${method} calibration needs @sdq/quant's HistogramCollector`);
}
