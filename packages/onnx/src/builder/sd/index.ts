export { SD_PRESETS, resolveSdConfig } from './config.js';
export type { SdConfig, SdPresetName, TextEncoderConfig, UnetConfig, VaeDecoderConfig } from './config.js';
export { buildSdComponents, parameterCount, writeSdModelDir } from './components.js';
export type { SdComponents, SdModelDirSummary, WriteSdModelDirOptions } from './components.js';
export type { SdBuildOptions } from './options.js';
export { buildUnet } from './unet.js';
export { buildVaeDecoder } from './vae-decoder.js';
export { buildTextEncoder } from './text-encoder.js';
