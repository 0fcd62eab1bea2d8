export { createScheduler, SCHEDULER_CLASS_NAMES } from './schedulers/create.js';
export type { Scheduler, SchedulerOptions } from './schedulers/scheduler.js';
export type { SchedulerConfig } from './schedulers/config.js';
export { SeededNoise, ReplayNoise, mulberry32 } from './random.js';
export type { NoiseSource } from './random.js';
export { createSchedulerByName } from './schedulers/create.js';
export { SCHEDULER_ALIASES, resolveSchedulerName } from './schedulers/aliases.js';
export type { SchedulerAlias } from './schedulers/aliases.js';
export { ClipTokenizer } from './tokenizer/clip-tokenizer.js';
export type { TokenizedPrompt, ClipTokenizerOptions, EncodeOptions } from './tokenizer/clip-tokenizer.js';
export { StableDiffusionPipeline } from './pipeline/pipeline.js';
export type {
  PipelineOptions,
  GenerateOptions,
  GenerationResult,
  GenerationTimings,
  StepInfo,
  UnetInputs,
} from './pipeline/pipeline.js';
export type { CropTopLeft, ImageSize, SizeConditioning } from './pipeline/prompt-encoding.js';
export { readModelIndex } from './pipeline/model-dir.js';
export type { ModelFamily, ModelIndex } from './pipeline/model-dir.js';
export { vaeOutputToImage, encodePng, writePng, unitFloatToByte } from './pipeline/image.js';
export { DEVICES, isDevice, executionProvidersFor, checkDeviceRuntime, deviceUnavailableMessage, missingProviderLibraries, gpuName } from './pipeline/device.js';
export type { Device } from './pipeline/device.js';
export type { RgbImage } from './pipeline/image.js';
