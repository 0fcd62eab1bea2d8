import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType } from '@sdq/quant';
import { openNpz, readNpz, writeNpz } from './npz.js';
import { readNpy } from './npy.js';
import { FIXTURES, TESTDATA } from './testing/paths.js';

describe('readNpz', () => {
  it.each([
    ['stored.npz (np.savez)', 'stored.npz', ['sample_0', 'timestep_0', 'sample_1', 'timestep_1']],
    ['deflated.npz (np.savez_compressed)', 'deflated.npz', ['a', 'b', 'c']],
  ])('%s lists and reads every member', async (_label, file, names) => {
    const arrays = await readNpz(join(TESTDATA, file));
    expect(Object.keys(arrays)).toEqual(names);
    const f32 = await readNpy(join(TESTDATA, 'f32.npy'));
    const first = arrays[names[0]];
    expect(first.dims).toEqual([2, 3, 4]);
    expect(Array.from(first.data as Float32Array)).toEqual(Array.from(f32.data as Float32Array));
  });

  it('reads int64 and bool members of a deflated archive', async () => {
    const arrays = await readNpz(join(TESTDATA, 'deflated.npz'));
    expect(arrays.b.type).toBe(DataType.INT64);
    expect((arrays.b.data as BigInt64Array)[3]).toBe(2n ** 62n);
    expect(arrays.c.type).toBe(DataType.BOOL);
    expect(Array.from(arrays.c.data as Uint8Array)).toEqual([1, 0, 1]);
  });

  it('reads a deflated fixture member by member', async () => {
    const archive = await openNpz(join(FIXTURES, 'quant/shapes_unet_calibration_inputs.npz'));
    try {
      expect(archive.names).toHaveLength(240);
      const t = await archive.read('encoder_hidden_states_79');
      expect(t.dims).toEqual([2, 77, 64]);
      const ts = await archive.read('timestep_0');
      expect(Array.from(ts.data as Float32Array)).toEqual([901, 901]);
      await expect(archive.read('nope')).rejects.toThrow(/no array 'nope'/);
    } finally {
      await archive.close();
    }
  });
});

describe('writeNpz', () => {
  it('round-trips arrays of every calibration dtype', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-npz-'));
    const path = join(dir, 'out.npz');
    const arrays = {
      x: { type: DataType.FLOAT, dims: [2, 2], data: Float32Array.from([1, -2, 3.5, 4]) },
      h: { type: DataType.FLOAT16, dims: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
      i: { type: DataType.INT64, dims: [1], data: BigInt64Array.from([-(2n ** 50n)]) },
      b: { type: DataType.BOOL, dims: [3], data: Uint8Array.from([1, 0, 1]) },
    };
    await writeNpz(path, arrays);
    expect(await readdir(dir)).toEqual(['out.npz']);
    const back = await readNpz(path);
    for (const [k, t] of Object.entries(arrays)) {
      expect(back[k].type).toBe(t.type);
      expect(back[k].dims).toEqual(t.dims);
      expect(Array.from(back[k].data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
  });
});
