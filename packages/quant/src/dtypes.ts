import { SdqError } from './errors.js';

/** ONNX TensorProto.DataType values (onnx.proto3, ONNX 1.20). */
export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
}

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export interface DTypeInfo {
  /** ONNX enum value. */
  readonly type: DataType;
  /** Lower-case name as onnxruntime-node and numpy spell it ('float32', 'float16', 'int8', ...). */
  readonly name: string;
  /** Typed array holding one element per slot (bit patterns for float16/bfloat16/float8; packed bytes for 4/2-bit). */
  readonly array: TypedArrayConstructor | undefined;
  /** Bits per element; sub-byte types are packed, low nibble first (ONNX spec). */
  readonly bits: number;
  /** True for types whose elements are stored as raw bit patterns (no JS arithmetic type). */
  readonly bitPattern: boolean;
  /** numpy dtype string (little endian) where numpy has one. */
  readonly numpy?: string;
}

const row = (
  type: DataType,
  name: string,
  array: TypedArrayConstructor | undefined,
  bits: number,
  bitPattern = false,
  numpy?: string,
): DTypeInfo => ({ type, name, array, bits, bitPattern, numpy });

/** The one dtype table: ONNX data type <-> name <-> typed array <-> bits. All tensor code goes through it. */
export const DTYPES: readonly DTypeInfo[] = [
  row(DataType.FLOAT, 'float32', Float32Array, 32, false, '<f4'),
  row(DataType.UINT8, 'uint8', Uint8Array, 8, false, '|u1'),
  row(DataType.INT8, 'int8', Int8Array, 8, false, '|i1'),
  row(DataType.UINT16, 'uint16', Uint16Array, 16, false, '<u2'),
  row(DataType.INT16, 'int16', Int16Array, 16, false, '<i2'),
  row(DataType.INT32, 'int32', Int32Array, 32, false, '<i4'),
  row(DataType.INT64, 'int64', BigInt64Array, 64, false, '<i8'),
  row(DataType.STRING, 'string', undefined, 0),
  row(DataType.BOOL, 'bool', Uint8Array, 8, false, '|b1'),
  row(DataType.FLOAT16, 'float16', Uint16Array, 16, true, '<f2'),
  row(DataType.DOUBLE, 'float64', Float64Array, 64, false, '<f8'),
  row(DataType.UINT32, 'uint32', Uint32Array, 32, false, '<u4'),
  row(DataType.UINT64, 'uint64', BigUint64Array, 64, false, '<u8'),
  row(DataType.COMPLEX64, 'complex64', Float32Array, 64, false, '<c8'),
  row(DataType.COMPLEX128, 'complex128', Float64Array, 128, false, '<c16'),
  row(DataType.BFLOAT16, 'bfloat16', Uint16Array, 16, true),
  row(DataType.FLOAT8E4M3FN, 'float8e4m3fn', Uint8Array, 8, true),
  row(DataType.FLOAT8E4M3FNUZ, 'float8e4m3fnuz', Uint8Array, 8, true),
  row(DataType.FLOAT8E5M2, 'float8e5m2', Uint8Array, 8, true),
  row(DataType.FLOAT8E5M2FNUZ, 'float8e5m2fnuz', Uint8Array, 8, true),
  row(DataType.UINT4, 'uint4', Uint8Array, 4, true),
  row(DataType.INT4, 'int4', Uint8Array, 4, true),
  row(DataType.FLOAT4E2M1, 'float4e2m1', Uint8Array, 4, true),
  row(DataType.FLOAT8E8M0, 'float8e8m0', Uint8Array, 8, true),
  row(DataType.UINT2, 'uint2', Uint8Array, 2, true),
  row(DataType.INT2, 'int2', Uint8Array, 2, true),
];

const byType = new Map<number, DTypeInfo>(DTYPES.map((d) => [d.type, d]));
const byName = new Map<string, DTypeInfo>(DTYPES.map((d) => [d.name, d]));

/** Look up a dtype by ONNX enum value or name; throws SdqError UNSUPPORTED_TYPE for anything else. */
export function dtypeInfo(type: DataType | number | string): DTypeInfo {
  const info = typeof type === 'string' ? byName.get(type.toLowerCase()) : byType.get(type);
  if (!info) {
    throw new SdqError('UNSUPPORTED_TYPE', `unknown tensor data type ${JSON.stringify(type)}; expected an ONNX TensorProto.DataType (1-26) or one of ${DTYPES.map((d) => d.name).join(', ')}`);
  }
  return info;
}

/** Bytes needed to store `count` elements of `type` (sub-byte types packed, rounded up). */
export function byteSize(type: DataType | number | string, count: number): number {
  const info = dtypeInfo(type);
  if (info.type === DataType.STRING) throw new SdqError('UNSUPPORTED_TYPE', 'string tensors have no fixed byte size');
  return Math.ceil((count * info.bits) / 8);
}

/** Typed array view over `bytes` for `type` (copies only when the offset is misaligned). */
export function typedArrayFromBytes(type: DataType | number | string, bytes: Uint8Array): TypedArray {
  const info = dtypeInfo(type);
  const Ctor = info.array;
  if (!Ctor) throw new SdqError('UNSUPPORTED_TYPE', `${info.name} tensors have no typed array form`);
  const el = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % el !== 0) {
    throw new SdqError('BAD_FORMAT', `${bytes.byteLength} bytes is not a whole number of ${info.name} elements (${el} bytes each)`);
  }
  if (bytes.byteOffset % el === 0) return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / el) as TypedArray;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / el) as TypedArray;
}

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
