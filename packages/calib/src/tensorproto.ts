import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataType, SdqError, dtypeInfo } from '@sdq/quant';
import { decodeTensor, tensorToTypedArray } from '@sdq/onnx';
import type { TypedArray } from '@sdq/quant';
import type { CalibTensor } from './tensor.js';

/** A TensorProto read from a .pb file: its name (may be empty) and the tensor. */
export interface NamedTensorProto {
  readonly name: string;
  readonly tensor: CalibTensor;
}

/**
 * Decode serialized onnx.TensorProto bytes with @sdq/onnx's codec (raw_data or typed *_data fields, packed or not).
 * External data is read relative to `baseDir` (the .pb file's folder).
 */
export function decodeTensorProto(bytes: Uint8Array, source = 'TensorProto', baseDir?: string): NamedTensorProto {
  const proto = decodeTensor(bytes, { source });
  const name = proto.name ?? '';
  const what = `${source}${name ? ` (tensor '${name}')` : ''}`;
  if (proto.dataType === DataType.STRING) throw new SdqError('UNSUPPORTED_TYPE', `${what}: string tensors cannot be calibration inputs`);
  let data: TypedArray;
  try {
    data = tensorToTypedArray(proto, baseDir);
  } catch (e) {
    if (e instanceof SdqError) throw new SdqError(e.code, `${what}: ${e.message}`, { cause: e });
    throw e;
  }
  return { name, tensor: { type: dtypeInfo(proto.dataType ?? DataType.UNDEFINED).type, dims: [...proto.dims], data } };
}

/** Read an ONNX TensorProto .pb file (as onnx.numpy_helper.from_array + SerializeToString writes it). */
export async function readTensorProto(path: string): Promise<NamedTensorProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeTensorProto(bytes, path, dirname(path));
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
