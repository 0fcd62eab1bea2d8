// @sdq/calib public API: calibration data readers, activation statistics, capture, and the INT8 UNet recipe.
export type { CalibTensor, Feeds } from './tensor.js';
export { makeTensor } from './tensor.js';
export { readNpy, writeNpy, decodeNpy, encodeNpy, parseNpyHeader } from './npy.js';
export { readNpz, writeNpz, openNpz, NpzArchive, NpzWriter } from './npz.js';
export type { NpzMember } from './npz.js';
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
