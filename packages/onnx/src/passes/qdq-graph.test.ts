import { DataType, computeScaleZeroPoint, roundHalfEven } from '@sdq/quant';
import { GraphBuilder } from '../builder/graph-builder.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto } from '../proto/types.js';
import { createSession } from '../testing/ort.js';
import { convertToFloat16 } from './float16.js';
import { addGraphOutputs } from './graph-outputs.js';
import { insertQdq, insertQdqWithReport, qdqTensorsFor } from './qdq.js';

const W = [0.5, -1, 0.25, 2, -0.75, 0.1, 1.5, -0.3, 0.05, 0.9, -2, 0.6]; // [3, 4]
const W2 = Array.from({ length: 20 }, (_, i) => Math.sin(i + 1)); // [5, 4]
const B2 = [0.1, -0.2, 0.3, 0.01, -0.05];
const X = Float32Array.from([1, -2, 0.5, 3, 0.2, -0.7]);

/** x [2,3] -> MatMul(W) -> h -> Gemm(W2^T, B2) -> y, plus an activation x activation MatMul z = y^T y. */
function buildModel(): ModelProto {
  const b = new GraphBuilder({ opset: 17 });
  const x = b.input('x', DataType.FLOAT, ['n', 3]);
  const h = b.op('MatMul', [x, b.initializer('W', Float32Array.from(W), [3, 4])], { name: 'matmul', output: 'h' });
  const y = b.op('Gemm', [h, b.initializer('W2', Float32Array.from(W2), [5, 4]), b.initializer('B2', Float32Array.from(B2), [5])], {
    name: 'gemm',
    attrs: { transB: 1 },
    output: 'y',
  });
  const yt = b.op('Transpose', [y], { attrs: { perm: [1, 0] }, output: 'yt' });
  b.op('MatMul', [yt, y], { name: 'attention_like', output: 'z' });
  b.output('y', DataType.FLOAT, ['n', 5]);
  b.output('z', DataType.FLOAT, [5, 5]);
  return b.build();
}

const ranges = { x: { min: -2, max: 3 }, h: { min: -7, max: 6 }, y: [-8, 8] as const, yt: [-8, 8] as const };

/** Fake quantization as ONNX defines it: (clamp(round(f32(v / s)) + zp) - zp) * s with float32 scale. */
const fq = (v: number, s: number, zp = 0, qmin = -127, qmax = 127): number =>
  (Math.min(qmax, Math.max(qmin, roundHalfEven(Math.fround(Math.fround(v) / s)) + zp)) - zp) * s;

