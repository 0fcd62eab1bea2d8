import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataType } from '@sdq/quant';
import { decodeModel, encodeModel } from '../proto/model.js';
import { AttributeType } from '../proto/types.js';
import { createSession } from '../testing/ort.js';
import { ExternalDataWriter } from './external-data-writer.js';
import { GraphBuilder } from './graph-builder.js';
import { Mulberry32 } from './prng.js';
import { attr } from './proto-factory.js';

describe('GraphBuilder', () => {
  it('builds a graph with typed attributes, symbolic dims and metadata that onnxruntime runs like a JS reference', async () => {
    const b = new GraphBuilder({ opset: 18, irVersion: 10, seed: 7 });
    const x = b.input('x', DataType.FLOAT, ['batch', 3]);
    const w = b.initializer('w', Float32Array.from([1, -2, 0.5, 3, 0.25, -1]), [3, 2]);
    const w2 = b.randomNormal('w2', [4, 2], { std: 0.5 });
    const bias = b.constFloat('bias', [0.1, -0.2, 0.3, -0.4]);
    const h = b.op('MatMul', [x, w], { metadata: { 'pkg.sdq.note': 'first' } });
    const g = b.op('Gemm', [h, w2, bias], { attrs: { alpha: attr.float(0.5), beta: attr.float(1), transB: 1 } });
    const y = b.op('LeakyRelu', [g], { attrs: { alpha: 0.1 }, output: 'y' });
    b.valueInfo(h, DataType.FLOAT, ['batch', 2]);
    b.output(y, DataType.FLOAT, ['batch', 4]);
    const model = b.build();

    expect(model.irVersion).toBe(10);
    expect(model.opsetImport).toEqual([{ domain: '', version: 18 }]);
    const gemm = model.graph!.node[1];
    expect(gemm.attribute.map((a) => [a.name, a.type])).toEqual([
      ['alpha', AttributeType.FLOAT],
      ['beta', AttributeType.FLOAT],
      ['transB', AttributeType.INT],
    ]);
    expect(model.graph!.node[0].metadataProps).toEqual([{ key: 'pkg.sdq.note', value: 'first' }]);
    expect(model.graph!.input[0].type?.tensorType?.shape?.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }]);
    expect(b.parameterCount).toBe(6 + 8 + 4);

    const bytes = encodeModel(model);
    expect(encodeModel(decodeModel(bytes))).toEqual(bytes);

    const input = Float32Array.from([1, 2, 3, -1, 0.5, 2]);
    const out = await (await createSession(bytes)).run({ x: { type: 'float32', data: input, dims: [2, 3] } });
    const W = [1, -2, 0.5, 3, 0.25, -1];
    const W2 = new Float32Array(model.graph!.initializer[1].rawData!.slice().buffer);
    const B = [0.1, -0.2, 0.3, -0.4];
    const expected: number[] = [];
    for (let r = 0; r < 2; r++) {
      const hRow = [0, 1].map((j) => [0, 1, 2].reduce((s, k) => s + input[r * 3 + k] * W[k * 2 + j], 0));
      for (let n = 0; n < 4; n++) {
        const v = 0.5 * (hRow[0] * W2[n * 2] + hRow[1] * W2[n * 2 + 1]) + B[n];
        expected.push(v >= 0 ? v : 0.1 * v);
      }
    }
    expect(out.y.dims).toEqual([2, 4]);
    Array.from(out.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('rejects duplicate names and mismatched initializer sizes', () => {
    const b = new GraphBuilder();
    b.input('x', DataType.FLOAT, [1]);
    expect(() => b.input('x', DataType.FLOAT, [1])).toThrow(/already used/);
    expect(() => b.initializer('w', new Float32Array(3), [2, 2])).toThrow(/4 expected/);
    expect(() => b.initializer('h', new Uint16Array(4), [4], DataType.FLOAT)).toThrow(/Float32Array/);
    expect(b.initializer('h16', new Uint16Array(4), [4], DataType.FLOAT16)).toBe('h16');
  });

  it('random weights depend only on (seed, name), not on order or on streaming to external data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdq-builder-'));
    try {
      const inline = new GraphBuilder({ seed: 3 });
      inline.randomNormal('a', [10]);
      inline.randomNormal('big', [3000], { std: 2 });
      const writer = new ExternalDataWriter(dir, 'weights.bin', { threshold: 100 });
      const streamed = new GraphBuilder({ seed: 3, externalData: writer });
      streamed.randomNormal('big', [3000], { std: 2 });
      streamed.randomNormal('a', [10]);
      writer.commit();
      const [a1, big1] = inline.buildGraph().initializer;
      const [big2, a2] = streamed.buildGraph().initializer;
      expect(a2.rawData).toEqual(a1.rawData);
      expect(big2.rawData).toBeUndefined();
      expect(big2.externalData).toEqual([
        { key: 'location', value: 'weights.bin' },
        { key: 'offset', value: '0' },
        { key: 'length', value: '12000' },
      ]);
      expect(new Uint8Array(readFileSync(join(dir, 'weights.bin')))).toEqual(big1.rawData);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the normal sampler has mean ~0 and std ~1', () => {
    const values = new Mulberry32(123).fillNormal(new Float32Array(100_000));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it('uniform values stay in [0, 1) for any seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const r = new Mulberry32(seed);
        for (let i = 0; i < 50; i++) {
          const u = r.uniform();
          if (!(u >= 0 && u < 1)) return false;
        }
        return true;
      }),
    );
  });
});
