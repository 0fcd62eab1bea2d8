import fc from 'fast-check';
import { DataType, float16ToFloat32, float32ToFloat16 } from '@sdq/quant';
import { createSession, type HostTensor } from '../testing/ort.js';
import { GraphBuilder } from '../builder/graph-builder.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto } from '../proto/types.js';
import { validateModel } from '../validate.js';
import { convertToFloat16 } from './float16.js';

/** One step of a random DAG: an op over earlier values (indices taken modulo the values so far). */
const stepArb = fc.record({
  op: fc.constantFrom('Add', 'Mul', 'Sub', 'Relu', 'Sigmoid', 'Tanh', 'Max', 'Min', 'MatMulW', 'AddW', 'Reshape', 'CumSum'),
  a: fc.nat(),
  b: fc.nat(),
  block: fc.boolean(),
});

/** Random graph over x [2, 4] from a list of steps; returns the model and the names of nodes chosen for blocking. */
function buildRandom(steps: { op: string; a: number; b: number; block: boolean }[]): { model: ModelProto; blocked: string[] } {
  const gb = new GraphBuilder({ opset: 17, seed: 1 });
  const values = [gb.input('x', DataType.FLOAT, [2, 4])];
  const blocked: string[] = [];
  const shared = gb.randomNormal('shared_w', [4], { std: 0.5 });
  steps.forEach((s, i) => {
    const a = values[s.a % values.length];
    const b = values[s.b % values.length];
    const name = `n${i}`;
    let out: string;
    if (s.op === 'MatMulW') out = gb.op('MatMul', [a, gb.randomNormal(`w${i}`, [4, 4], { std: 0.5 })], { name });
    else if (s.op === 'AddW') out = gb.op('Add', [a, shared], { name });
    else if (s.op === 'Reshape') {
      const folded = gb.op('Reshape', [a, gb.constInt64(`shape${i}`, [4, 2])], { name });
      out = gb.op('Reshape', [folded, gb.constInt64(`back${i}`, [2, 4])], { name: `${name}_back` });
    }
    else if (s.op === 'CumSum') out = gb.op('CumSum', [a, gb.constInt64(`axis${i}`, [1], [])], { name });
    else if (['Relu', 'Sigmoid', 'Tanh'].includes(s.op)) out = gb.op(s.op, [a], { name });
    else out = gb.op(s.op, [a, b], { name });
    if (s.block) blocked.push(name);
    values.push(out);
  });
  gb.output(values[values.length - 1], DataType.FLOAT, [2, 4]);
  return { model: gb.build(), blocked };
}

describe('convertToFloat16 on random graphs', () => {
  it('always gives a valid model that onnxruntime runs, close to FP32', async () => {
    const x = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5, 0.1, -2]);
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 8 }), fc.boolean(), async (steps, keepIoTypes) => {
        const { model, blocked } = buildRandom(steps);
        const half = convertToFloat16(model, { keepIoTypes, blockNodes: blocked });
        expect(validateModel(half)).toEqual([]);
        const output = model.graph!.output[0].name!;
        const ref = (await (await createSession(encodeModel(model))).run({ x: { type: 'float32', data: x, dims: [2, 4] } }))[output];
        const feed: HostTensor = keepIoTypes ? { type: 'float32', data: x, dims: [2, 4] } : { type: 'float16', data: float32ToFloat16(x), dims: [2, 4] };
        const got = (await (await createSession(encodeModel(half))).run({ x: feed }))[output];
        expect(got.type).toBe(keepIoTypes ? 'float32' : 'float16');
        const values = got.type === 'float16' ? float16ToFloat32(got.data as Uint16Array) : (got.data as Float32Array);
        const expected = ref.data as Float32Array;
        // float16 has an 11-bit significand: relative error per op ~ 2^-11; a few ops deep stays within 1%
        expected.forEach((v, i) => expect(Math.abs(values[i] - v)).toBeLessThanOrEqual(0.01 * Math.abs(v) + 0.01));
      }),
      { numRuns: 60, seed: 42 },
    );
  });
});
