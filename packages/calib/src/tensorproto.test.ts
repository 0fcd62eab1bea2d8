import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType } from '@sdq/quant';
import { decodeTensorProto, readTestDataSet } from './tensorproto.js';
import { openCalibrationData } from './reader.js';

// Bytes as onnx.numpy_helper.from_array(np.array([[1, 2.5, -3]], np.float32), 'sample').SerializeToString() writes
// them: dims (field 1, varint) x2, data_type=1 (field 2), name (field 8), raw_data (field 9).
const floatRaw = new Uint8Array(new Float32Array([1, 2.5, -3]).buffer);
const SAMPLE_PB = Uint8Array.from([
  0x08, 0x01, 0x08, 0x03, 0x10, 0x01, 0x42, 0x06, ...Buffer.from('sample'), 0x4a, 0x0c, ...floatRaw,
]);
// An int64 tensor with packed int64_data (field 7) and no name: dims [2], values [-1, 300].
const INT64_PB = Uint8Array.from([0x0a, 0x01, 0x02, 0x10, 0x07, 0x3a, 0x0c, ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 0xac, 0x02]);
// float_data (field 4, packed fixed32).
const FLOATDATA_PB = Uint8Array.from([0x08, 0x02, 0x10, 0x01, 0x22, 0x08, ...new Uint8Array(new Float32Array([0.5, -0.25]).buffer)]);

describe('decodeTensorProto', () => {
  it.each([
    ['raw_data float32 with a name', SAMPLE_PB, 'sample', DataType.FLOAT, [1, 3], [1, 2.5, -3]],
    ['packed int64_data without a name', INT64_PB, '', DataType.INT64, [2], [-1n, 300n]],
    ['packed float_data', FLOATDATA_PB, '', DataType.FLOAT, [2], [0.5, -0.25]],
  ])('%s', (_label, bytes, name, type, dims, values) => {
    const { name: got, tensor } = decodeTensorProto(bytes);
    expect(got).toBe(name);
    expect(tensor.type).toBe(type);
    expect(tensor.dims).toEqual(dims);
    expect(Array.from(tensor.data as ArrayLike<number | bigint>)).toEqual(values);
  });

  it('refuses raw_data of the wrong size naming the tensor', () => {
    const bad = SAMPLE_PB.slice();
    bad[3] = 0x04; // dims [1, 4]
    expect(() => decodeTensorProto(bad, 'input_0.pb')).toThrow(/input_0\.pb \(tensor 'sample'\): .*12 data bytes, but dims \[1, 4\] of float32 need 16/);
  });
});

describe('test_data_set folders', () => {
  it('reads input_K.pb files by name and by model input order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-pb-'));
    for (const s of [0, 1]) {
      await mkdir(join(dir, `test_data_set_${s}`));
      await writeFile(join(dir, `test_data_set_${s}`, 'input_0.pb'), SAMPLE_PB);
      await writeFile(join(dir, `test_data_set_${s}`, 'input_1.pb'), INT64_PB);
    }
    const feeds = await readTestDataSet(join(dir, 'test_data_set_1'), ['x', 'ids']);
    expect(Object.keys(feeds).sort()).toEqual(['ids', 'sample']);
    const reader = await openCalibrationData(dir, {
      inputs: [
        { name: 'sample', type: 'float32', shape: ['batch', 3] },
        { name: 'ids', type: 'int64', shape: [2] },
      ],
    });
    const all = [];
    for await (const f of reader) all.push(f);
    expect(all).toHaveLength(2);
    await reader.close();
  });
});
