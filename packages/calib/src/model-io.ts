import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataType, SdqError, dtypeInfo } from '@sdq/quant';
import { decodeModel } from '@sdq/onnx';
import type { ModelProto } from '@sdq/onnx';
import type { ModelInputSpec } from './reader.js';

/** A model ready to hand to onnxruntime from memory: the decoded graph and the bytes of its external data files. */
export interface LoadedModel {
  readonly path: string;
  readonly model: ModelProto;
  readonly externalData: { path: string; data: Uint8Array }[];
}

/** Files named by `location` entries of external-data initializers, relative to the model's folder. */
export function externalDataFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) files.add(e.value);
  }
  return [...files];
}

/**
 * Decode an .onnx file and read its external data files, so a modified copy of the graph (extra outputs, Q/DQ
 * nodes) can run in onnxruntime without rewriting multi-GB weights.
 */
export async function loadModelForRuntime(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read model ${path}: ${(e as Error).message}`, { cause: e });
  }
  const model = decodeModel(bytes, { source: path });
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const file of externalDataFiles(model)) {
    try {
      externalData.push({ path: file, data: await readFile(join(dirname(path), file)) });
    } catch (e) {
      throw new SdqError('IO_ERROR', `${path}: cannot read its external data file ${file}: ${(e as Error).message}; keep it next to the model`, { cause: e });
    }
  }
  return { path, model, externalData };
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
