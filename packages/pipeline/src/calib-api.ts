// The @sdq/calib surface this package uses, in one place.
export {
  captureUnetInputs, quantizeUnet, collectRanges, openCalibrationData, writeRangesJson, writeCalibrationJson,
  DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, TENSORRT_UNET_INT8_POLICY, DEFAULT_UNET_CALIBRATION_METHOD,
  openCalibrationPasses, mergeExtrema, mergeHistogramCounts, rangesFromPasses, DEFAULT_UNET_METHOD_OPTIONS, UNET_SENSITIVE_LAYERS,
} from '@sdq/calib';
export type { GenerateWithUnetHook, QuantizeUnetOptions, CalibrationMethod, CollectRangesOptions, RangesFile, ExtremaPass, HistogramPass, CalibrationPasses } from '@sdq/calib';
import type { QuantizeUnetOptions } from '@sdq/calib';
export type QdqPolicyLike = QuantizeUnetOptions['policy'];
export type MethodOptions = NonNullable<QuantizeUnetOptions['methodOptions']>;
