import fc from 'fast-check';
import { DataType } from '@sdq/quant';
import { createSession } from '../testing/ort.js';
import { GraphBuilder } from '../builder/graph-builder.js';
import { Mulberry32 } from '../builder/prng.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto } from '../proto/types.js';
import { validateModel } from '../validate.js';
import { addGraphOutputs } from './graph-outputs.js';
import { insertQdqWithReport, type QdqPolicy, type TensorRange } from './qdq.js';

const stepArb = fc.record({
  op: fc.constantFrom('Conv', 'MatMulW', 'MatMulAA', 'Gemm', 'Add', 'Relu', 'Sigmoid'),
  a: fc.nat(),
  b: fc.nat(),
  transB: fc.boolean(),
});
const policyArb: fc.Arbitrary<QdqPolicy> = fc.record({
  activationType: fc.constantFrom<'int8' | 'uint8'>('int8', 'uint8'),
  activationMatMuls: fc.boolean(),
  perChannel: fc.boolean(),
  quantizeOutputs: fc.boolean(),
  bias: fc.constantFrom<'float' | 'int32'>('float', 'int32'),
  opTypes: fc.constantFrom(['Conv'], ['Conv', 'MatMul', 'Gemm'], ['Conv', 'MatMul', 'Gemm', 'Add']),
});

/** Random DAG over x [1, 4, 4, 4]: Conv 3x3, MatMul with a weight or of two activations, Gemm (via reshapes), Add, ... */
function buildRandom(steps: { op: string; a: number; b: number; transB: boolean }[]): ModelProto {
  const g = new GraphBuilder({ opset: 17, seed: 3 });
  const values = [g.input('x', DataType.FLOAT, [1, 4, 4, 4])];
  steps.forEach((s, i) => {
    const a = values[s.a % values.length];
    const b = values[s.b % values.length];
    let out: string;
    if (s.op === 'Conv') {
      out = g.op('Conv', [a, g.randomNormal(`conv${i}.w`, [4, 4, 3, 3], { std: 1 / 6 }), g.randomNormal(`conv${i}.b`, [4], { std: 0.1 })], { attrs: { pads: [1, 1, 1, 1] } });
    } else if (s.op === 'MatMulW') {
      out = g.op('MatMul', [a, g.randomNormal(`mm${i}.w`, [4, 4], { std: 0.5 })]);
    } else if (s.op === 'MatMulAA') {
      out = g.op('Mul', [g.op('MatMul', [a, b]), g.constFloat(`scale${i}`, [0.25], [])]);
    } else if (s.op === 'Gemm') {
      const flat = g.op('Reshape', [a, g.constInt64(`flat${i}`, [16, 4])]);
      const w = g.randomNormal(`gemm${i}.w`, [4, 4], { std: 0.5 });
      const y = g.op('Gemm', [flat, w, g.randomNormal(`gemm${i}.b`, [4], { std: 0.1 })], { attrs: { transB: s.transB ? 1 : 0 } });
      out = g.op('Reshape', [y, g.constInt64(`unflat${i}`, [1, 4, 4, 4])]);
    } else if (s.op === 'Add') out = g.op('Add', [a, b]);
    else out = g.op(s.op, [a]);
    values.push(out);
  });
  g.output(values[values.length - 1], DataType.FLOAT, [1, 4, 4, 4]);
  return g.build();
}

describe('insertQdq on random graphs', () => {
  it('with ranges calibrated on the input, any policy gives a valid model that runs and stays near FP32', async () => {
    const x = new Mulberry32(9).fillNormal(new Float32Array(64));
    const feeds = { x: { type: 'float32' as const, data: x, dims: [1, 4, 4, 4] } };
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), policyArb, async (steps, policy) => {
        const model = buildRandom(steps);
        const output = model.graph!.output[0].name!;
        const names = model.graph!.node.flatMap((n) => n.output);
        const all = await (await createSession(encodeModel(addGraphOutputs(model, names)))).run(feeds);
        const ranges = new Map<string, TensorRange>();
        for (const n of names) {
          const d = all[n].data as Float32Array;
          ranges.set(n, { min: Math.min(...d), max: Math.max(...d) });
        }
        ranges.set('x', { min: Math.min(...x), max: Math.max(...x) });
        const { model: q } = insertQdqWithReport(model, ranges, policy);
        expect(validateModel(q)).toEqual([]);
        const got = (await (await createSession(encodeModel(q))).run(feeds))[output].data as Float32Array;
        const ref = all[output].data as Float32Array;
        let signal = 0;
        let noise = 0;
        ref.forEach((v, i) => {
          signal += v * v;
          noise += (v - got[i]) ** 2;
        });
        // 8-bit steps of a calibrated range through at most 6 ops: far below 1/10 of the signal power
        expect(noise).toBeLessThanOrEqual(signal / 10 + 1e-6);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});
