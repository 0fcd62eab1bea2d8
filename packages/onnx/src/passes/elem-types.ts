/**
 * Element types of every value in a graph, without full shape inference: declared types (inputs, outputs,
 * value_info, initializers) plus a forward propagation with the few rules standard ops need (Cast `to`, Shape ->
 * int64, comparisons -> bool, Constant value, DequantizeLinear -> scale type, ...; otherwise the first input's type).
 */
import { DataType } from '@sdq/quant';
import { AttributeType, type GraphProto, type NodeProto, type TensorProto } from '../proto/types.js';
import { getAttribute } from '../builder/proto-factory.js';

const INT64_OUTPUT_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'NonMaxSuppression']);
const BOOL_OUTPUT_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
/** Ops whose output type is given by a `dtype` attribute (float32 when absent). */
const DTYPE_ATTR_OPS = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'EyeLike', 'Bernoulli']);

/** Element type of a Constant node's value (undefined if it has no value attribute we know). */
export function constantElemType(node: NodeProto): number | undefined {
  for (const a of node.attribute) {
    switch (a.name) {
      case 'value':
        return a.t?.dataType;
      case 'value_float':
      case 'value_floats':
        return DataType.FLOAT;
      case 'value_int':
      case 'value_ints':
        return DataType.INT64;
      case 'value_string':
      case 'value_strings':
        return DataType.STRING;
      case 'sparse_value':
        return a.sparseTensor?.values?.dataType;
    }
  }
  return undefined;
}

/** Output element types of one node, given the types known so far. */
export function nodeOutputTypes(node: NodeProto, typeOf: (name: string) => number | undefined): (number | undefined)[] {
  const op = node.opType ?? '';
  const first = node.input.length > 0 && node.input[0] ? typeOf(node.input[0]) : undefined;
  const all = (t: number | undefined): (number | undefined)[] => node.output.map(() => t);
  if (node.domain && node.domain !== 'ai.onnx') return all(first);
  if (op === 'Cast') return all(Number(getAttribute(node, 'to')?.i ?? DataType.UNDEFINED));
  if (op === 'CastLike') return all(node.input[1] ? typeOf(node.input[1]) : undefined);
  if (op === 'Constant') return all(constantElemType(node));
  if (op === 'ConstantOfShape') return all(getAttribute(node, 'value')?.t?.dataType ?? DataType.FLOAT);
  if (INT64_OUTPUT_OPS.has(op)) return all(DataType.INT64);
  if (BOOL_OUTPUT_OPS.has(op)) return all(DataType.BOOL);
  if (DTYPE_ATTR_OPS.has(op)) {
    const a = getAttribute(node, 'dtype');
    return all(a?.i !== undefined ? Number(a.i) : op.endsWith('Like') || op === 'EyeLike' || op === 'Bernoulli' ? first : DataType.FLOAT);
  }
  if (op === 'TopK') return [first, DataType.INT64];
  if (op === 'Where') return all(node.input[1] ? typeOf(node.input[1]) : undefined);
  if (op === 'QuantizeLinear') {
    const zp = node.input[2] ? typeOf(node.input[2]) : undefined;
    const outAttr = getAttribute(node, 'output_dtype')?.i;
    return all(zp ?? (outAttr ? Number(outAttr) : DataType.UINT8));
  }
  if (op === 'DequantizeLinear') return all(node.input[1] ? typeOf(node.input[1]) : DataType.FLOAT);
  if (op === 'DynamicQuantizeLinear') return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
  if (op === 'MatMulInteger' || op === 'ConvInteger') return all(DataType.INT32);
  if (op === 'LayerNormalization') return [first, DataType.FLOAT, DataType.FLOAT];
  return all(first);
}

/** Element type of every named value in `graph` (outer-scope types seed subgraph lookups). */
export function inferElemTypes(graph: GraphProto, outer?: ReadonlyMap<string, number>): Map<string, number> {
  const types = new Map<string, number>(outer ?? []);
  const declare = (name: string | undefined, t: number | undefined): void => {
    if (name && t !== undefined && t !== DataType.UNDEFINED) types.set(name, t);
  };
  for (const t of graph.initializer as TensorProto[]) declare(t.name, t.dataType);
  for (const v of [...graph.input, ...graph.valueInfo, ...graph.output]) declare(v.name, v.type?.tensorType?.elemType);
  const typeOf = (n: string): number | undefined => types.get(n);
  for (const node of graph.node) {
    const outTypes = nodeOutputTypes(node, typeOf);
    node.output.forEach((o, i) => {
      if (o && !types.has(o)) declare(o, outTypes[i]);
    });
  }
  return types;
}

/** Subgraphs held by a node's attributes (If/Loop/Scan bodies), with their attribute names. */
export function nodeSubgraphs(node: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of node.attribute) {
    if (a.type === AttributeType.GRAPH && a.g) out.push(a.g);
    if (a.type === AttributeType.GRAPHS) out.push(...a.graphs);
    if (a.type === undefined && a.g) out.push(a.g);
  }
  return out;
}
