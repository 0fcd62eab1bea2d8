import { DataType, float16ToFloat32, float32ToFloat16 } from '@sdq/quant';
import { GraphBuilder } from '../builder/graph-builder.js';
import { makeTensorProto } from '../builder/proto-factory.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto, NodeProto, TensorProto } from '../proto/types.js';
import { createSession, type HostTensor } from '../testing/ort.js';
import { validateModel } from '../validate.js';
import { convertToFloat16 } from './float16.js';

const f32Tensor = (values: number[], dims: number[]): TensorProto =>
  makeTensorProto({ dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });

/** x -> Add(W) / Max(W) (blocked) / Constant / ConstantOfShape / Resize (Constant scales) / If with outer-scope use. */
function buildMixedModel(): ModelProto {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, [2, 4]);
  const cond = b.input('cond', DataType.BOOL, []);
  const w = b.initializer('w', Float32Array.from([1, 2, 70000, -3]), [4]);
  const a = b.op('Add', [x, w], { name: 'add_a' });
  const m = b.op('Max', [x, w], { name: 'max_blocked' });
  const c = b.op('Constant', [], { attrs: { value: f32Tensor([0.5, 0.25, 1, 2], [4]) } });
  const cs = b.op('ConstantOfShape', [b.constInt64('shape24', [2, 4])], { attrs: { value: f32Tensor([3], [1]) } });
  const s = b.op('Add', [b.op('Mul', [a, c]), cs]);
  const t = b.op('Add', [s, m]);
  const t4 = b.op('Reshape', [t, b.constInt64('shape1124', [1, 1, 2, 4])]);
  const scales = b.op('Constant', [], { attrs: { value: f32Tensor([1, 1, 2, 2], [4]) } });
  b.op('Resize', [t4, '', scales], { attrs: { mode: 'nearest' }, output: 'y' });
  const branch = (op: string, name: string, value: number) => {
    const g = new GraphBuilder({ name });
    const k = g.op('Constant', [], { attrs: { value: f32Tensor([value], []) }, name: `${name}_const`, output: `${name}_k` });
    g.op(op, [x, k], { output: `${name}_out` });
    g.output(`${name}_out`, DataType.FLOAT, [2, 4]);
    return g.buildGraph();
  };
  b.op('If', [cond], { attrs: { then_branch: branch('Add', 'then', 1.5), else_branch: branch('Sub', 'else', 1.5) }, output: 'z' });
  b.output('y', DataType.FLOAT, [1, 1, 4, 8]);
  b.output('z', DataType.FLOAT, [2, 4]);
  return b.build();
}

const xValues = Float32Array.from([0.5, -1, 2, 3, 1.25, 0, -2, 0.75]);
const toFloat = (t: HostTensor): number[] =>
  t.type === 'float16' ? Array.from(float16ToFloat32(t.data as Uint16Array)) : Array.from(t.data as Float32Array);
const ops = (m: ModelProto): string[] => m.graph!.node.map((n) => n.opType ?? '');
const initializer = (m: ModelProto, name: string): TensorProto | undefined => m.graph!.initializer.find((t) => t.name === name);
const node = (m: ModelProto, pred: (n: NodeProto) => boolean): NodeProto => m.graph!.node.find(pred)!;

