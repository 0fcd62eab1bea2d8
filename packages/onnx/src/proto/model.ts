/** ModelProto <-> bytes, with checks that turn wrong inputs (PNG, JSON, empty, truncated) into clear SdqErrors. */
import { SdqError } from '@sdq/quant';
import { decodeMessage, encodeMessage, emptyMessage } from './codec.js';
import { MAX_KNOWN_IR_VERSION } from './schema.js';
import type { GraphProto, ModelProto, NodeProto, TensorProto } from './types.js';

export interface DecodeOptions {
  /** Name of the source (file path) used in error and warning messages. */
  source?: string;
  /** Receives non-fatal findings (e.g. an IR version newer than this schema). Default: ignored. */
  onWarning?: (message: string) => void;
}

const startsWith = (b: Uint8Array, sig: readonly number[]): boolean => sig.every((v, i) => b[i] === v);

/** Names a well-known non-ONNX file format from its first bytes, or undefined. */
export function sniffForeignFormat(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return 'a PNG image';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'a JPEG image';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'a gzip archive';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'a zip archive (.npz, .zip)';
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'a NumPy .npy array';
  if (startsWith(bytes, [0x7f, 0x45, 0x4c, 0x46])) return 'an ELF binary';
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  // '{' / '[' would be start-group tags of fields 15 / 11, which no ONNX writer emits
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'JSON text';
  if (startsWith(bytes, [0x3c])) return 'XML/HTML text';
  return undefined;
}

/** Decodes an ONNX model from protobuf bytes. `bytes` fields (raw_data, ...) are views into `bytes`, not copies. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): ModelProto {
  const what = options.source ?? 'model bytes';
  if (bytes.byteLength === 0) throw new SdqError('BAD_FORMAT', `${what} is empty (0 bytes), not an ONNX model`);
  const foreign = sniffForeignFormat(bytes);
  if (foreign) throw new SdqError('BAD_FORMAT', `${what} is ${foreign}, not an ONNX model; pass a .onnx file`);
  const model = decodeMessage<ModelProto>('ModelProto', bytes, what);
  if (model.irVersion === undefined && model.graph === undefined && model.opsetImport.length === 0) {
    throw new SdqError('BAD_FORMAT', `${what} decodes as protobuf but has no ir_version, graph or opset_import: it is not an ONNX model`);
  }
  if (model.irVersion !== undefined && model.irVersion > MAX_KNOWN_IR_VERSION) {
    options.onWarning?.(`${what} has IR version ${model.irVersion}, newer than the newest this reader knows (${MAX_KNOWN_IR_VERSION}); loaded anyway, fields it does not know are kept as unknown fields`);
  }
  return model;
}

/** Encodes a model into protobuf bytes (field-number order, as ONNX's C++ serializer writes). */
export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage('ModelProto', model, `model ${model.graph?.name ?? ''}`.trim());
}

/** Decodes a standalone TensorProto (.pb files as ONNX test data and calibration dumps use). */
export function decodeTensor(bytes: Uint8Array, options: DecodeOptions = {}): TensorProto {
  return decodeMessage<TensorProto>('TensorProto', bytes, options.source ?? 'TensorProto bytes');
}

export function encodeTensor(tensor: TensorProto): Uint8Array {
  return encodeMessage('TensorProto', tensor, `tensor ${tensor.name ?? ''}`.trim());
}

/** Empty message factories (all repeated fields [], scalars undefined) for code that builds models by hand. */
export const emptyModel = (): ModelProto => emptyMessage<ModelProto>('ModelProto');
export const emptyGraph = (): GraphProto => emptyMessage<GraphProto>('GraphProto');
export const emptyNode = (): NodeProto => emptyMessage<NodeProto>('NodeProto');
export const emptyTensor = (): TensorProto => emptyMessage<TensorProto>('TensorProto');
