/**
 * UNet2DConditionModel (SD 1.x, SDXL) as an ONNX graph: `sample` [b,4,h,w], `timestep` [b], `encoder_hidden_states`
 * [b,77,C] (SDXL: also `text_embeds` [b,T], `time_ids` [b,6]) -> `out_sample` [b,4,h,w], with the structure
 * diffusers' model exports to.
 */
import { DataType } from '@sdq/quant';
import type { ModelProto } from '../../proto/types.js';
import type { UnetConfig } from './config.js';
import { Layers } from './layers.js';
import { type SdBuildOptions, sdGraphBuilder } from './options.js';

export function buildUnet(config: UnetConfig, options: SdBuildOptions = {}): ModelProto {
  const b = sdGraphBuilder('unet', options);
  const L = new Layers(b);
  const ch = config.blockOutChannels;
  const groups = config.normGroups;
  const sample = b.input('sample', DataType.FLOAT, ['batch', config.inChannels, 'height', 'width']);
  const timestep = b.input('timestep', DataType.FLOAT, ['batch']);
  const context = b.input('encoder_hidden_states', DataType.FLOAT, ['batch', 'sequence', config.crossAttentionDim]);
  const added = config.addedCondition;
  const textEmbeds = added && b.input('text_embeds', DataType.FLOAT, ['batch', added.textEmbedDim]);
  const timeIds = added && b.input('time_ids', DataType.FLOAT, ['batch', 6]);

  let temb = timeEmbedding(L, timestep, ch[0]);
  if (added && textEmbeds && timeIds) temb = b.op('Add', [temb, addEmbedding(L, textEmbeds, timeIds, added, ch[0] * 4)]);
  const tembAct = L.silu(temb);
  const tembDim = ch[0] * 4;

  const resnet = (name: string, x: string, cin: number, cout: number): string =>
    L.in(name, () => {
      let h = L.conv2d('conv1', L.silu(L.groupNorm('norm1', x, cin, groups, config.normEps)), cin, cout);
      const t = L.linear2d('time_emb_proj', tembAct, tembDim, cout);
      h = b.op('Add', [h, b.op('Unsqueeze', [t, L.sharedInt64([2, 3])])]);
      h = L.conv2d('conv2', L.silu(L.groupNorm('norm2', h, cout, groups, config.normEps)), cout, cout);
      const skip = cin === cout ? x : L.conv2d('conv_shortcut', x, cin, cout, 1);
      return b.op('Add', [skip, h]);
    });

  // Transformer2DModel: 1x1-conv projections on [b, c, h, w] (SD 1.x) or linear ones on [b, h*w, c] (SD 2.x/XL)
  const toTokens = (h: string): string => b.op('Transpose', [b.op('Reshape', [h, L.sharedInt64([0, 0, -1])])], { attrs: { perm: [0, 2, 1] } });
  const crossTransformer = (name: string, x: string, c: number, depth: number): string =>
    L.in(name, () => {
      const heads = config.headDim ? c / config.headDim : config.attentionHeads;
      const normed = L.groupNorm('norm', x, c, groups, 1e-6);
      let h = config.linearProjection ? L.linear('proj_in', toTokens(normed), c, c) : toTokens(L.conv2d('proj_in', normed, c, c, 1));
      for (let k = 0; k < depth; k++) {
        h = L.in(`transformer_blocks.${k}`, () => {
          const n1 = L.layerNorm('norm1', h, c);
          let t = b.op('Add', [L.attention('attn1', n1, n1, c, c, heads), h]);
          const n2 = L.layerNorm('norm2', t, c);
          t = b.op('Add', [L.attention('attn2', n2, context, c, config.crossAttentionDim, heads), t]);
          const n3 = L.layerNorm('norm3', t, c);
          return b.op('Add', [L.gegluFeedForward('ff', n3, c), t]);
        });
      }
      // [b, h*w, c] -> [b, c, h, w]
      const toImage = (t: string): string => b.op('Reshape', [b.op('Transpose', [t], { attrs: { perm: [0, 2, 1] } }), b.op('Shape', [x])]);
      const out = config.linearProjection ? toImage(L.linear('proj_out', h, c, c)) : L.conv2d('proj_out', toImage(h), c, c, 1);
      return b.op('Add', [out, x]);
    });
  const depthOf = (level: number): number => config.transformerLayers?.[level] ?? 1;

  let h = L.conv2d('conv_in', sample, config.inChannels, ch[0]);
  let hc = ch[0];
  const skips: { name: string; channels: number }[] = [{ name: h, channels: hc }];

  ch.forEach((cout, i) => {
    L.in(`down_blocks.${i}`, () => {
      for (let j = 0; j < config.layersPerBlock; j++) {
        h = resnet(`resnets.${j}`, h, hc, cout);
        hc = cout;
        if (config.crossAttention[i]) h = crossTransformer(`attentions.${j}`, h, cout, depthOf(i));
        skips.push({ name: h, channels: hc });
      }
      if (i < ch.length - 1) {
        h = L.in('downsamplers.0', () => L.conv2d('conv', h, hc, hc, 3, 2));
        skips.push({ name: h, channels: hc });
      }
    });
  });

  L.in('mid_block', () => {
    h = resnet('resnets.0', h, hc, hc);
    h = crossTransformer('attentions.0', h, hc, depthOf(ch.length - 1));
    h = resnet('resnets.1', h, hc, hc);
  });

  const reversed = [...ch].reverse();
  const reversedAttention = [...config.crossAttention].reverse();
  reversed.forEach((cout, i) => {
    L.in(`up_blocks.${i}`, () => {
      for (let j = 0; j <= config.layersPerBlock; j++) {
        const skip = skips.pop();
        if (!skip) throw new Error('unet builder: skip stack underflow (internal error)');
        h = b.op('Concat', [h, skip.name], { attrs: { axis: 1 } });
        h = resnet(`resnets.${j}`, h, hc + skip.channels, cout);
        hc = cout;
        if (reversedAttention[i]) h = crossTransformer(`attentions.${j}`, h, cout, depthOf(ch.length - 1 - i));
      }
      if (i < reversed.length - 1) {
        h = L.in('upsamplers.0', () => L.conv2d('conv', upsampleNearest2x(L, h), hc, hc));
      }
    });
  });

  h = L.silu(L.groupNorm('conv_norm_out', h, hc, groups, config.normEps));
  const out = L.conv2d('conv_out', h, hc, config.outChannels);
  b.op('Identity', [out], { output: 'out_sample' });
  b.output('out_sample', DataType.FLOAT, ['batch', config.outChannels, 'height', 'width']);
  return b.build();
}