describe('insertQdq on a small graph', () => {
  const model = buildModel();

  it('matches a JS fake-quantization reference (int8 symmetric activations, per-channel weights on the right axes)', async () => {
    const q = insertQdq(model, ranges);
    const out = await (await createSession(encodeModel(q))).run({ x: { type: 'float32', data: X, dims: [2, 3] } });
    const sx = computeScaleZeroPoint(-2, 3, -127, 127, { symmetric: true }).scale;
    const sh = computeScaleZeroPoint(-7, 6, -127, 127, { symmetric: true }).scale;
    // MatMul weight [K=3, N=4]: one scale per column (axis 1)
    const sw = [0, 1, 2, 3].map((n) => Math.fround(Math.max(...[0, 1, 2].map((k) => Math.abs(W[k * 4 + n]))) / 127));
    // Gemm weight [N=5, K=4] with transB: one scale per row (axis 0)
    const sw2 = [0, 1, 2, 3, 4].map((n) => Math.fround(Math.max(...[0, 1, 2, 3].map((k) => Math.abs(W2[n * 4 + k]))) / 127));
    const expected: number[] = [];
    for (let r = 0; r < 2; r++) {
      const hRow = [0, 1, 2, 3].map((n) => [0, 1, 2].reduce((s, k) => s + fq(X[r * 3 + k], sx) * fq(W[k * 4 + n], sw[n]), 0));
      for (let n = 0; n < 5; n++) expected.push([0, 1, 2, 3].reduce((s, k) => s + fq(hRow[k], sh) * fq(W2[n * 4 + k], sw2[n]), B2[n]));
    }
    Array.from(out.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });

  it('leaves activation x activation MatMuls in float unless asked, and shares one Q/DQ pair per tensor', () => {
    const { model: q, report } = insertQdqWithReport(model, ranges);
    expect(report.quantizedNodes).toEqual(['matmul', 'gemm']);
    expect(report.skippedNodes).toEqual([{ node: 'attention_like', reason: 'activation x activation MatMul (activationMatMuls: false)' }]);
    const withAttention = insertQdqWithReport(model, ranges, { activationMatMuls: true });
    expect(withAttention.report.quantizedNodes).toEqual(['matmul', 'gemm', 'attention_like']);
    expect(withAttention.report.activations).toEqual(['x', 'h', 'yt', 'y']);
    const count = (m: ModelProto, op: string) => m.graph!.node.filter((n) => n.opType === op).length;
    expect([count(q, 'QuantizeLinear'), count(q, 'DequantizeLinear')]).toEqual([2, 4]);
    // float weights replaced by int8 ones
    expect(q.graph!.initializer.find((t) => t.name === 'W')).toBeUndefined();
    expect(q.graph!.initializer.find((t) => t.name === 'W_quantized')?.dataType).toBe(DataType.INT8);
  });

  it('uint8 asymmetric activations, int32 bias (scale s_x * s_w) and output Q/DQ run in onnxruntime', async () => {
    const { model: q, report } = insertQdqWithReport(model, ranges, { activationType: 'uint8', bias: 'int32', quantizeOutputs: true });
    expect(report.int32Biases).toEqual(['B2']);
    const zp = q.graph!.initializer.find((t) => t.name === 'x_zero_point')!;
    expect(zp.dataType).toBe(DataType.UINT8);
    expect(zp.rawData![0]).toBe(computeScaleZeroPoint(-2, 3, 0, 255).zeroPoint);
    const ref = await (await createSession(encodeModel(model))).run({ x: { type: 'float32', data: X, dims: [2, 3] } });
    const out = await (await createSession(encodeModel(q))).run({ x: { type: 'float32', data: X, dims: [2, 3] } });
    Array.from(out.y.data as Float32Array).forEach((v, i) => expect(Math.abs(v - (ref.y.data as Float32Array)[i])).toBeLessThan(0.1));
  });

  it('skipNodes and missing ranges', () => {
    expect(insertQdqWithReport(model, ranges, { skipNodes: [/^gem/] }).report.quantizedNodes).toEqual(['matmul']);
    expect(insertQdqWithReport(model, ranges, { skipNodes: (n) => n.opType === 'MatMul' }).report.quantizedNodes).toEqual(['gemm']);
    expect(() => insertQdq(model, { x: [-1, 1] })).toThrow(/no range for activation "h"/);
    expect(insertQdqWithReport(model, { x: [-1, 1] }, { missingRange: 'skip-node' }).report.skippedNodes[0]).toEqual({ node: 'gemm', reason: 'no range for h' });
    expect(() => insertQdq(model, { x: [2, 1], h: [0, 1] })).toThrow(/finite min <= max/);
  });
});

describe('addGraphOutputs', () => {
  it('exposes intermediates with their element types and onnxruntime returns them', async () => {
    const b = new GraphBuilder({ opset: 17 });
    const x = b.input('x', DataType.FLOAT, [2, 3]);
    const s = b.op('Shape', [x], { output: 'shape' });
    const r = b.op('Relu', [x], { output: 'relu' });
    b.op('Reshape', [r, s], { output: 'y' });
    b.output('y', DataType.FLOAT, [2, 3]);
    const model = addGraphOutputs(b.build(), ['relu', 'shape', 'y']);
    expect(model.graph!.output.map((o) => [o.name, o.type?.tensorType?.elemType])).toEqual([
      ['y', DataType.FLOAT],
      ['relu', DataType.FLOAT],
      ['shape', DataType.INT64],
    ]);
    const out = await (await createSession(encodeModel(model))).run({ x: { type: 'float32', data: Float32Array.from([-1, 2, -3, 4, 0, 1]), dims: [2, 3] } });
    expect(Array.from(out.relu.data as Float32Array)).toEqual([0, 2, 0, 4, 0, 1]);
    expect(Array.from(out.shape.data as BigInt64Array)).toEqual([2n, 3n]);
    expect(() => addGraphOutputs(model, ['nope'])).toThrow(/no value named "nope"/);
  });
});

describe('QDQ then FP16', () => {
  it('keeps Q/DQ in float32 below opset 19 and the model runs', async () => {
    const half = convertToFloat16(insertQdq(buildModel(), ranges), { keepIoTypes: true });
    const dq = half.graph!.node.filter((n) => n.opType === 'DequantizeLinear');
    expect(dq.length).toBeGreaterThan(0);
    for (const n of dq) expect(half.graph!.initializer.find((t) => t.name === n.input[1])?.dataType).toBe(DataType.FLOAT);
    const out = await (await createSession(encodeModel(half))).run({ x: { type: 'float32', data: X, dims: [2, 3] } });
    const ref = await (await createSession(encodeModel(insertQdq(buildModel(), ranges)))).run({ x: { type: 'float32', data: X, dims: [2, 3] } });
    Array.from(out.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((ref.y.data as Float32Array)[i], 1));
  });
});

describe('qdqTensorsFor: the ranges insertQdq reads', () => {
  const model = buildModel();
  const all = { x: [-2, 3], h: [-7, 6], y: [-8, 8], yt: [-8, 8], z: [-50, 50] } as const;

  it.each([
    ['weight MatMul/Gemm only', {}, ['x', 'h']],
    ['with outputs', { quantizeOutputs: true }, ['x', 'h', 'y']],
    ['with activation MatMuls and outputs', { quantizeOutputs: true, activationMatMuls: true }, ['x', 'h', 'y', 'yt', 'z']],
    ['gemm skipped', { skipNodes: ['gemm'], quantizeOutputs: true }, ['x', 'h']],
    ['gemm output left float (floatOutputNodes)', { quantizeOutputs: true, floatOutputNodes: ['gemm'] }, ['x', 'h']],
    ['attention inputs quantized, gemm output float', { quantizeOutputs: true, activationMatMuls: true, floatOutputNodes: [/^gem/] }, ['x', 'h', 'yt', 'y', 'z']],
    ['Gemm only', { opTypes: ['Gemm'] }, ['h']],
  ] as const)('%s', (_label, policy, expected) => {
    expect(qdqTensorsFor(model, policy)).toEqual(expected);
    // given every range, insertQdq quantizes exactly these activations; given only these, the same graph comes out
    const full = insertQdqWithReport(model, all, policy);
    expect([...full.report.activations].sort()).toEqual([...expected].sort());
    const only = Object.fromEntries(expected.map((t) => [t, all[t]]));
    expect(insertQdqWithReport(model, only, policy).model).toEqual(full.model);
  });
});
