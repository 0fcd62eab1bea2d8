/**
 * Factories for complete proto objects: every repeated field present (empty), optional scalars only when given.
 * The contract (../proto/types.ts) requires repeated fields to be arrays, so everything that creates protos goes here.
 */
import { DataType } from '@sdq/quant';
import {
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type StringStringEntryProto,
  type TensorProto,
  type TensorShapeDimension,
  type TypeProto,
  type ValueInfoProto,
} from '../proto/types.js';

/** A tensor dimension: a number is a fixed size, a string a symbolic `dim_param` (e.g. 'batch'). */
export type Dim = number | string;

export function makeTensorProto(fields: Partial<TensorProto> = {}): TensorProto {
  return {
    dims: [],
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    externalData: [],
    doubleData: [],
    uint64Data: [],
    metadataProps: [],
    ...fields,
  };
}

export function makeAttribute(fields: Partial<AttributeProto> = {}): AttributeProto {
  return {
    floats: [],
    ints: [],
    strings: [],
    tensors: [],
    graphs: [],
    sparseTensors: [],
    typeProtos: [],
    ...fields,
  };
}

export function makeNode(fields: Partial<NodeProto> = {}): NodeProto {
  return { input: [], output: [], attribute: [], metadataProps: [], deviceConfigurations: [], ...fields };
}

export function makeGraph(fields: Partial<GraphProto> = {}): GraphProto {
  return {
    node: [],
    initializer: [],
    sparseInitializer: [],
    input: [],
    output: [],
    valueInfo: [],
    quantizationAnnotation: [],
    metadataProps: [],
    ...fields,
  };
}

export function makeModel(fields: Partial<ModelProto> = {}): ModelProto {
  return { opsetImport: [], metadataProps: [], trainingInfo: [], functions: [], configuration: [], ...fields };
}

export function makeEntries(record: Readonly<Record<string, string>> | undefined): StringStringEntryProto[] {
  return record ? Object.entries(record).map(([key, value]) => ({ key, value })) : [];
}

/** TypeProto of a tensor; `shape` undefined means unknown rank (no shape field). */
export function makeTensorType(elemType: DataType | number, shape?: readonly Dim[]): TypeProto {
  const dim: TensorShapeDimension[] | undefined = shape?.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { tensorType: { elemType, ...(dim ? { shape: { dim } } : {}) } };
}

export function makeValueInfo(
  name: string,
  elemType: DataType | number,
  shape?: readonly Dim[],
  metadata?: Readonly<Record<string, string>>,
): ValueInfoProto {
  return { name, type: makeTensorType(elemType, shape), metadataProps: makeEntries(metadata) };
}

/** Read an attribute by name (undefined when absent). */
export function getAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

/** Integer value of an INT attribute, or `fallback`. */
export function getIntAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a?.i === undefined ? fallback : Number(a.i);
}

/** Attribute helpers: explicit types, for values that inference from a JS number would get wrong (1.0 vs 1). */
export const attr = {
  int: (i: number | bigint): AttributeProto => makeAttribute({ type: AttributeType.INT, i }),
  ints: (ints: readonly (number | bigint)[]): AttributeProto => makeAttribute({ type: AttributeType.INTS, ints: [...ints] }),
  float: (f: number): AttributeProto => makeAttribute({ type: AttributeType.FLOAT, f }),
  floats: (floats: readonly number[]): AttributeProto => makeAttribute({ type: AttributeType.FLOATS, floats: [...floats] }),
  string: (s: string): AttributeProto => makeAttribute({ type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
  strings: (ss: readonly string[]): AttributeProto =>
    makeAttribute({ type: AttributeType.STRINGS, strings: ss.map((s) => new TextEncoder().encode(s)) }),
  tensor: (t: TensorProto): AttributeProto => makeAttribute({ type: AttributeType.TENSOR, t }),
  graph: (g: GraphProto): AttributeProto => makeAttribute({ type: AttributeType.GRAPH, g }),
};
