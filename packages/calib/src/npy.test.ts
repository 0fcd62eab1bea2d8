import { readFile } from 'node:fs/promises';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataType, dtypeInfo, float16ToFloat32Maybe } from './npy.test-helpers.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy.js';
import { TESTDATA } from './testing/paths.js';

interface Expected { dtype: string; shape: number[]; values: (number | boolean)[] }
const expected = JSON.parse(await readFile(join(TESTDATA, 'expected.json'), 'utf8')) as Record<string, Expected>;

const numpyToName: Record<string, string> = { float32: 'float32', float16: 'float16', float64: 'float64', int64: 'int64', int32: 'int32', uint8: 'uint8', bool: 'bool', '>f4': 'float32' };

describe('readNpy golden files written by numpy', () => {
  it.each(Object.keys(expected))('%s.npy', async (key) => {
    const e = expected[key];
    const t = await readNpy(join(TESTDATA, `${key}.npy`));
    expect(dtypeInfo(t.type).name).toBe(numpyToName[e.dtype] ?? e.dtype);
    expect(t.dims).toEqual(e.shape);
    const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
    const got = t.type === DataType.FLOAT16 ? values.map(float16ToFloat32Maybe) : t.type === DataType.BOOL ? values.map((v) => v === 1) : values;
    if (t.type === DataType.INT64) expect((t.data as BigInt64Array)[3]).toBe(2n ** 62n);
    expect(got).toEqual(e.values.map((v) => (typeof v === 'number' && t.type === DataType.FLOAT ? Math.fround(v) : v)));
  });

  it.each(['f32_v2', 'f32_v3'])('format version %s reads like version 1', async (key) => {
    const a = await readNpy(join(TESTDATA, `${key}.npy`));
    const b = await readNpy(join(TESTDATA, 'f32.npy'));
    expect(a.dims).toEqual(b.dims);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
  });

  it.each([
    ['fortran.npy', /Fortran-order.*np\.ascontiguousarray/],
    ['object.npy', /object arrays/],
  ])('%s is refused with a clear error', async (file, message) => {
    await expect(readNpy(join(TESTDATA, file))).rejects.toThrow(message);
  });

  it('names the file when it is not .npy', async () => {
    await expect(readNpy(join(TESTDATA, 'expected.json'))).rejects.toThrow(/expected\.json: not a \.npy file/);
  });
});

describe('writeNpy', () => {
  it('writes exactly the bytes numpy writes', async () => {
    const numpyBytes = new Uint8Array(await readFile(join(TESTDATA, 'f32.npy')));
    expect(Buffer.from(encodeNpy(decodeNpy(numpyBytes)))).toEqual(Buffer.from(numpyBytes));
  });

  it('round-trips any float32 tensor and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-npy-'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }), async (dims) => {
        const n = dims.reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 100));
        const path = join(dir, 'x.npy');
        await writeNpy(path, { type: DataType.FLOAT, dims, data });
        const back = await readNpy(path);
        expect(back.dims).toEqual(dims);
        expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
      }),
      { numRuns: 25 },
    );
    expect(await readdir(dir)).toEqual(['x.npy']);
  });
});
