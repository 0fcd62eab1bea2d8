import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataType, SdqError, byteSize, dtypeInfo, shapeSize, typedArrayFromBytes } from '@sdq/quant';
import type { TypedArray } from '@sdq/quant';
import type { CalibTensor } from './tensor.js';

// Minimal protobuf decode of onnx.TensorProto (fields: dims=1, data_type=2, float_data=4, int32_data=5, string_data=6,
// int64_data=7, name=8, raw_data=9, double_data=10, uint64_data=11, external_data=13, data_location=14). Only what a
// calibration input needs; whole models go through @sdq/onnx.

/** A TensorProto read from a .pb file: its name (may be empty) and the tensor. */
export interface NamedTensorProto {
  readonly name: string;
  readonly tensor: CalibTensor;
}

class Wire {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly source: string) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new SdqError('BAD_FORMAT', `${this.source}: truncated protobuf varint`);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  uint(): number {
    return Number(this.varint());
  }
  bytes(): Uint8Array {
    const len = this.uint();
    if (this.pos + len > this.buf.length) throw new SdqError('BAD_FORMAT', `${this.source}: truncated protobuf field`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new SdqError('BAD_FORMAT', `${this.source}: unsupported protobuf wire type ${wireType}`);
  }
}

/** Read a repeated varint field, packed (wire type 2) or not. */
function pushVarints(w: Wire, wireType: number, into: bigint[]): void {
  if (wireType === 2) {
    const sub = new Wire(w.bytes(), w.source);
    while (!sub.done) into.push(sub.varint());
  } else into.push(w.varint());
}

function pushFixed(w: Wire, wireType: number, width: 4 | 8, into: number[]): void {
  const read = (b: Uint8Array, at: number): number => {
    const v = new DataView(b.buffer, b.byteOffset + at, width);
    return width === 4 ? v.getFloat32(0, true) : v.getFloat64(0, true);
  };
  if (wireType === 2) {
    const b = w.bytes();
    for (let i = 0; i + width <= b.length; i += width) into.push(read(b, i));
  } else {
    into.push(read(w.buf, w.pos));
    w.pos += width;
  }
}

/** Decode serialized onnx.TensorProto bytes. */
export function decodeTensorProto(bytes: Uint8Array, source = 'TensorProto'): NamedTensorProto {
  const w = new Wire(bytes, source);
  const dims: bigint[] = [];
  const int32Data: bigint[] = [];
  const int64Data: bigint[] = [];
  const uint64Data: bigint[] = [];
  const floatData: number[] = [];
  const doubleData: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  let external = false;
  while (!w.done) {
    const key = w.uint();
    const field = key >>> 3;
    const wt = key & 7;
    switch (field) {
      case 1: pushVarints(w, wt, dims); break;
      case 2: dataType = w.uint(); break;
      case 4: pushFixed(w, wt, 4, floatData); break;
      case 5: pushVarints(w, wt, int32Data); break;
      case 6: throw new SdqError('UNSUPPORTED_TYPE', `${source}: string tensors cannot be calibration inputs`);
      case 7: pushVarints(w, wt, int64Data); break;
      case 8: name = new TextDecoder().decode(w.bytes()); break;
      case 9: raw = w.bytes(); break;
      case 10: pushFixed(w, wt, 8, doubleData); break;
      case 11: pushVarints(w, wt, uint64Data); break;
      case 14: external = w.uint() === 1; break;
      default: w.skip(wt);
    }
  }
  const what = `${source}${name ? ` (tensor '${name}')` : ''}`;
  if (external) throw new SdqError('UNSUPPORTED', `${what}: data stored in an external file; save the input with its data inline (raw_data)`);
  const shape = dims.map((d) => Number(d));
  const info = dtypeInfo(dataType);
  const count = shapeSize(shape);
  let data: TypedArray;
  if (raw !== undefined) {
    if (raw.length !== byteSize(dataType, count)) {
      throw new SdqError('BAD_FORMAT', `${what}: raw_data has ${raw.length} bytes, shape [${shape.join(', ')}] ${info.name} needs ${byteSize(dataType, count)}`);
    }
    data = typedArrayFromBytes(dataType, raw);
  } else {
    const Ctor = info.array;
    if (!Ctor) throw new SdqError('UNSUPPORTED_TYPE', `${what}: ${info.name} has no array form`);
    const out = new Ctor(count);
    const src: (bigint | number)[] =
      dataType === DataType.FLOAT || dataType === DataType.COMPLEX64 ? floatData
        : dataType === DataType.DOUBLE || dataType === DataType.COMPLEX128 ? doubleData
          : dataType === DataType.INT64 ? int64Data
            : dataType === DataType.UINT32 || dataType === DataType.UINT64 ? uint64Data
              : int32Data;
    if (src.length !== out.length) throw new SdqError('BAD_FORMAT', `${what}: ${src.length} values for shape [${shape.join(', ')}]`);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (out instanceof BigInt64Array) out[i] = BigInt.asIntN(64, BigInt(v));
      else if (out instanceof BigUint64Array) out[i] = BigInt.asUintN(64, BigInt(v));
      else out[i] = Number(typeof v === 'bigint' ? BigInt.asIntN(64, v) : v);
    }
    data = out;
  }
  return { name, tensor: { type: info.type, dims: shape, data } };
}

/** Read an ONNX TensorProto .pb file (as onnx.numpy_helper.from_array + SerializeToString writes it). */
export async function readTensorProto(path: string): Promise<NamedTensorProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeTensorProto(bytes, path);
}

/** Sorted test_data_set_N folders of an onnxruntime/ONNX model test directory (numeric order). */
export async function listTestDataSets(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const sets = entries.filter((e) => /^test_data_set_\d+$/.test(e)).sort((a, b) => Number(a.slice(14)) - Number(b.slice(14)));
  if (sets.length === 0) throw new SdqError('NOT_FOUND', `${dir}: no test_data_set_N folders; expected test_data_set_0/input_0.pb, ...`);
  return sets.map((s) => join(dir, s));
}

/**
 * Read one test_data_set_N folder: input_K.pb files in K order. Tensors are named by their TensorProto name, or by
 * `inputNames[K]` when the .pb carries no name.
 */
export async function readTestDataSet(dir: string, inputNames: readonly string[] = []): Promise<Record<string, CalibTensor>> {
  const files = (await readdir(dir)).filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => Number(a.slice(6, -3)) - Number(b.slice(6, -3)));
  if (files.length === 0) throw new SdqError('NOT_FOUND', `${dir}: no input_K.pb files`);
  const feeds: Record<string, CalibTensor> = {};
  for (const f of files) {
    const path = join(dir, f);
    if (!(await stat(path)).isFile()) continue;
    const k = Number(f.slice(6, -3));
    const { name, tensor } = await readTensorProto(path);
    const key = name || inputNames[k];
    if (!key) throw new SdqError('INVALID_ARGUMENT', `${path}: the TensorProto has no name and no model input #${k} is known; pass the model's input names`);
    feeds[key] = tensor;
  }
  return feeds;
}
