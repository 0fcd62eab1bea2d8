import type { ModelProto, ValueInfoProto } from '@sdq/onnx';
import { SdqError } from '@sdq/quant';
import type { Dim, ModelInputs } from './profiles.js';

function dimsOf(v: ValueInfoProto): Dim[] {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return [];
  return shape.dim.map((d) => (d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : d.dimParam ? d.dimParam : '?'));
}

/**
 * The graph inputs TensorRT builds bindings for: graph.input minus initializers (older exporters list weights as
 * inputs too). An input without a shape has unknown rank and cannot get a profile, so it is rejected.
 */
export function modelInputsFromModel(model: ModelProto, file = 'model'): ModelInputs {
  const graph = model.graph;
  if (!graph) throw new SdqError('BAD_FORMAT', `${file}: the model has no graph.`);
  const weights = new Set(graph.initializer.map((t) => t.name));
  return graph.input
    .filter((v) => !weights.has(v.name))
    .map((v) => {
      const tensor = v.type?.tensorType;
      if (!tensor) {
        throw new SdqError('UNSUPPORTED', `${file}: graph input "${v.name}" is not a tensor; TensorRT takes tensor inputs only.`);
      }
      if (!tensor.shape) {
        throw new SdqError('UNSUPPORTED', `${file}: graph input "${v.name}" has no shape (unknown rank); re-export the model with input shapes.`);
      }
      return { name: v.name ?? '', elemType: tensor.elemType ?? 0, dims: dimsOf(v) };
    });
}
