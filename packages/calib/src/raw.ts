import { readFile } from 'node:fs/promises';
import { SdqError, byteSize, dtypeInfo, shapeSize, typedArrayFromBytes } from '@sdq/quant';
import type { DataType } from '@sdq/quant';
import type { CalibTensor } from './tensor.js';

/** Read a raw little-endian binary file as one tensor of the given element type and shape (C order, no header). */
export async function readRaw(path: string, type: DataType | string, dims: readonly number[]): Promise<CalibTensor> {
  const info = dtypeInfo(type);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const need = byteSize(info.type, shapeSize(dims));
  if (bytes.length !== need) {
    throw new SdqError('SHAPE_MISMATCH', `${path}: ${bytes.length} bytes, but shape [${dims.join(', ')}] of ${info.name} needs ${need}; check --dtype/--shape`);
  }
  return { type: info.type, dims: [...dims], data: typedArrayFromBytes(info.type, bytes) };
}