/**
 * Sinusoidal embedding of a [n] vector at width `dim` (diffusers get_timestep_embedding with flip_sin_to_cos,
 * shift 0): f_i = exp(-ln(10000) i / half), emb = [cos(t f), sin(t f)].
 */
function sinusoid(L: Layers, values: string, dim: number, name: string): string {
  const b = L.b;
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = b.op('Mul', [b.op('Unsqueeze', [values, L.sharedInt64([1])]), b.constFloat(`${name}.freqs`, freqs, [1, half])]);
  return b.op('Concat', [b.op('Cos', [args]), b.op('Sin', [args])], { attrs: { axis: -1 } });
}

/** TimestepEmbedding: linear_1 -> SiLU -> linear_2. */
function mlpEmbedding(L: Layers, x: string, fin: number, fout: number): string {
  return L.linear2d('linear_2', L.silu(L.linear2d('linear_1', x, fin, fout)), fout, fout);
}

/** The timestep embedding: sinusoid of width C0, then the MLP to width 4 C0. */
function timeEmbedding(L: Layers, timestep: string, c0: number): string {
  return L.in('time_embedding', () => mlpEmbedding(L, sinusoid(L, timestep, c0, 'time_proj'), c0, c0 * 4));
}

/**
 * SDXL's add_embedding: each of the 6 time ids embedded sinusoidally (add_time_proj), flattened to [b, 6 d],
 * concatenated after text_embeds and projected by an MLP to the timestep embedding's width.
 */
function addEmbedding(L: Layers, textEmbeds: string, timeIds: string, added: { textEmbedDim: number; timeIdDim: number }, width: number): string {
  const b = L.b;
  const flat = b.op('Reshape', [timeIds, L.sharedInt64([-1])]);
  const timeEmbeds = b.op('Reshape', [sinusoid(L, flat, added.timeIdDim, 'add_time_proj'), L.sharedInt64([-1, 6 * added.timeIdDim])]);
  const inputs = b.op('Concat', [textEmbeds, timeEmbeds], { attrs: { axis: -1 } });
  return L.in('add_embedding', () => mlpEmbedding(L, inputs, added.textEmbedDim + 6 * added.timeIdDim, width));
}

/** Resize nearest x2 as torch exports F.interpolate(scale_factor=2, mode='nearest'). */
export function upsampleNearest2x(L: Layers, x: string): string {
  return L.b.op('Resize', [x, '', L.sharedFloat('resize_scales_2x', [1, 1, 2, 2], [4])], {
    attrs: { coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: -0.75, mode: 'nearest', nearest_mode: 'floor' },
  });
}
