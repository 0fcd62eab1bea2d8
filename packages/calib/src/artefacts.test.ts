import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readRanges, toCalibrationJson, writeCalibrationJson, writeRangesJson } from './artefacts.js';
import type { RangesFile } from './stats.js';
import { readRaw } from './raw.js';
import { DataType } from '@sdq/quant';

const sample: RangesFile = {
  format: 'sdq-ranges', version: 1, model: 'unet/model.onnx', method: 'minmax', options: { symmetric: false }, batches: 8,
  ranges: { a: [-1.5, 3], b: [0, 0.25] },
};

describe('calibration artefacts', () => {
  it('calibration.json has amax and scale = amax / 127 for every tensor', () => {
    fc.assert(
      fc.property(fc.float({ min: -1e4, max: 0, noNaN: true }), fc.float({ min: 0, max: 1e4, noNaN: true }), (lo, hi) => {
        const c = toCalibrationJson({ ...sample, ranges: { t: [lo, hi] } });
        const amax = Math.max(Math.abs(lo), Math.abs(hi));
        expect(c.tensors.t.amax).toBe(amax);
        expect(c.tensors.t.scale).toBe(Math.fround(amax / 127));
      }),
    );
  });

  it.each([
    ['ranges.json', (p: string) => writeRangesJson(p, sample)],
    ['calibration.json', (p: string) => writeCalibrationJson(p, sample)],
    ['plain object', (p: string) => writeFile(p, JSON.stringify({ a: [-1.5, 3], b: { min: 0, max: 0.25 } }))],
  ])('readRanges reads %s', async (_label, write) => {
    const path = join(await mkdtemp(join(tmpdir(), 'sdq-art-')), 'r.json');
    await write(path);
    expect(await readRanges(path)).toEqual({ a: [-1.5, 3], b: [0, 0.25] });
  });

  it('readRanges names the bad tensor', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sdq-art-')), 'bad.json');
    await writeFile(path, JSON.stringify({ ranges: { ok: [0, 1], broken: [2, 1] } }));
    await expect(readRanges(path)).rejects.toThrow(/bad\.json: tensor 'broken' has no valid \[min, max\]/);
  });
});

describe('readRaw', () => {
  it('reads a headerless little-endian file with the given dtype and shape, and checks the size', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sdq-raw-')), 'x.bin');
    await writeFile(path, new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer));
    const t = await readRaw(path, 'float32', [2, 3]);
    expect(t.type).toBe(DataType.FLOAT);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(readRaw(path, 'float16', [2, 3])).rejects.toThrow(/24 bytes, but shape \[2, 3\] of float16 needs 12/);
  });
});
