/**
 * External tensor data: parsing and checking `external_data` entries (location / offset / length), reading just the
 * needed byte range, and walking every tensor of a model.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { SdqError } from '@sdq/quant';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto } from './proto/types.js';

export interface ExternalDataRef {
  /** The tensor's name, for messages. */
  tensor: string;
  /** `location` as written in the model (relative POSIX path). */
  location: string;
  /** Absolute path of the data file. */
  path: string;
  offset: number;
  /** Byte count from the `length` entry, if present. */
  length: number | undefined;
}

function parseSize(value: string | undefined, key: string, tensor: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new SdqError('BAD_FORMAT', `tensor '${tensor}': external_data ${key} '${value}' is not a non-negative integer`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new SdqError('BAD_FORMAT', `tensor '${tensor}': external_data ${key} ${value} is too large`);
  return n;
}

/** Rejects absolute paths and any path that leaves the model's folder; returns the normalized relative path. */
export function checkRelativeLocation(location: string, tensor: string): string {
  const what = `tensor '${tensor}': external data location '${location}'`;
  if (location.length === 0) throw new SdqError('BAD_FORMAT', `${what} is empty`);
  if (location.includes('\0')) throw new SdqError('BAD_FORMAT', `${what} contains a NUL byte`);
  if (isAbsolute(location) || location.startsWith('/') || location.startsWith('\\') || /^[a-zA-Z]:/.test(location)) {
    throw new SdqError('BAD_FORMAT', `${what} is absolute; ONNX external data must be relative to the model's folder (move the file next to the model and fix the location)`);
  }
  const parts = location.split(/[\\/]+/);
  if (parts.includes('..')) throw new SdqError('BAD_FORMAT', `${what} points outside the model's folder ('..'); external data must live inside the model's folder`);
  return normalize(parts.join(sep));
}

/** Parses and checks a tensor's external_data entries against `baseDir` (no file access). */
export function resolveExternalData(t: TensorProto, baseDir: string): ExternalDataRef {
  const name = t.name ?? '(unnamed)';
  const entries = new Map<string, string>();
  for (const e of t.externalData) if (e.key !== undefined) entries.set(e.key, e.value ?? '');
  const location = entries.get('location');
  if (location === undefined) throw new SdqError('BAD_FORMAT', `tensor '${name}' has external_data without a 'location' entry`);
  const rel = checkRelativeLocation(location, name);
  const path = join(baseDir, rel);
  const back = relative(baseDir, path);
  if (back.startsWith('..') || isAbsolute(back)) throw new SdqError('BAD_FORMAT', `tensor '${name}': external data location '${location}' resolves outside the model's folder`);
  return {
    tensor: name,
    location,
    path,
    offset: parseSize(entries.get('offset'), 'offset', name) ?? 0,
    length: parseSize(entries.get('length'), 'length', name),
  };
}

/** Size of the range to read: the `length` entry, else what dims x dtype need. */
export function externalRangeLength(ref: ExternalDataRef, expectedBytes: number): number {
  return ref.length ?? expectedBytes;
}

/** Checks that [offset, offset+length) lies inside a file of `fileSize` bytes. */
export function checkRange(ref: ExternalDataRef, length: number, fileSize: number): void {
  if (ref.offset + length > fileSize) {
    throw new SdqError('BAD_FORMAT', `tensor '${ref.tensor}': external data range [${ref.offset}, ${ref.offset + length}) of '${ref.location}' lies past its end (${fileSize} bytes); the data file is truncated or belongs to another model`);
  }
}

/**
 * Rejects a data file that resolves outside the model's folder through a symbolic link (the path text was already
 * checked by resolveExternalData; this checks what it points at). A missing file is left to the caller's open().
 */
export function checkRealPathInside(ref: ExternalDataRef, baseDir: string): void {
  let real: string;
  let realBase: string;
  try {
    real = realpathSync(ref.path);
    realBase = realpathSync(baseDir);
  } catch {
    return;
  }
  const back = relative(realBase, real);
  if (back.startsWith('..') || isAbsolute(back)) {
    throw new SdqError('BAD_FORMAT', `tensor '${ref.tensor}': external data file '${ref.location}' is a link to ${real}, outside the model's folder; copy the data next to the model instead of linking it`);
  }
}

export function missingDataFile(ref: ExternalDataRef, cause: unknown): SdqError {
  return new SdqError('NOT_FOUND', `tensor '${ref.tensor}': external data file '${ref.location}' not found at ${ref.path}; copy it next to the model`, { cause });
}

/** Reads one tensor's external range synchronously into a new buffer (only that range, never the whole file). */
export function readExternalRange(ref: ExternalDataRef, expectedBytes: number, baseDir?: string): Uint8Array {
  if (baseDir !== undefined) checkRealPathInside(ref, baseDir);
  let fd: number;
  try {
    fd = openSync(ref.path, 'r');
  } catch (e) {
    throw missingDataFile(ref, e);
  }
  try {
    const length = externalRangeLength(ref, expectedBytes);
    checkRange(ref, length, fstatSync(fd).size);
    const out = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, Math.min(length - done, 0x40000000), ref.offset + done);
      if (n === 0) throw new SdqError('IO_ERROR', `tensor '${ref.tensor}': unexpected end of '${ref.location}'`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Walking tensors

function forEachAttributeTensor(a: AttributeProto, fn: (t: TensorProto, isInitializer: boolean) => void): void {
  if (a.t) fn(a.t, false);
  for (const t of a.tensors) fn(t, false);
  if (a.sparseTensor) {
    if (a.sparseTensor.values) fn(a.sparseTensor.values, false);
    if (a.sparseTensor.indices) fn(a.sparseTensor.indices, false);
  }
  for (const s of a.sparseTensors) {
    if (s.values) fn(s.values, false);
    if (s.indices) fn(s.indices, false);
  }
  if (a.g) forEachGraphTensor(a.g, fn);
  for (const g of a.graphs) forEachGraphTensor(g, fn);
}

function forEachNodeTensor(nodes: readonly NodeProto[], fn: (t: TensorProto, isInitializer: boolean) => void): void {
  for (const n of nodes) for (const a of n.attribute) forEachAttributeTensor(a, fn);
}

/** Calls `fn` for every tensor of a graph and its subgraphs: initializers (isInitializer true), then attribute tensors. */
export function forEachGraphTensor(g: GraphProto, fn: (t: TensorProto, isInitializer: boolean) => void): void {
  for (const t of g.initializer) fn(t, true);
  for (const s of g.sparseInitializer) {
    if (s.values) fn(s.values, true);
    if (s.indices) fn(s.indices, true);
  }
  forEachNodeTensor(g.node, fn);
}

/** Calls `fn` for every tensor in the model: main graph, subgraphs, training graphs, function bodies. */
export function forEachTensor(model: ModelProto, fn: (t: TensorProto, isInitializer: boolean) => void): void {
  if (model.graph) forEachGraphTensor(model.graph, fn);
  for (const ti of model.trainingInfo) {
    if (ti.initialization) forEachGraphTensor(ti.initialization, fn);
    if (ti.algorithm) forEachGraphTensor(ti.algorithm, fn);
  }
  for (const f of model.functions) forEachNodeTensor(f.node, fn);
}
