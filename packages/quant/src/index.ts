export { SdqError, isSdqError } from './errors.js';
export type { SdqErrorCode } from './errors.js';
export { DataType, DTYPES, dtypeInfo, byteSize, typedArrayFromBytes, shapeSize } from './dtypes.js';
export type { DTypeInfo, TypedArray, TypedArrayConstructor } from './dtypes.js';
export { roundHalfEven, FLOAT32_TINY, FLOAT32_MAX } from './numeric.js';
export { quantRange, quantTypeInfo } from './qtypes.js';
export type { QuantTypeName, QuantTypeLike, QuantTypeInfo, QuantizedArray, QuantRange, QuantRangeOptions } from './qtypes.js';
export { computeScaleZeroPoint } from './scale.js';
export type { ScaleZeroPoint, ScaleZeroPointOptions } from './scale.js';
export {
  quantize,
  quantizeReference,
  quantizeValue,
  dequantize,
  quantizePerAxis,
  dequantizePerAxis,
  quantizeData,
  quantizeDataPerAxis,
} from './quantize.js';
export type { FloatInput, QuantizeDataOptions, QuantizedData, PerAxisQuantizedData } from './quantize.js';
export {
  float32ToFloat16,
  float16ToFloat32,
  float32ToFloat16Clamped,
  float32ToBfloat16,
  bfloat16ToFloat32,
  float32BitsToFloat16Bits,
  float16BitsToFloat32Bits,
  float32BitsToBfloat16Bits,
} from './float16.js';
export type { Float16ClampOptions } from './float16.js';
export { HistogramCollector, histogramUniform, histogramEdges, percentileRange, entropyRange } from './histogram.js';
export type { HistogramMethod, HistogramCollectorOptions, HistogramState, DistributionResult, TensorRange } from './histogram.js';
export { MinMaxCollector, TensorRangeCollector, createRangeCollector, minMax } from './collectors.js';
export type { MinMaxCollectorOptions, CalibrationMethod, RangeCollectorOptions, RangeCollector } from './collectors.js';
export { packInt4, unpackInt4 } from './int4.js';
export { mse, maxAbsError, sqnr, psnr, ssim } from './metrics.js';
export type { PsnrOptions, SsimOptions } from './metrics.js';
export { mulberry32 } from './random.js';
