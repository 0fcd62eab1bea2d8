/**
 * Configurations of the SD-shaped synthetic models (SD 1.x and SDXL architectures at any width) and the named presets.
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
  /** Transformer blocks per level (diffusers' transformer_layers_per_block; SDXL: [1, 2, 10]); default 1. The mid block has the last level's. */
  transformerLayers?: number[];
  /** Channels per attention head: heads = channels / headDim (SDXL: 64) instead of the fixed attentionHeads. */
  headDim?: number;
  /** proj_in/proj_out as Linear on [b, h*w, c] (use_linear_projection, SD 2.x/XL) instead of 1x1 Conv. */
  linearProjection?: boolean;
  /**
   * SDXL's added conditioning (addition_embed_type "text_time"): inputs text_embeds [b, textEmbedDim] and time_ids
   * [b, 6], each time id embedded sinusoidally at timeIdDim (addition_time_embed_dim), concatenated with text_embeds
   * (projection_class_embeddings_input_dim = textEmbedDim + 6 timeIdDim) and added to the timestep embedding.
   */
  addedCondition?: { textEmbedDim: number; timeIdDim: number };
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
  /** MLP activation: quick_gelu (CLIP ViT-L, default) or gelu (OpenCLIP bigG). */
  hiddenAct?: 'quick_gelu' | 'gelu';
  /** CLIPTextModelWithProjection: `text_embeds` [b, projectionDim] = pooled output x text_projection (SDXL's text_encoder_2). */
  projectionDim?: number;
  /** Output every layer's hidden state as hidden_states.0..N (optimum's SDXL export; SDXL reads the penultimate). */
  outputHiddenStates?: boolean;
}

export interface SdConfig {
  unet: UnetConfig;
  vaeDecoder: VaeDecoderConfig;
  textEncoder: TextEncoderConfig;
  /** SDXL's second text encoder (OpenCLIP bigG with projection); its presence makes the dir an SDXL one. */
  textEncoder2?: TextEncoderConfig;
}

export type SdPresetName = 'tiny' | 'small' | 'medium' | 'sd15' | 'tiny-sdxl' | 'sdxl';

const CLIP_VOCAB = 49408;

function unet(blockOutChannels: number[], crossAttention: boolean[], layersPerBlock: number, crossAttentionDim: number, attentionHeads: number, sampleSize: number): UnetConfig {
  return { inChannels: 4, outChannels: 4, blockOutChannels, crossAttention, layersPerBlock, crossAttentionDim, attentionHeads, normGroups: 32, normEps: 1e-5, sampleSize };
}

function vae(blockOutChannels: number[], layersPerBlock: number, sampleSize: number, scalingFactor = 0.18215): VaeDecoderConfig {
  return { latentChannels: 4, outChannels: 3, blockOutChannels, layersPerBlock, normGroups: 32, scalingFactor, sampleSize };
}

/** An SDXL UNet: 64-wide heads, linear projections, added text/time conditioning (diffusers' SDXL base config). */
function sdxlUnet(blocks: number[], crossAttention: boolean[], transformerLayers: number[], crossAttentionDim: number, headDim: number, textEmbedDim: number, timeIdDim: number, sampleSize: number): UnetConfig {
  return { ...unet(blocks, crossAttention, 2, crossAttentionDim, blocks[0] / headDim, sampleSize), transformerLayers, headDim, linearProjection: true, addedCondition: { textEmbedDim, timeIdDim } };
}

/** SDXL's two text encoders output every hidden state (the UNet reads the penultimate); the second one is bigG-style. */
function sdxlText(hiddenSize: number, intermediateSize: number, layers: number, heads: number, projectionDim?: number): TextEncoderConfig {
  const base = { ...text(hiddenSize, intermediateSize, layers, heads), outputHiddenStates: true };
  return projectionDim === undefined ? base : { ...base, hiddenAct: 'gelu', projectionDim };
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
 * - tiny-sdxl: the fixture tiny-sdxl's shape (blocks 32/64, transformer depths 1/2, two text encoders of hidden 32): tests.
 * - sdxl:   the SDXL base sizes: UNet 320/640/1280 with transformer depths 1/2/10 (none at full resolution), cross-attention 2048, added
 *           conditioning 2816 (~2.57B params, 10.3 GB FP32), CLIP ViT-L and OpenCLIP bigG text encoders, SD VAE at
 *           scaling factor 0.13025, 1024x1024 (128x128 latents).
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
  'tiny-sdxl': {
    unet: sdxlUnet([32, 64], [false, true], [1, 2], 64, 16, 32, 8, 16),
    vaeDecoder: vae([32, 32, 32, 32], 1, 128, 0.13025),
    textEncoder: sdxlText(32, 37, 5, 4),
    textEncoder2: sdxlText(32, 37, 5, 4, 32),
  },
  sdxl: {
    unet: sdxlUnet([320, 640, 1280], [false, true, true], [1, 2, 10], 2048, 64, 1280, 256, 128),
    vaeDecoder: vae([128, 256, 512, 512], 2, 1024, 0.13025),
    textEncoder: sdxlText(768, 3072, 12, 12),
    textEncoder2: sdxlText(1280, 5120, 32, 20, 1280),
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
  const heads = u.headDim ?? u.attentionHeads;
  for (const c of u.blockOutChannels) {
    if (c % u.normGroups !== 0 || c % heads !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `unet config: channel count ${c} must be divisible by normGroups ${u.normGroups} and ${u.headDim ? `headDim ${u.headDim}` : `attentionHeads ${u.attentionHeads}`}`);
    }
  }
  if (u.transformerLayers !== undefined && u.transformerLayers.length !== u.blockOutChannels.length) {
    throw new SdqError('INVALID_ARGUMENT', `unet config: transformerLayers (${u.transformerLayers.length}) needs one entry per level (${u.blockOutChannels.length})`);
  }
  const te2 = config.textEncoder2;
  const contextWidth = config.textEncoder.hiddenSize + (te2?.hiddenSize ?? 0);
  if (u.crossAttentionDim !== contextWidth) {
    throw new SdqError('INVALID_ARGUMENT', `unet crossAttentionDim ${u.crossAttentionDim} must equal the text encoder hiddenSize${te2 ? 's summed (SDXL concatenates both)' : ''}: ${contextWidth}`);
  }
  if ((te2 === undefined) !== (u.addedCondition === undefined) || (te2 !== undefined && te2.projectionDim !== u.addedCondition?.textEmbedDim)) {
    throw new SdqError('INVALID_ARGUMENT', 'an SDXL config needs textEncoder2 with projectionDim equal to unet.addedCondition.textEmbedDim (its text_embeds), and an SD 1.x config neither');
  }
  for (const te of [config.textEncoder, ...(te2 ? [te2] : [])]) {
    if (te.hiddenSize % te.heads !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `text encoder hiddenSize ${te.hiddenSize} must be divisible by heads ${te.heads}`);
    }
  }
  for (const c of config.vaeDecoder.blockOutChannels) {
    if (c % config.vaeDecoder.normGroups !== 0) {
      throw new SdqError('INVALID_ARGUMENT', `vae config: channel count ${c} must be divisible by normGroups ${config.vaeDecoder.normGroups}`);
    }
  }
  return config;
}
