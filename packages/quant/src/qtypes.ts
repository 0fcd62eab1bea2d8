import { SdqError } from './errors.js';
import { DataType, dtypeInfo } from './dtypes.js';

/** The integer types sdq quantizes to (onnxruntime's QuantType set without float8). */
export type QuantTypeName = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int4' | 'uint4';
/** A quantization target given as ONNX enum value or name. */
export type QuantTypeLike = QuantTypeName | DataType | number | string;

/** The typed array holding quantized values of each type (int4/uint4 unpacked, one element per byte). */
export type QuantizedArray = Int8Array | Uint8Array | Int16Array | Uint16Array;

export interface QuantTypeInfo {
  readonly name: QuantTypeName;
  readonly type: DataType;
  readonly bits: number;
  readonly signed: boolean;
  /** Full range of the type: what QuantizeLinear saturates to. */
  readonly min: number;
  readonly max: number;
  readonly array: Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor;
}

interface QuantRow extends QuantTypeInfo {
  readonly symmetricRange?: readonly [number, number];
  readonly reducedRange: readonly [number, number];
}

// onnxruntime quant_utils.py: ONNX_INT_TYPE_RANGE / ONNX_INT_TYPE_SYMMETRIC_RANGE / ONNX_INT_TYPE_REDUCED_RANGE.
// onnxruntime 1.30 keeps the full range for symmetric uint8 (fixtures/quant/quantmath.json: [0, 255], zero point 128);
// uint16 is assumed to follow uint8 (no 1.30 reference case for it).
const QUANT_TYPES: readonly QuantRow[] = [
  { name: 'uint8', type: DataType.UINT8, bits: 8, signed: false, min: 0, max: 255, array: Uint8Array, reducedRange: [0, 127] },
  { name: 'int8', type: DataType.INT8, bits: 8, signed: true, min: -128, max: 127, array: Int8Array, symmetricRange: [-127, 127], reducedRange: [-64, 64] },
  { name: 'uint16', type: DataType.UINT16, bits: 16, signed: false, min: 0, max: 65535, array: Uint16Array, reducedRange: [0, 32767] },
  { name: 'int16', type: DataType.INT16, bits: 16, signed: true, min: -32768, max: 32767, array: Int16Array, symmetricRange: [-32767, 32767], reducedRange: [-16384, 16384] },
  { name: 'uint4', type: DataType.UINT4, bits: 4, signed: false, min: 0, max: 15, array: Uint8Array, reducedRange: [0, 7] },
  { name: 'int4', type: DataType.INT4, bits: 4, signed: true, min: -8, max: 7, array: Int8Array, reducedRange: [-4, 3] },
];
const BY_TYPE = new Map<DataType, QuantRow>(QUANT_TYPES.map((q) => [q.type, q]));

/** Resolve a quantization target type; SdqError UNSUPPORTED_TYPE for anything but int8/uint8/int16/uint16/int4/uint4. */
export function quantTypeInfo(type: QuantTypeLike): QuantTypeInfo {
  const info = dtypeInfo(type);
  const row = BY_TYPE.get(info.type);
  if (!row) {
    throw new SdqError('UNSUPPORTED_TYPE', `cannot quantize to ${info.name}; use one of ${QUANT_TYPES.map((q) => q.name).join(', ')}`);
  }
  return row;
}

export interface QuantRangeOptions {
  /** Symmetric quantization: int8 [-127, 127], int16 [-32767, 32767]; unsigned types keep their full range (onnxruntime's `symmetric`). */
  readonly symmetric?: boolean;
  /** 7-bit style reduced range: int8 [-64, 64], uint8 [0, 127], ... (onnxruntime's `reduce_range`, wins over symmetric). */
  readonly reduceRange?: boolean;
}

export interface QuantRange {
  readonly qmin: number;
  readonly qmax: number;
}

/** onnxruntime get_qmin_qmax_for_qType: reduce_range first, then the symmetric table where the type has one, else the full range. */
export function quantRange(type: QuantTypeLike, options: QuantRangeOptions = {}): QuantRange {
  const row = quantTypeInfo(type) as QuantRow;
  const [qmin, qmax] = options.reduceRange ? row.reducedRange : options.symmetric && row.symmetricRange ? row.symmetricRange : [row.min, row.max];
  return { qmin, qmax };
}
