import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataType, SdqError } from '@sdq/quant';
import { decodeModel } from './proto/model.js';
import { tensorByteLength, tensorBytes, tensorFromTypedArray, tensorToTypedArray } from './tensor.js';
import type { TensorProto } from './proto/types.js';

const m = decodeModel(readFileSync(fileURLToPath(new URL('./testdata/python-corner-cases.onnx', import.meta.url))));
const init = (name: string): TensorProto => m.graph!.initializer.find((t) => t.name === name)!;

describe('tensorToTypedArray over the typed *_data fields (written by onnx.helper)', () => {
  it.each([
    ['f', Float32Array, [1.5, -0, Math.fround(3.4e38)]],
    ['i32', Int32Array, [-1, 2147483647, -2147483648]],
    ['i64', BigInt64Array, [-9223372036854775808n, 9223372036854775807n, -1n]],
    ['u64', BigUint64Array, [18446744073709551615n, 9007199254740993n]],
    ['d', Float64Array, [1e300, -2.5]],
    // onnx 1.12's make_tensor took the uint16 values 15360/49152 as numbers and stored their float16 bits
    ['h', Uint16Array, [0x7380, 0x7a00]],
    ['raw', Float32Array, [0, 1, 2, 3, 4, 5]],
  ] as const)('%s', (name, Ctor, values) => {
    const arr = tensorToTypedArray(init(name));
    expect(arr).toBeInstanceOf(Ctor);
    expect(Array.from(arr as ArrayLike<number | bigint>)).toEqual(values);
    expect(tensorBytes(init(name)).byteLength).toBe(tensorByteLength(init(name)));
  });

  it('points at string data and at missing data with clear errors', () => {
    expect(() => tensorToTypedArray(init('s'))).toThrow(/string tensor/);
    expect(() => tensorToTypedArray(init('ext'))).toThrow(/baseDir/);
    const t = tensorFromTypedArray('x', [4], new Float32Array(4));
    t.rawData = t.rawData!.subarray(0, 8);
    expect(() => tensorToTypedArray(t)).toThrow(SdqError);
  });

  it('makes float16 and int4 tensors from bit patterns', () => {
    const h = tensorFromTypedArray('h', [2], Uint16Array.from([0x3c00, 0xc000]), DataType.FLOAT16);
    expect(Array.from(tensorToTypedArray(h) as Uint16Array)).toEqual([0x3c00, 0xc000]);
    const q = tensorFromTypedArray('q', [3], Uint8Array.from([0x21, 0x03]), DataType.INT4);
    expect(tensorByteLength(q)).toBe(2);
  });
});
