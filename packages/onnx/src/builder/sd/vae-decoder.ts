/**
 * AutoencoderKL decoder (SD 1.x VAE) as optimum exports `vae_decoder`: `latent_sample` [b,4,h,w] ->
 * post_quant_conv -> conv_in -> mid block (resnet, single-head attention, resnet) -> up blocks (x2 upsampling
 * between levels) -> GroupNorm, SiLU, conv_out -> `sample` [b,3,8h,8w] (for 4 levels).
 */
import { DataType } from '@sdq/quant';
import type { ModelProto } from '../../proto/types.js';
import type { VaeDecoderConfig } from './config.js';
import { Layers } from './layers.js';
import { type SdBuildOptions, sdGraphBuilder } from './options.js';
import { upsampleNearest2x } from './unet.js';

const VAE_EPS = 1e-6;

export function buildVaeDecoder(config: VaeDecoderConfig, options: SdBuildOptions = {}): ModelProto {
  const b = sdGraphBuilder('vae_decoder', options);
  const L = new Layers(b);
  const groups = config.normGroups;
  const latent = b.input('latent_sample', DataType.FLOAT, ['batch', config.latentChannels, 'latent_height', 'latent_width']);

  const resnet = (name: string, x: string, cin: number, cout: number): string =>
    L.in(name, () => {
      let h = L.conv2d('conv1', L.silu(L.groupNorm('norm1', x, cin, groups, VAE_EPS)), cin, cout);
      h = L.conv2d('conv2', L.silu(L.groupNorm('norm2', h, cout, groups, VAE_EPS)), cout, cout);
      const skip = cin === cout ? x : L.conv2d('conv_shortcut', x, cin, cout, 1);
      return b.op('Add', [skip, h]);
    });

  const attention = (name: string, x: string, c: number): string =>
    L.in(name, () => {
      const n = L.groupNorm('group_norm', x, c, groups, VAE_EPS);
      const tokens = b.op('Transpose', [b.op('Reshape', [n, L.sharedInt64([0, 0, -1])])], { attrs: { perm: [0, 2, 1] } });
      const attended = L.attention('attn', tokens, tokens, c, c, 1, { qkvBias: true });
      const restored = b.op('Reshape', [b.op('Transpose', [attended], { attrs: { perm: [0, 2, 1] } }), b.op('Shape', [x])]);
      return b.op('Add', [restored, x]);
    });

  const reversed = [...config.blockOutChannels].reverse();
  let h = L.conv2d('post_quant_conv', latent, config.latentChannels, config.latentChannels, 1);
  let hc = reversed[0];
  L.in('decoder', () => {
    h = L.conv2d('conv_in', h, config.latentChannels, hc);
    L.in('mid_block', () => {
      h = resnet('resnets.0', h, hc, hc);
      h = attention('attentions.0', h, hc);
      h = resnet('resnets.1', h, hc, hc);
    });
    reversed.forEach((cout, i) => {
      L.in(`up_blocks.${i}`, () => {
        for (let j = 0; j <= config.layersPerBlock; j++) {
          h = resnet(`resnets.${j}`, h, hc, cout);
          hc = cout;
        }
        if (i < reversed.length - 1) h = L.in('upsamplers.0', () => L.conv2d('conv', upsampleNearest2x(L, h), hc, hc));
      });
    });
    h = L.silu(L.groupNorm('conv_norm_out', h, hc, groups, VAE_EPS));
    h = L.conv2d('conv_out', h, hc, config.outChannels);
  });
  b.op('Identity', [h], { output: 'sample' });
  const factor = 2 ** (reversed.length - 1);
  b.output('sample', DataType.FLOAT, ['batch', config.outChannels, `latent_height*${factor}`, `latent_width*${factor}`]);
  return b.build();
}
