import { readFile } from 'node:fs/promises';
import { DTYPES, DataType, SdqError, byteSize, dtypeInfo, shapeSize, typedArrayFromBytes } from '@sdq/quant';
import type { DTypeInfo } from '@sdq/quant';
import type { CalibTensor } from './tensor.js';
import { writeFileAtomic } from './files.js';

// NumPy .npy format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The element types calibration data may use (the list); everything else is refused with a clear error. */
const NPY_TYPES: ReadonlySet<DataType> = new Set([
  DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.INT64, DataType.INT32, DataType.UINT8, DataType.BOOL,
  DataType.INT8, DataType.INT16, DataType.UINT16, DataType.UINT32, DataType.UINT64,
]);

interface NpyHeader {
  readonly info: DTypeInfo;
  readonly bigEndian: boolean;
  readonly shape: number[];
  readonly dataOffset: number;
}

function fail(source: string, why: string): never {
  throw new SdqError('BAD_FORMAT', `${source}: ${why}`);
}

/** numpy descr ('<f4', '|b1', '>i8') -> dtype row of the one dtype table. */
function dtypeFromDescr(descr: string, source: string): { info: DTypeInfo; bigEndian: boolean } {
  if (descr.startsWith('|O') || descr === 'O') {
    fail(source, `object arrays (dtype ${descr}) cannot be read without Python pickles; save the array with a numeric dtype (e.g. arr.astype(np.float32))`);
  }
  const order = descr[0];
  const code = descr.slice(1);
  const bigEndian = order === '>';
  const info = DTYPES.find((d) => d.numpy !== undefined && d.numpy.slice(1) === code && NPY_TYPES.has(d.type));
  if (!info || !['<', '>', '|', '='].includes(order)) {
    fail(source, `unsupported numpy dtype '${descr}'; use one of float32, float16, float64, int64, int32, uint8, bool`);
  }
  return { info, bigEndian: bigEndian && info.bits > 8 };
}

/** Parse the header of a .npy file (versions 1, 2, 3). `bytes` needs only the first header bytes. */
export function parseNpyHeader(bytes: Uint8Array, source = '.npy data'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail(source, 'not a .npy file (magic \\x93NUMPY missing)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(source, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    fail(source, `.npy format version ${major}.${bytes[7]} is not supported (versions 1-3 are)`);
  }
  if (bytes.length < start + headerLen) fail(source, `truncated .npy header (${headerLen} bytes announced)`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    if (/'descr'\s*:\s*\[/.test(text)) fail(source, 'structured (record) arrays are not supported; save each field as its own array');
    fail(source, `malformed .npy header ${JSON.stringify(text.trim())}`);
  }
  if (fortran === 'True') fail(source, 'Fortran-order arrays are not supported; save with np.ascontiguousarray(arr) (C order)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(source, `bad shape (${shapeText}) in .npy header`);
  const { info, bigEndian } = dtypeFromDescr(descr, source);
  return { info, bigEndian, shape, dataOffset: start + headerLen };
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j];
  return out;
}

/** Decode a whole .npy file held in memory. The result's data is a view over `bytes` when aligned and little endian. */
export function decodeNpy(bytes: Uint8Array, source = '.npy data'): CalibTensor {
  const header = parseNpyHeader(bytes, source);
  const count = shapeSize(header.shape);
  const size = byteSize(header.info.type, count);
  const body = bytes.subarray(header.dataOffset, header.dataOffset + size);
  if (body.length < size) fail(source, `truncated data: ${body.length} of ${size} bytes for shape [${header.shape.join(', ')}] ${header.info.name}`);
  const raw = header.bigEndian ? swapBytes(body, header.info.bits / 8) : body;
  return { type: header.info.type, dims: header.shape, data: typedArrayFromBytes(header.info.type, raw) };
}

/** Read a .npy file (versions 1-3; C order; float32/float16/float64/int64/int32/uint8/bool and the other plain ints). */
export async function readNpy(path: string): Promise<CalibTensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeNpy(bytes, path);
}

/** Encode a tensor as .npy version 1.0 (little endian, C order, header padded to 64 bytes as numpy does). */
export function encodeNpy(tensor: CalibTensor): Uint8Array {
  const info = dtypeInfo(tensor.type);
  if (!info.numpy || !NPY_TYPES.has(info.type)) {
    throw new SdqError('UNSUPPORTED_TYPE', `cannot write ${info.name} tensors to .npy; convert to float32 first`);
  }
  const dims = tensor.dims;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${info.numpy}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new SdqError('UNSUPPORTED', `.npy header for shape ${shape} is too long`);
  const body = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/** Write a tensor to a .npy file (temp file then rename, so no half file is left behind). */
export async function writeNpy(path: string, tensor: CalibTensor): Promise<void> {
  await writeFileAtomic(path, encodeNpy(tensor));
}
