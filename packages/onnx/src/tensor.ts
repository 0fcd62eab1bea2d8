/** TensorProto <-> typed arrays through the dtype table of @sdq/quant. */
import { DataType, SdqError, byteSize, dtypeInfo, shapeSize, typedArrayFromBytes, type TypedArray } from '@sdq/quant';
import { DataLocation, type TensorProto } from './proto/types.js';
import { emptyTensor } from './proto/model.js';
import { readExternalRange, resolveExternalData } from './external.js';

const tensorLabel = (t: TensorProto): string => `tensor '${t.name ?? '(unnamed)'}'`;

/** True when the tensor's data lives in an external file (data_location EXTERNAL with external_data entries). */
export function isExternalTensor(t: TensorProto): boolean {
  return t.dataLocation === DataLocation.EXTERNAL && t.externalData.length > 0;
}

/** Number of elements (product of dims). */
export function tensorElementCount(t: TensorProto): number {
  return shapeSize(t.dims);
}

/** Bytes of the tensor's data when stored raw (sub-byte types packed); strings have none. */
export function tensorByteLength(t: TensorProto): number {
  if (t.dataType === DataType.STRING) return 0;
  return byteSize(t.dataType ?? DataType.UNDEFINED, tensorElementCount(t));
}

/** The bytes of a typed array, as a view (no copy). */
export function bytesOf(arr: TypedArray): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/** Raw little-endian bytes from the typed *_data fields (int32_data holds 1, 2 or 4 elements per entry by bit width). */
function bytesFromTypedFields(t: TensorProto): Uint8Array {
  const type = t.dataType ?? DataType.UNDEFINED;
  const info = dtypeInfo(type);
  const n = tensorElementCount(t);
  if (t.floatData.length > 0) return bytesOf(Float32Array.from(t.floatData));
  if (t.doubleData.length > 0) return bytesOf(Float64Array.from(t.doubleData));
  if (t.int64Data.length > 0) return bytesOf(BigInt64Array.from(t.int64Data, (v) => BigInt(v)));
  if (t.uint64Data.length > 0) {
    if (type === DataType.UINT32) return bytesOf(Uint32Array.from(t.uint64Data, (v) => Number(v)));
    return bytesOf(BigUint64Array.from(t.uint64Data, (v) => BigInt.asUintN(64, BigInt(v))));
  }
  if (t.int32Data.length > 0) {
    if (type === DataType.INT32) return bytesOf(Int32Array.from(t.int32Data));
    if (info.bits >= 8) {
      const Ctor = info.array!;
      const out = new Ctor(t.int32Data.length);
      for (let i = 0; i < t.int32Data.length; i++) (out as Uint8Array)[i] = t.int32Data[i]!;
      return bytesOf(out);
    }
    // sub-byte types: each int32 entry holds one packed byte
    return Uint8Array.from(t.int32Data, (v) => v & 0xff);
  }
  if (n === 0) return new Uint8Array(0);
  throw new SdqError('BAD_FORMAT', `${tensorLabel(t)} has ${n} elements but no data (no raw_data, typed data fields or external data)`);
}

/**
 * The tensor's data as raw little-endian bytes. `rawData` is returned as is (a view; it wins over external_data
 * entries); external data is read from `baseDir` (the folder of the model file), just this tensor's range; typed
 * *_data fields are converted.
 */
export function tensorBytes(t: TensorProto, baseDir?: string): Uint8Array {
  if (t.dataType === DataType.STRING) throw new SdqError('UNSUPPORTED_TYPE', `${tensorLabel(t)} is a string tensor; read t.stringData instead`);
  // in-memory bytes win: a pass may have replaced the data of a tensor that still carries its external_data entries
  if (t.rawData !== undefined) return t.rawData;
  if (isExternalTensor(t)) {
    if (baseDir === undefined) {
      throw new SdqError('INVALID_ARGUMENT', `${tensorLabel(t)} stores its data in an external file; pass the model's folder as baseDir (or read the model with externalData: 'load')`);
    }
    const ref = resolveExternalData(t, baseDir);
    return readExternalRange(ref, tensorByteLength(t), baseDir);
  }
  return bytesFromTypedFields(t);
}

/**
 * The tensor's data as a typed array of the dtype table's type (float16 -> Uint16Array bit patterns, int64 ->
 * BigInt64Array, 4-bit types -> packed Uint8Array). A view over rawData when aligned, otherwise a copy.
 */
export function tensorToTypedArray(t: TensorProto, baseDir?: string): TypedArray {
  const type = t.dataType ?? DataType.UNDEFINED;
  const bytes = tensorBytes(t, baseDir);
  const expected = tensorByteLength(t);
  if (bytes.byteLength !== expected) {
    throw new SdqError('BAD_FORMAT', `${tensorLabel(t)} has ${bytes.byteLength} data bytes, but dims [${t.dims.join(', ')}] of ${dtypeInfo(type).name} need ${expected}`);
  }
  return typedArrayFromBytes(type, bytes);
}

const TYPE_OF_ARRAY: [new (...args: never[]) => TypedArray, DataType][] = [
  [Float32Array, DataType.FLOAT],
  [Float64Array, DataType.DOUBLE],
  [Int8Array, DataType.INT8],
  [Uint8Array, DataType.UINT8],
  [Int16Array, DataType.INT16],
  [Uint16Array, DataType.UINT16],
  [Int32Array, DataType.INT32],
  [Uint32Array, DataType.UINT32],
  [BigInt64Array, DataType.INT64],
  [BigUint64Array, DataType.UINT64],
];

/**
 * A TensorProto holding `data` in raw_data (a zero-copy view of the array's bytes). `dataType` defaults from the
 * array type; pass it for bit-pattern types (FLOAT16/BFLOAT16 in a Uint16Array, FLOAT8/INT4 in a Uint8Array, BOOL).
 */
export function tensorFromTypedArray(name: string, dims: readonly number[], data: TypedArray, dataType?: DataType): TensorProto {
  const type = dataType ?? TYPE_OF_ARRAY.find(([Ctor]) => data instanceof Ctor)?.[1];
  if (type === undefined) throw new SdqError('UNSUPPORTED_TYPE', `cannot infer an ONNX data type for tensor '${name}' from ${Object.prototype.toString.call(data)}`);
  const expected = byteSize(type, shapeSize(dims));
  if (data.byteLength !== expected) {
    throw new SdqError('SHAPE_MISMATCH', `tensor '${name}': dims [${dims.join(', ')}] of ${dtypeInfo(type).name} need ${expected} bytes, the array has ${data.byteLength}`);
  }
  const t = emptyTensor();
  t.name = name;
  t.dims = [...dims];
  t.dataType = type;
  t.rawData = bytesOf(data);
  return t;
}
