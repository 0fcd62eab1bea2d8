/** Test-only ONNX models built in memory: a small S8S8 QDQ Conv whose Q/DQ details each test can change. */
import {
  AttributeType, emptyGraph, emptyMessage, emptyModel, emptyNode, tensorFromTypedArray,
  type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from '@sdq/onnx';
import { DataType } from '@sdq/quant';

export const vi = (name: string, elemType: number, dims: (number | string)[]): ValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  metadataProps: [],
});
export const intAttr = (name: string, i: number): AttributeProto => ({ ...emptyMessage<AttributeProto>('AttributeProto'), name, type: AttributeType.INT, i });
export const node = (opType: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto => ({ ...emptyNode(), opType, input, output, name: output[0], ...extra });

/** x[batch,4,8,8] -Q/DQ-> Conv(W int8 [8,4,3,3] -DQ(axis)->) -> y: an S8S8 QDQ Conv, modifiable per test. */
export function qdqConv(o: {
  xZp?: TensorProto | null;
  xScale?: Float32Array;
  wAxis?: number;
  wZp?: Int8Array;
  extraNodes?: NodeProto[];
  inputType?: number;
} = {}): ModelProto {
  const g = emptyGraph();
  g.input = [vi('x', o.inputType ?? DataType.FLOAT, ['batch', 4, 8, 8])];
  g.output = [vi('y', DataType.FLOAT, ['batch', 8, 6, 6])];
  const init: TensorProto[] = [
    tensorFromTypedArray('x_scale', o.xScale && o.xScale.length > 1 ? [o.xScale.length] : [], o.xScale ?? new Float32Array([0.02])),
    tensorFromTypedArray('W_q', [8, 4, 3, 3], new Int8Array(8 * 4 * 9).fill(3)),
    tensorFromTypedArray('W_scale', [8], new Float32Array(8).fill(0.01)),
    tensorFromTypedArray('W_zp', [8], o.wZp ?? new Int8Array(8)),
  ];
  if (o.xZp !== null) init.push(o.xZp ?? tensorFromTypedArray('x_zp', [], new Int8Array([0])));
  g.initializer = init;
  const xZpName = o.xZp === null ? [] : [o.xZp?.name ?? 'x_zp'];
  g.node = [
    node('QuantizeLinear', ['x', 'x_scale', ...xZpName], ['x_q']),
    node('DequantizeLinear', ['x_q', 'x_scale', ...xZpName], ['x_dq']),
    node('DequantizeLinear', ['W_q', 'W_scale', 'W_zp'], ['W_dq'], { attribute: [intAttr('axis', o.wAxis ?? 0)] }),
    node('Conv', ['x_dq', 'W_dq'], ['y']),
    ...(o.extraNodes ?? []),
  ];
  const m = emptyModel();
  m.irVersion = 8;
  m.opsetImport = [{ domain: '', version: 17 }];
  m.graph = g;
  return m;
}

