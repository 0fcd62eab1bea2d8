/**
 * Configurations of the SD-shaped synthetic models (SD 1.x architecture at any width) and the named presets.
 */
import { SdqError } from '@sdq/quant';

export interface UnetConfig {
  inChannels: number;
  outChannels: number;
  /** Channels per resolution level, e.g. SD 1.5: [320, 640, 1280, 1280]. */
  blockOutChannels: number[];
  /** Whether each down block has cross-attention transformers (up blocks mirror it), e.g. SD 1.5: [true, true, true, false]. */
  crossAttention: boolean[];
  layersPerBlock: number;
  /** Width of encoder_hidden_states (the text encoder's hidden size). */
  crossAttentionDim: number;
  /** Attention heads per transformer (diffusers' `attention_head_dim` in SD 1.x configs is really this). */
  attentionHeads: number;
  normGroups: number;
  normEps: number;
  /** Spatial size of the latents the model is meant for (config.json `sample_size`). */
  sampleSize: number;
}

export interface VaeDecoderConfig {
  latentChannels: number;
  outChannels: number;
  /** Channels per level in encoder order, e.g. SD: [128, 256, 512, 512]; the decoder walks them reversed. */
  blockOutChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  scalingFactor: number;
  sampleSize: number;
}

export interface TextEncoderConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  maxPositions: number;
  layerNormEps: number;
}

export interface SdConfig {
  unet: UnetConfig;
  vaeDecoder: VaeDecoderConfig;
  textEncoder: TextEncoderConfig;
}

export type SdPresetName = 'tiny' | 'small' | 'medium' | 'sd15';

const CLIP_VOCAB = 49408;

function unet(blockOutChannels: number[], crossAttention: boolean[], layersPerBlock: number, crossAttentionDim: number, attentionHeads: number, sampleSize: number): UnetConfig {
  return { inChannels: 4, outChannels: 4, blockOutChannels, crossAttention, layersPerBlock, crossAttentionDim, attentionHeads, normGroups: 32, normEps: 1e-5, sampleSize };
}

function vae(blockOutChannels: number[], layersPerBlock: number, sampleSize: number): VaeDecoderConfig {
  return { latentChannels: 4, outChannels: 3, blockOutChannels, layersPerBlock, normGroups: 32, scalingFactor: 0.18215, sampleSize };
}

function text(hiddenSize: number, intermediateSize: number, layers: number, heads: number): TextEncoderConfig {
  return { vocabSize: CLIP_VOCAB, hiddenSize, intermediateSize, layers, heads, maxPositions: 77, layerNormEps: 1e-5 };
}

/**
 * Presets. Parameter counts (UNet) are what the builder makes; see sd.test.ts which checks them.
 * - tiny:   the fixture tiny-sd's shape (blocks 32/64, text hidden 32): tests.
 * - small:  blocks 64/128/256, 2 layers, hidden 256, attention at the 2 lower resolutions (as tiny-sd: no attention at
 *           full resolution, so 64x64 latents do not spend their time in 4096-token softmaxes): INT8 speed benchmarks
 *           at 64x64 latents (~20M UNet params).
 * - medium: blocks 128/256/512, 2 layers, hidden 512.
 * - sd15:   the SD 1.5 sizes: UNet 320/640/1280/1280 (~860M params, 3.4 GB FP32), CLIP ViT-L/14 text encoder, SD VAE.
 */
export const SD_PRESETS: Readonly<Record<SdPresetName, SdConfig>> = {
  tiny: {
    unet: unet([32, 64], [false, true], 2, 32, 8, 16),
    vaeDecoder: vae([32, 32, 32, 32], 1, 128),
    textEncoder: text(32, 37, 3, 4),
  },
  small: {
    unet: unet([64, 128, 256], [false, true, true], 2, 256, 8, 64),
    vaeDecoder: vae([32, 64, 64, 64], 1, 512),
    textEncoder: text(256, 1024, 4, 4),
  },
  medium: {
    unet: unet([128, 256, 512, 512], [true, true, true, false], 2, 512, 8, 64),
    vaeDecoder: vae([64, 128, 256, 256], 2, 512),
    textEncoder: text(512, 2048, 8, 8),
  },
  sd15: {
    unet: unet([320, 640, 1280, 1280], [true, true, true, false], 2, 768, 8, 64),
    vaeDecoder: vae([128, 256, 512, 512], 2, 512),
    textEncoder: text(768, 3072, 12, 12),
  },
};

/** Resolve a preset name or a config; checks that the widths fit the architecture. */
export function resolveSdConfig(presetOrConfig: SdPresetName | SdConfig): SdConfig {
  const config = typeof presetOrConfig === 'string' ? SD_PRESETS[presetOrConfig] : presetOrConfig;
  if (!config) {
    throw new SdqError('INVALID_ARGUMENT', `unknown SD preset "${String(presetOrConfig)}"; use one of ${Object.keys(SD_PRESETS).join(', ')} or pass a config`);
  }
  const u = config.unet;
  if (u.blockOutChannels.length !== u.crossAttention.length) {
    throw new SdqError('INVALID_ARGUMENT', `unet config: blockOutChannels (${u.blockOutChannels.length}) and crossAttention (${u.crossAttention.length}) need one entry per level`);
  }
  for (const c of u.blockOutChannels) {
    if (c % u.normGroups !== 0 || c % u.attentionHeads !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `unet config: channel count ${c} must be divisible by normGroups ${u.normGroups} and attentionHeads ${u.attentionHeads}`);
    }
  }
  if (u.crossAttentionDim !== config.textEncoder.hiddenSize) {
    throw new SdqError('INVALID_ARGUMENT', `unet crossAttentionDim ${u.crossAttentionDim} must equal the text encoder hiddenSize ${config.textEncoder.hiddenSize}`);
  }
  if (config.textEncoder.hiddenSize % config.textEncoder.heads !== 0) {
    throw new SdqError('INVALID_ARGUMENT', `text encoder hiddenSize ${config.textEncoder.hiddenSize} must be divisible by heads ${config.textEncoder.heads}`);
  }
  for (const c of config.vaeDecoder.blockOutChannels) {
    if (c % config.vaeDecoder.normGroups !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `vae config: channel count ${c} must be divisible by normGroups ${config.vaeDecoder.normGroups}`);
    }
  }
  return config;
}
