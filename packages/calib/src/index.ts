// @sdq/calib public API: calibration data readers, activation statistics, capture, and the INT8 UNet recipe.
export type { CalibTensor, Feeds } from './tensor.js';
export { makeTensor } from './tensor.js';
export { readNpy, writeNpy, decodeNpy, encodeNpy, parseNpyHeader } from './npy.js';
export { readNpz, writeNpz, openNpz, NpzArchive, NpzWriter, DEFAULT_MAX_ARRAY_BYTES } from './npz.js';
export type { NpzMember, NpzReadOptions } from './npz.js';
export { readTensorProto, decodeTensorProto, readTestDataSet, listTestDataSets } from './tensorproto.js';
export type { NamedTensorProto } from './tensorproto.js';
export { readRaw } from './raw.js';
export { readPrompts, parsePrompts, defaultPrompts, defaultPromptsPath, shapesPromptsPath } from './prompts.js';
export {
  openCalibrationData,
  readerFromSource,
  npzSampleSource,
  testDataSetSource,
  arraySampleSource,
  checkFeeds,
  concatAxis0,
  seededShuffle,
} from './reader.js';
export type { CalibrationDataReader, ModelInputSpec, ReaderOptions, SampleSource } from './reader.js';
export { collectRanges, selectFloatTensors, collectExtrema, collectHistogramCounts, mergeExtrema, mergeHistogramCounts, rangesFromPasses, openCalibrationPasses } from './stats.js';
export type { CalibrationMethod, CollectRangesOptions, Range, RangesFile, ExtremaPass, HistogramPass, TensorExtrema, CalibrationPasses, CalibrationPassesOptions } from './stats.js';
export type { HistogramMethodOptions } from './histogram.js';
export { loadModelForRuntime, externalDataFiles, modelInputSpecs } from './model-io.js';
export type { LoadedModel } from './model-io.js';
export { toCalibrationJson, writeRangesJson, writeCalibrationJson, readRanges } from './artefacts.js';
export type { CalibrationJson } from './artefacts.js';
export {
  quantizeUnet,
  DEFAULT_UNET_INT8_POLICY,
  FAST_UNET_INT8_POLICY,
  isMatMulNode,
  TENSORRT_UNET_INT8_POLICY,
  DEFAULT_UNET_CALIBRATION_METHOD,
  DEFAULT_UNET_METHOD_OPTIONS,
  UNET_SENSITIVE_LAYERS,
} from './quantize-unet.js';
export type { QuantizeUnetOptions, QuantizeUnetResult, QuantizeUnetProgress } from './quantize-unet.js';
export { captureUnetInputs } from './capture.js';
export type { GenerateWithUnetHook, UnetStepInputs, StepTensor, CaptureOptions, CaptureProgress, CaptureResult } from './capture.js';
