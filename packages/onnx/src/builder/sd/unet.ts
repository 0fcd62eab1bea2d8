/**
 * UNet2DConditionModel (SD 1.x) as an ONNX graph: `sample` [b,4,h,w], `timestep` [b], `encoder_hidden_states`
 * [b,77,C] -> `out_sample` [b,4,h,w], with the structure diffusers' model exports to.
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

  const temb = timeEmbedding(L, timestep, ch[0]);
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

  const crossTransformer = (name: string, x: string, c: number): string =>
    L.in(name, () => {
      const heads = config.attentionHeads;
      let h = L.conv2d('proj_in', L.groupNorm('norm', x, c, groups, 1e-6), c, c, 1);
      h = b.op('Transpose', [b.op('Reshape', [h, L.sharedInt64([0, 0, -1])])], { attrs: { perm: [0, 2, 1] } });
      h = L.in('transformer_blocks.0', () => {
        const n1 = L.layerNorm('norm1', h, c);
        let t = b.op('Add', [L.attention('attn1', n1, n1, c, c, heads), h]);
        const n2 = L.layerNorm('norm2', t, c);
        t = b.op('Add', [L.attention('attn2', n2, context, c, config.crossAttentionDim, heads), t]);
        const n3 = L.layerNorm('norm3', t, c);
        return b.op('Add', [L.gegluFeedForward('ff', n3, c), t]);
      });
      // [b, h*w, c] -> [b, c, h, w]
      h = b.op('Reshape', [b.op('Transpose', [h], { attrs: { perm: [0, 2, 1] } }), b.op('Shape', [x])]);
      return b.op('Add', [L.conv2d('proj_out', h, c, c, 1), x]);
    });

  let h = L.conv2d('conv_in', sample, config.inChannels, ch[0]);
  let hc = ch[0];
  const skips: { name: string; channels: number }[] = [{ name: h, channels: hc }];

  ch.forEach((cout, i) => {
    L.in(`down_blocks.${i}`, () => {
      for (let j = 0; j < config.layersPerBlock; j++) {
        h = resnet(`resnets.${j}`, h, hc, cout);
        hc = cout;
        if (config.crossAttention[i]) h = crossTransformer(`attentions.${j}`, h, cout);
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
    h = crossTransformer('attentions.0', h, hc);
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
        if (reversedAttention[i]) h = crossTransformer(`attentions.${j}`, h, cout);
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
 * Sinusoidal timestep embedding (diffusers get_timestep_embedding with flip_sin_to_cos, shift 0):
 * f_i = exp(-ln(10000) i / half), emb = [cos(t f), sin(t f)], then linear_1 -> SiLU -> linear_2 (width 4 C0).
 */
function timeEmbedding(L: Layers, timestep: string, c0: number): string {
  const b = L.b;
  const half = c0 / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  return L.in('time_embedding', () => {
    const t = b.op('Unsqueeze', [timestep, L.sharedInt64([1])]);
    const args = b.op('Mul', [t, b.constFloat('time_proj.freqs', freqs, [1, half])]);
    const emb = b.op('Concat', [b.op('Cos', [args]), b.op('Sin', [args])], { attrs: { axis: -1 } });
    const h = L.silu(L.linear2d('linear_1', emb, c0, c0 * 4));
    return L.linear2d('linear_2', h, c0 * 4, c0 * 4);
  });
}

/** Resize nearest x2 as torch exports F.interpolate(scale_factor=2, mode='nearest'). */
export function upsampleNearest2x(L: Layers, x: string): string {
  return L.b.op('Resize', [x, '', L.sharedFloat('resize_scales_2x', [1, 1, 2, 2], [4])], {
    attrs: { coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: -0.75, mode: 'nearest', nearest_mode: 'floor' },
  });
}
