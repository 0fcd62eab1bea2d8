import { makeNode } from '@sdq/onnx';
import { FAST_UNET_INT8_POLICY, DEFAULT_UNET_INT8_POLICY, isMatMulNode } from './quantize-unet.js';

describe('FAST_UNET_INT8_POLICY', () => {
  it.each([
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_q/MatMul', 'MatMul', true],
    ['/down_blocks.1/attentions.0/transformer_blocks.0/ff/net.0/proj/MatMul', 'MatMul', true],
    ['/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_out.0/MatMul', 'MatMul', true],
    ['/down_blocks.0/resnets.0/conv1/Conv', 'Conv', false],
    ['/down_blocks.1/attentions.0/proj_in/Conv', 'Conv', false],
  ])('%s (%s): output left float = %s', (name, opType, float) => {
    expect(isMatMulNode(makeNode({ name, opType, input: ['x', 'w'], output: ['y'] }))).toBe(float);
  });

  it('is the default layout plus float MatMul outputs', () => {
    const { floatOutputNodes, ...rest } = FAST_UNET_INT8_POLICY;
    expect(rest).toEqual({ ...DEFAULT_UNET_INT8_POLICY });
    expect(floatOutputNodes).toBe(isMatMulNode);
  });
});
