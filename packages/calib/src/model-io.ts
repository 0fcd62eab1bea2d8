import { access, readFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { DataType, SdqError, dtypeInfo } from '@sdq/quant';
import { decodeModel } from '@sdq/onnx';
import type { ModelProto } from '@sdq/onnx';
import type { ModelInputSpec } from './reader.js';

/** A decoded model graph whose external data stays on disk, next to the original file. */
export interface LoadedModel {
  readonly path: string;
  readonly model: ModelProto;
  /** External data files (relative locations) the graph references. */
  readonly externalFiles: string[];
}

/** Files named by `location` entries of external-data initializers, relative to the model's folder. */
export function externalDataFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) files.add(e.value);
  }
  return [...files];
}

/** Decode an .onnx file's graph; external weights are not read (onnxruntime reads them from disk). */
export async function loadModelForRuntime(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read model ${path}: ${(e as Error).message}`, { cause: e });
  }
  const model = decodeModel(bytes, { source: path });
  const externalFiles = externalDataFiles(model);
  for (const file of externalFiles) {
    const full = resolve(dirname(path), file);
    if (!full.startsWith(resolve(dirname(path)) + sep)) throw new SdqError('BAD_FORMAT', `${path}: external data location '${file}' points outside the model folder`);
    await access(full).catch((e: Error) => {
      throw new SdqError('NOT_FOUND', `${path}: its external data file ${file} is missing (${e.message}); keep it next to the model`, { cause: e });
    });
  }
  return { path, model, externalFiles };
}

/**
 * The graph inputs of an .onnx file as reader checks want them (element type name, dims with symbolic names), read
 * from the graph alone (external weights are not touched). Initializers listed as inputs (IR < 4) are left out.
 */
export async function modelInputSpecs(path: string): Promise<ModelInputSpec[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read model ${path}: ${(e as Error).message}`, { cause: e });
  }
  const graph = decodeModel(bytes, { source: path }).graph;
  const inits = new Set(graph?.initializer.map((t) => t.name));
  return (graph?.input ?? [])
    .filter((i) => !inits.has(i.name))
    .map((i) => {
      const tt = i.type?.tensorType;
      return {
        name: i.name ?? '',
        type: dtypeInfo(tt?.elemType ?? DataType.FLOAT).name,
        shape: (tt?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : (d.dimParam ?? ''))),
      };
    });
}
