/**
 * addGraphOutputs: expose intermediate values as extra graph outputs (activation statistics for calibration).
 * Each output gets a tensor type with the value's element type where it is known (declared or propagated, see
 * ./elem-types.ts), float32 otherwise, and no shape (onnxruntime accepts outputs with only an element type).
 */
import { DataType, SdqError } from '@sdq/quant';
import type { ModelProto } from '../proto/types.js';
import { makeValueInfo } from '../builder/proto-factory.js';
import { inferElemTypes } from './elem-types.js';

/** Returns a new model; names already among the outputs are skipped, unknown names are an error. */
export function addGraphOutputs(model: ModelProto, names: Iterable<string>): ModelProto {
  const graph = model.graph;
  if (!graph) throw new SdqError('INVALID_ARGUMENT', 'addGraphOutputs: the model has no graph');
  const produced = new Set<string>([...graph.input.map((v) => v.name ?? ''), ...graph.initializer.map((t) => t.name ?? '')]);
  for (const n of graph.node) for (const o of n.output) if (o) produced.add(o);
  const existing = new Set(graph.output.map((v) => v.name ?? ''));
  const types = inferElemTypes(graph);
  const added = [];
  for (const name of names) {
    if (existing.has(name)) continue;
    if (!produced.has(name)) {
      throw new SdqError('NOT_FOUND', `addGraphOutputs: no value named "${name}" in graph ${graph.name ?? ''} (not a node output, graph input or initializer); check the tensor name`);
    }
    existing.add(name);
    added.push(makeValueInfo(name, types.get(name) ?? DataType.FLOAT));
  }
  return { ...model, graph: { ...graph, output: [...graph.output, ...added] } };
}
