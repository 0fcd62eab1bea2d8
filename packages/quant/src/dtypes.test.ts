import { DataType, byteSize, dtypeInfo, typedArrayFromBytes, SdqError } from './index.js';

describe('dtype table', () => {
  it.each([
    [DataType.FLOAT, 'float32', 4],
    [DataType.FLOAT16, 'float16', 2],
    [DataType.INT8, 'int8', 1],
    [DataType.INT64, 'int64', 8],
    [DataType.INT4, 'int4', 0.5],
  ])('type %i is %s with %f bytes per element', (t, name, bytes) => {
    expect(dtypeInfo(t).name).toBe(name);
    expect(dtypeInfo(name).type).toBe(t);
    expect(byteSize(t, 2)).toBe(Math.ceil(2 * bytes));
  });
  it('packs sub-byte types rounding up', () => {
    expect(byteSize(DataType.INT4, 3)).toBe(2);
  });
  it('rejects unknown types with an SdqError', () => {
    expect(() => dtypeInfo(99)).toThrow(SdqError);
    expect(() => dtypeInfo('float17')).toThrow(/unknown tensor data type/);
  });
  it('views aligned bytes without copying', () => {
    const b = new Uint8Array(new Float32Array([1, 2]).buffer);
    const v = typedArrayFromBytes(DataType.FLOAT, b);
    expect(v.buffer).toBe(b.buffer);
    expect(Array.from(v as Float32Array)).toEqual([1, 2]);
  });
});
