/** The config.json files of an optimum model dir, with the keys diffusers/transformers write (as in the fixtures). */
import type { SdConfig, TextEncoderConfig, UnetConfig, VaeDecoderConfig } from './config.js';

const DIFFUSERS_VERSION = '0.40.0.dev0';

/**
 * Facts about a model dir that its files cannot show, for tools to warn with (sdq's own file, next to
 * model_index.json): `weights` "random" (the builder's seeded values: images are noise) or "trained".
 */
export const MODEL_FACTS_FILE = 'sdq-model.json';
export interface ModelFacts {
  weights?: 'random' | 'trained';
  note?: string;
}

export const MODEL_INDEX_JSON = {
  _class_name: 'ORTStableDiffusionPipeline',
  _diffusers_version: DIFFUSERS_VERSION,
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae_decoder: ['diffusers', 'AutoencoderKL'],
  scheduler: ['diffusers', 'PNDMScheduler'],
  requires_safety_checker: false,
  _sdq_synthetic: 'random weights from @sdq/onnx buildSdComponents',
};

/** SDXL's model_index.json as optimum writes it (ORTStableDiffusionXLPipeline, as in fixtures/models/tiny-sdxl). */
export const SDXL_MODEL_INDEX_JSON = {
  _class_name: 'ORTStableDiffusionXLPipeline',
  _diffusers_version: DIFFUSERS_VERSION,
  force_zeros_for_empty_prompt: true,
  text_encoder: ['transformers', 'CLIPTextModel'],
  text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  tokenizer_2: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae_decoder: ['diffusers', 'AutoencoderKL'],
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  _sdq_synthetic: 'random weights from @sdq/onnx buildSdComponents',
};

/** SDXL's scheduler config (Euler, the same scaled_linear betas), as in fixtures/models/tiny-sdxl/scheduler. */
export const SDXL_SCHEDULER_CONFIG_JSON = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: DIFFUSERS_VERSION,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  steps_offset: 1,
  timestep_spacing: 'leading',
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
};

/** model_index.json and scheduler_config.json of a config's family. */
export function familyJson(config: SdConfig): { modelIndex: Record<string, unknown>; scheduler: Record<string, unknown> } {
  return config.textEncoder2 ? { modelIndex: SDXL_MODEL_INDEX_JSON, scheduler: SDXL_SCHEDULER_CONFIG_JSON } : { modelIndex: MODEL_INDEX_JSON, scheduler: SCHEDULER_CONFIG_JSON };
}

/** SD 1.x's scheduler config (PNDM, scaled_linear betas), as in fixtures/models/tiny-sd/scheduler. */
export const SCHEDULER_CONFIG_JSON = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: DIFFUSERS_VERSION,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
};

export function unetConfigJson(c: UnetConfig): Record<string, unknown> {
  const down = c.crossAttention.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const up = [...c.crossAttention].reverse().map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    sample_size: c.sampleSize,
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    center_input_sample: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    down_block_types: down,
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    up_block_types: up,
    only_cross_attention: false,
    block_out_channels: c.blockOutChannels,
    layers_per_block: c.layersPerBlock,
    downsample_padding: 1,
    mid_block_scale_factor: 1,
    act_fn: 'silu',
    norm_num_groups: c.normGroups,
    norm_eps: c.normEps,
    cross_attention_dim: c.crossAttentionDim,
    // diffusers' attention_head_dim is the head count (per level when heads are headDim wide)
    attention_head_dim: c.headDim ? c.blockOutChannels.map((ch) => ch / c.headDim!) : c.attentionHeads,
    use_linear_projection: c.linearProjection ?? false,
    ...(c.transformerLayers && { transformer_layers_per_block: c.transformerLayers }),
    ...(c.addedCondition && {
      addition_embed_type: 'text_time',
      addition_time_embed_dim: c.addedCondition.timeIdDim,
      projection_class_embeddings_input_dim: c.addedCondition.textEmbedDim + 6 * c.addedCondition.timeIdDim,
    }),
    upcast_attention: false,
    resnet_time_scale_shift: 'default',
    time_embedding_type: 'positional',
    conv_in_kernel: 3,
    conv_out_kernel: 3,
  };
}

export function vaeDecoderConfigJson(c: VaeDecoderConfig): Record<string, unknown> {
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    in_channels: c.outChannels,
    out_channels: c.outChannels,
    down_block_types: c.blockOutChannels.map(() => 'DownEncoderBlock2D'),
    up_block_types: c.blockOutChannels.map(() => 'UpDecoderBlock2D'),
    block_out_channels: c.blockOutChannels,
    layers_per_block: c.layersPerBlock,
    act_fn: 'silu',
    latent_channels: c.latentChannels,
    norm_num_groups: c.normGroups,
    sample_size: c.sampleSize,
    scaling_factor: c.scalingFactor,
    shift_factor: null,
    latents_mean: null,
    latents_std: null,
    force_upcast: true,
    use_quant_conv: true,
    use_post_quant_conv: true,
    mid_block_add_attention: true,
  };
}

export function textEncoderConfigJson(c: TextEncoderConfig): Record<string, unknown> {
  return {
    architectures: [c.projectionDim === undefined ? 'CLIPTextModel' : 'CLIPTextModelWithProjection'],
    attention_dropout: 0.0,
    bos_token_id: 49406,
    eos_token_id: 49407,
    hidden_act: c.hiddenAct ?? 'quick_gelu',
    hidden_size: c.hiddenSize,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: c.intermediateSize,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositions,
    model_type: 'clip_text_model',
    num_attention_heads: c.heads,
    num_hidden_layers: c.layers,
    pad_token_id: 49407,
    projection_dim: c.projectionDim ?? c.hiddenSize,
    vocab_size: c.vocabSize,
  };
}
