import { FAST_UNET_INT8_POLICY, DEFAULT_UNET_INT8_POLICY, UNET_ATTENTION_QK_PROJECTIONS } from './quantize-unet.js';

describe('FAST_UNET_INT8_POLICY', () => {
  it.each([
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_q/MatMul', true],
    ['/up_blocks.1/attentions.2/transformer_blocks.0/attn2/to_k/MatMul', true],
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_v/MatMul', false],
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_out.0/MatMul', false],
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/MatMul', false],
    ['/down_blocks.0/resnets.0/conv1/Conv', false],
  ])('%s: output left float = %s', (name, float) => {
    expect(UNET_ATTENTION_QK_PROJECTIONS.some((r) => r.test(name))).toBe(float);
  });

  it('is the default layout plus float to_q/to_k outputs', () => {
    const { floatOutputNodes, ...rest } = FAST_UNET_INT8_POLICY;
    expect(rest).toEqual({ ...DEFAULT_UNET_INT8_POLICY });
    expect(floatOutputNodes).toBe(UNET_ATTENTION_QK_PROJECTIONS);
  });
});
