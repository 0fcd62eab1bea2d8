import { join } from 'node:path';
import fc from 'fast-check';
import { DataType } from '@sdq/quant';
import { arraySampleSource, openCalibrationData, readerFromSource, seededShuffle } from './reader.js';
import type { ModelInputSpec } from './reader.js';
import type { Feeds } from './tensor.js';
import { FIXTURES } from './testing/paths.js';

const UNET_INPUTS: ModelInputSpec[] = [
  { name: 'sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] },
  { name: 'timestep', type: 'float32', shape: ['batch'] },
  { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 32] },
];

function sample(i: number, batch = 2, hidden = 32): Feeds {
  return {
    sample: { type: DataType.FLOAT, dims: [batch, 4, 2, 2], data: new Float32Array(batch * 16).fill(i) },
    timestep: { type: DataType.FLOAT, dims: [batch], data: new Float32Array(batch).fill(i) },
    encoder_hidden_states: { type: DataType.FLOAT, dims: [batch, 77, hidden], data: new Float32Array(batch * 77 * hidden).fill(i) },
  };
}

async function collect(reader: AsyncIterable<Feeds>): Promise<Feeds[]> {
  const out: Feeds[] = [];
  for await (const f of reader) out.push(f);
  return out;
}

describe('CalibrationDataReader over the tiny UNet fixture', () => {
  it('yields the 8 input sets as named feeds in order, checked against the model inputs', async () => {
    const reader = await openCalibrationData(join(FIXTURES, 'quant/unet_calibration_inputs.npz'), { inputs: UNET_INPUTS });
    const feeds = await collect(reader);
    await reader.close();
    expect(reader.length).toBe(8);
    expect(feeds.map((f) => Object.keys(f).sort())).toEqual(Array(8).fill(['encoder_hidden_states', 'sample', 'timestep']));
    expect(feeds[0].sample.dims).toEqual([2, 4, 16, 16]);
  });

  it('batches, limits and shuffles with a seed reproducibly', async () => {
    const opts = { seed: 3, limit: 5, batchSize: 2, inputs: UNET_INPUTS };
    const a = await openCalibrationData(join(FIXTURES, 'quant/unet_calibration_inputs.npz'), opts);
    const b = await openCalibrationData(join(FIXTURES, 'quant/unet_calibration_inputs.npz'), opts);
    const fa = await collect(a);
    const fb = await collect(b);
    await a.close();
    await b.close();
    expect(fa.map((f) => f.sample.dims[0])).toEqual([4, 4, 2]);
    expect(fa.map((f) => Array.from(f.timestep.data as Float32Array))).toEqual(fb.map((f) => Array.from(f.timestep.data as Float32Array)));
  });
});

describe('reader checks name the input', () => {
  it.each([
    ['a missing input', { ...sample(0), encoder_hidden_states: undefined }, /no data for model input 'encoder_hidden_states'/],
    ['a wrong type', { ...sample(0), timestep: { type: DataType.INT64, dims: [2], data: new BigInt64Array(2) } }, /input 'timestep' is int64, the model wants float32/],
    ['a wrong fixed dim', sample(0, 2, 64), /input 'encoder_hidden_states' dim 2 is 64, the model wants 32/],
    ['inconsistent symbolic dims', { ...sample(0), timestep: { type: DataType.FLOAT, dims: [3], data: new Float32Array(3) } }, /input 'timestep' dim 0 \('batch'\) is 3 but input 'sample' has batch=2/],
  ])('%s', async (_label, feeds, message) => {
    const reader = readerFromSource(arraySampleSource([feeds as Feeds]), { inputs: UNET_INPUTS });
    await expect(collect(reader)).rejects.toThrow(message);
  });
});

describe('seeded shuffle', () => {
  it('is a permutation and depends only on the seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const a = seededShuffle(items, seed);
        expect([...a].sort((x, y) => x - y)).toEqual(items);
        expect(seededShuffle(items, seed)).toEqual(a);
      }),
    );
  });

  it('limit and batch cover each chosen sample once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 15 }), async (n, batch, limit) => {
        const reader = readerFromSource(arraySampleSource(Array.from({ length: n }, (_, i) => sample(i, 1))), { seed: 1, batchSize: batch, limit });
        const feeds = await collect(reader);
        const seen = feeds.flatMap((f) => Array.from(f.timestep.data as Float32Array));
        expect(seen).toHaveLength(Math.min(n, limit));
        expect(new Set(seen).size).toBe(seen.length);
      }),
      { numRuns: 30 },
    );
  });
});