describe('convertToFloat16 on a mixed graph', () => {
  const model = buildMixedModel();
  const fp32Run = async (): Promise<Record<string, HostTensor>> =>
    (await createSession(encodeModel(model))).run({
      x: { type: 'float32', data: xValues, dims: [2, 4] },
      cond: { type: 'bool', data: Uint8Array.from([1]), dims: [] },
    });

  it.each([true, false])('keepIoTypes=%s: runs in onnxruntime and matches FP32 to float16 precision', async (keepIoTypes) => {
    const half = convertToFloat16(model, { keepIoTypes });
    expect(validateModel(half)).toEqual([]);
    const ref = await fp32Run();
    const inX: HostTensor = keepIoTypes
      ? { type: 'float32', data: xValues, dims: [2, 4] }
      : { type: 'float16', data: float32ToFloat16(xValues), dims: [2, 4] };
    const got = await (await createSession(encodeModel(half))).run({ x: inX, cond: { type: 'bool', data: Uint8Array.from([1]), dims: [] } });
    expect(got.y.type).toBe(keepIoTypes ? 'float32' : 'float16');
    expect(half.graph!.input.map((v) => v.type?.tensorType?.elemType)).toEqual([keepIoTypes ? DataType.FLOAT : DataType.FLOAT16, DataType.BOOL]);
    const y = toFloat(got.y);
    const yRef = toFloat(ref.y);
    // column 2 holds w[2] = 70000, beyond float16: it is clamped to 65504 and left out of the comparison
    yRef.forEach((v, i) => {
      if (Math.floor((i % 8) / 2) !== 2) expect(Math.abs(y[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2e-3 + 1e-3);
    });
    toFloat(got.z).forEach((v, i) => expect(v).toBeCloseTo(toFloat(ref.z)[i], 2));
  });

  it('keeps a shared initializer exact for the blocked op and adds a clamped float16 copy for the others', () => {
    const half = convertToFloat16(model);
    expect(initializer(half, 'w')?.dataType).toBe(DataType.FLOAT);
    const copy = initializer(half, 'w_fp16')!;
    expect(copy.dataType).toBe(DataType.FLOAT16);
    expect(Array.from(new Uint16Array(copy.rawData!.slice().buffer))).toEqual([0x3c00, 0x4000, 0x7bff, 0xc200]);
    expect(node(half, (n) => n.name === 'max_blocked').input).toEqual(['x_cast_fp32', 'w']);
    expect(node(half, (n) => n.name === 'add_a').input).toEqual(['x', 'w_fp16']);
  });

  it('converts Constant / ConstantOfShape values and subgraphs, leaves Resize scales and int64 shapes alone', () => {
    const half = convertToFloat16(model, { keepIoTypes: true });
    const constants = half.graph!.node.filter((n) => n.opType === 'Constant');
    expect(constants.map((n) => n.attribute[0].t?.dataType)).toEqual([DataType.FLOAT16, DataType.FLOAT]);
    expect(node(half, (n) => n.opType === 'ConstantOfShape').attribute[0].t?.dataType).toBe(DataType.FLOAT16);
    expect(initializer(half, 'shape24')?.dataType).toBe(DataType.INT64);
    const resize = node(half, (n) => n.opType === 'Resize');
    expect(resize.input[2]).toBe(constants[1].output[0]);
    const thenBranch = node(half, (n) => n.opType === 'If').attribute.find((a) => a.name === 'then_branch')!.g!;
    expect(thenBranch.node.map((n) => n.opType)).toEqual(['Constant', 'Cast', 'Add']);
    expect(thenBranch.node[0].attribute[0].t?.dataType).toBe(DataType.FLOAT16);
    expect(thenBranch.output[0].type?.tensorType?.elemType).toBe(DataType.FLOAT16);
    // graph outputs keep their names and float32 type through a final Cast
    expect(half.graph!.output.map((o) => [o.name, o.type?.tensorType?.elemType])).toEqual([
      ['y', DataType.FLOAT],
      ['z', DataType.FLOAT],
    ]);
    expect(ops(half).slice(-2)).toEqual(['Cast', 'Cast']);
  });

  it('blockNodes keeps a node in float32 with Casts around it', () => {
    const half = convertToFloat16(model, { blockNodes: ['add_a'] });
    const add = node(half, (n) => n.name === 'add_a');
    expect(add.input).toEqual(['x_cast_fp32', 'w']);
    const mul = node(half, (n) => n.opType === 'Mul');
    expect(mul.input[0]).toBe(`${add.output[0]}_cast_fp16`);
  });

  it('does not modify its input model', () => {
    const before = encodeModel(model);
    convertToFloat16(model, { keepIoTypes: true });
    expect(Buffer.compare(Buffer.from(encodeModel(model)), Buffer.from(before))).toBe(0);
  });
});
