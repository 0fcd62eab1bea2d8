/**
 * CLIPTextModel as optimum exports `text_encoder`: `input_ids` int32 [b,77] -> `last_hidden_state` [b,77,D],
 * `pooler_output` [b,D] (the hidden state at the end-of-text token, found as argmax of the ids as in CLIP).
 * Pre-LayerNorm transformer with a causal mask and quick_gelu (or gelu) MLP. With `projectionDim`, a
 * CLIPTextModelWithProjection (SDXL's text_encoder_2): `text_embeds` = pooled x text_projection instead of
 * pooler_output; with `outputHiddenStates`, also `hidden_states.0..N` (embeddings, then each layer, before the final
 * LayerNorm), as optimum exports SDXL's encoders.
 */
import { DataType } from '@sdq/quant';
import type { ModelProto } from '../../proto/types.js';
import type { TextEncoderConfig } from './config.js';
import { Layers } from './layers.js';
import { type SdBuildOptions, sdGraphBuilder } from './options.js';

/** Additive causal mask [1, 1, n, n]: 0 on and below the diagonal, float32 lowest above (transformers uses finfo.min). */
export function causalMask(n: number): Float32Array {
  const mask = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = -3.4028234663852886e38;
  return mask;
}

export function buildTextEncoder(config: TextEncoderConfig, options: SdBuildOptions = {}): ModelProto {
  const b = sdGraphBuilder('text_encoder', options);
  const L = new Layers(b);
  const d = config.hiddenSize;
  const n = config.maxPositions;
  const ids = b.input('input_ids', DataType.INT32, ['batch', n]);
  let h = '';
  const layerStates: string[] = [];
  L.in('text_model', () => {
    L.in('embeddings', () => {
      const tokenTable = b.randomNormal(b.paramName('token_embedding.weight'), [config.vocabSize, d], { std: 0.02 });
      const positions = b.randomNormal(b.paramName('position_embedding.weight'), [n, d], { std: 0.01 });
      h = b.op('Add', [b.op('Gather', [tokenTable, ids], { attrs: { axis: 0 } }), positions]);
    });
    layerStates.push(h);
    const mask = b.constFloat('text_model.causal_mask', causalMask(n), [1, 1, n, n]);
    for (let i = 0; i < config.layers; i++) {
      L.in(`encoder.layers.${i}`, () => {
        const n1 = L.layerNorm('layer_norm1', h, d, config.layerNormEps);
        const attended = L.attention('self_attn', n1, n1, d, d, config.heads, {
          qkvBias: true,
          mask,
          names: ['q_proj', 'k_proj', 'v_proj', 'out_proj'],
        });
        h = b.op('Add', [h, attended]);
        const n2 = L.layerNorm('layer_norm2', h, d, config.layerNormEps);
        const act = (x: string): string => (config.hiddenAct === 'gelu' ? L.gelu(x) : L.quickGelu(x));
        const mlp = L.in('mlp', () => L.linear('fc2', act(L.linear('fc1', n2, d, config.intermediateSize)), config.intermediateSize, d));
        h = b.op('Add', [h, mlp]);
      });
      layerStates.push(h);
    }
    h = L.layerNorm('final_layer_norm', h, d, config.layerNormEps);
  });
  const eosPosition = (): string => b.op('Unsqueeze', [b.op('ArgMax', [ids], { attrs: { axis: -1, keepdims: 0 } }), L.sharedInt64([1])]);
  const projection = config.projectionDim;
  if (projection === undefined) {
    b.op('Identity', [h], { output: 'last_hidden_state' });
    b.op('GatherND', [h, eosPosition()], { attrs: { batch_dims: 1 }, output: 'pooler_output' });
  } else {
    const pooled = b.op('GatherND', [h, eosPosition()], { attrs: { batch_dims: 1 } });
    const weight = b.randomNormal(b.paramName('text_projection.weight'), [d, projection], { std: 1 / Math.sqrt(d) });
    b.op('MatMul', [pooled, weight], { output: 'text_embeds' });
    b.output('text_embeds', DataType.FLOAT, ['batch', projection]);
    b.op('Identity', [h], { output: 'last_hidden_state' });
  }
  b.output('last_hidden_state', DataType.FLOAT, ['batch', n, d]);
  if (projection === undefined) b.output('pooler_output', DataType.FLOAT, ['batch', d]);
  if (config.outputHiddenStates) {
    layerStates.forEach((state, i) => {
      b.op('Identity', [state], { output: `hidden_states.${i}` });
      b.output(`hidden_states.${i}`, DataType.FLOAT, ['batch', n, d]);
    });
  }
  return b.build();
}
