/**
 * GraphBuilder: write ONNX graphs in TypeScript and get a ModelProto (the contract in ../proto/types.ts).
 *
 * - Values are referred to by name (strings); `node()` returns its output names.
 * - Node and value names follow torch's exporter style: `/scope/sub/OpType`, outputs `<node name>_output_<i>`.
 * - Weights: `randomNormal`/`filled` honour the builder's weight mode ('random' | 'zeros' | 'shape-only') and, when an
 *   ExternalDataWriter is given, stream their bytes to the data file in chunks (the model keeps only the reference).
 *   Random values come from a per-tensor mulberry32 stream seeded by (seed, tensor name); see ./prng.ts.
 */
import { DataType, DTYPES, SdqError, byteSize, dtypeInfo, shapeSize, type TypedArray } from '@sdq/quant';
import {
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../proto/types.js';
import type { ExternalDataWriter } from './external-data-writer.js';
import { Mulberry32 } from './prng.js';
import {
  type Dim,
  makeAttribute,
  makeEntries,
  makeGraph,
  makeModel,
  makeNode,
  makeTensorProto,
  makeValueInfo,
} from './proto-factory.js';

/**
 * An attribute value. Explicit: an AttributeProto from `attr.*`. Inferred: string -> STRING, TensorProto -> TENSOR,
 * GraphProto -> GRAPH, integer number/bigint -> INT, other number -> FLOAT, number[] -> INTS if all integers else
 * FLOATS, string[] -> STRINGS. Use `attr.float(1)` / `attr.floats([1, 2])` for floats with integral values.
 */
export type AttributeInput =
  | AttributeProto
  | TensorProto
  | GraphProto
  | number
  | bigint
  | string
  | readonly number[]
  | readonly string[];

export type WeightMode = 'random' | 'zeros' | 'shape-only';

export interface GraphBuilderOptions {
  /** Graph name. Default 'main_graph'. */
  name?: string;
  /** Default-domain opset version. Default 17. */
  opset?: number;
  /** Model IR version. Default 8 (what opset 17 exporters write); use 10 for node metadata_props. */
  irVersion?: number;
  /** Extra opset imports, domain -> version (e.g. { 'com.microsoft': 1 }). */
  extraOpsets?: Readonly<Record<string, number>>;
  /** Seed of the per-tensor PRNG streams. Default 0. */
  seed?: number;
  /** 'random' (default) fills weights, 'zeros' writes zeros/constants only, 'shape-only' writes no data at all
   *  (a graph to inspect or count parameters; it cannot run). */
  weights?: WeightMode;
  /** Stream weights at or above its threshold to this external data file. */
  externalData?: ExternalDataWriter;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Metadata added to every node (merged under the node's own), e.g. a function of the current scope. */
  nodeMetadata?: (scope: readonly string[], opType: string) => Record<string, string>;
}

export interface NodeOptions {
  /** Node name; default `/<scope>/<opType>` (deduplicated with `_<n>`). */
  name?: string;
  /** Output count (generated names) or explicit names. Default 1. */
  outputs?: number | readonly string[];
  attrs?: Readonly<Record<string, AttributeInput | undefined>>;
  domain?: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

export interface RandomNormalOptions {
  mean?: number;
  std?: number;
}

export class GraphBuilder {
  readonly options: Readonly<GraphBuilderOptions>;
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly valueInfos: ValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly scopes: string[] = [];
  private params = 0;
  private weightByteCount = 0;

  constructor(options: GraphBuilderOptions = {}) {
    this.options = options;
  }

  /** Number of scalar weights in initializers made so far. */
  get parameterCount(): number {
    return this.params;
  }

  /** Bytes of initializer data made so far (inline and external). */
  get weightBytes(): number {
    return this.weightByteCount;
  }

  /** Current scope path, e.g. ['down_blocks.0', 'resnets.1']. */
  get scopePath(): readonly string[] {
    return this.scopes;
  }

  /** Run `fn` with `name` pushed on the scope (node names become `/.../name/...`). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Name inside the current scope, dotted like torch module paths (`down_blocks.0.resnets.1.conv1.weight`). */
  paramName(leaf: string): string {
    return [...this.scopes, leaf].join('.');
  }

  input(name: string, elemType: DataType, shape?: readonly Dim[]): string {
    this.claim(name, 'graph input');
    this.inputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, elemType: DataType, shape?: readonly Dim[]): string {
    this.outputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  /** Shape/type annotation of an intermediate value. */
  valueInfo(name: string, elemType: DataType, shape?: readonly Dim[], metadata?: Readonly<Record<string, string>>): string {
    this.valueInfos.push(makeValueInfo(name, elemType, shape, metadata));
    return name;
  }

  /**
   * Initializer from a typed array. The ONNX type defaults from the array (Float32Array -> FLOAT, BigInt64Array ->
   * INT64, ...); pass `dataType` for bit-pattern types (FLOAT16 in a Uint16Array, BOOL in a Uint8Array).
   */
  initializer(name: string, data: TypedArray, dims: readonly number[], dataType?: DataType): string {
    const type = dataType ?? dataTypeOfArray(data);
    const info = dtypeInfo(type);
    if (info.array?.name !== arrayKind(data)) {
      throw new SdqError('INVALID_ARGUMENT', `initializer "${name}": ${info.name} needs a ${info.array?.name ?? 'no typed array'}, got ${arrayKind(data)}`);
    }
    const count = shapeSize(dims);
    if (data.length !== count) {
      throw new SdqError('SHAPE_MISMATCH', `initializer "${name}": ${data.length} elements for dims [${dims.join(', ')}] (${count} expected)`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const writer = this.options.externalData;
    const tensor = makeTensorProto({ name, dims: [...dims], dataType: type });
    if (writer && bytes.byteLength >= writer.threshold) Object.assign(tensor, writer.append(bytes));
    else tensor.rawData = bytes;
    return this.addInitializer(tensor, count);
  }

  /** Add a finished TensorProto as an initializer (counted as parameters). */
  addInitializer(tensor: TensorProto, count = shapeSize(tensor.dims)): string {
    const name = tensor.name ?? '';
    this.claim(name, 'initializer');
    this.initializers.push(tensor);
    this.params += count;
    if (tensor.dataType !== undefined && tensor.dataType !== DataType.STRING) this.weightByteCount += byteSize(tensor.dataType, count);
    return name;
  }

  /** Float32 constant initializer (small; always inline). */
  constFloat(name: string, values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): string {
    return this.inlineInitializer(name, Float32Array.from(values), dims, DataType.FLOAT);
  }

  /** Int64 constant initializer (shapes, axes). */
  constInt64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.inlineInitializer(name, BigInt64Array.from(values.map((v) => BigInt(v))), dims, DataType.INT64);
  }

  /** Float32 weight N(mean, std^2) from the tensor's own PRNG stream (see module comment), honouring the weight mode. */
  randomNormal(name: string, dims: readonly number[], { mean = 0, std = 1 }: RandomNormalOptions = {}): string {
    const mode = this.options.weights ?? 'random';
    if (mode === 'random') {
      const rng = Mulberry32.forTensor(this.options.seed ?? 0, name);
      return this.float32Weight(name, dims, (out) => rng.fillNormal(out, mean, std));
    }
    return this.float32Weight(name, dims, (out) => out.fill(mean));
  }

  /** Float32 weight with every element `value` (norm scales, zero biases). */
  filled(name: string, dims: readonly number[], value: number): string {
    return this.float32Weight(name, dims, (out) => out.fill(value));
  }

  /**
   * Add a node. Inputs may be '' for an omitted optional input. Returns the output names.
   */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const name = this.uniqueName(options.name ?? `/${[...this.scopes, opType].join('/')}`);
    const outputs =
      typeof options.outputs === 'object'
        ? [...options.outputs]
        : Array.from({ length: options.outputs ?? 1 }, (_, i) => this.uniqueName(`${name}_output_${i}`));
    const attribute = Object.entries(options.attrs ?? {})
      .filter((entry): entry is [string, AttributeInput] => entry[1] !== undefined)
      .map(([attrName, value]) => ({ ...toAttribute(attrName, value), name: attrName }));
    const metadata = { ...(this.options.nodeMetadata?.(this.scopes, opType) ?? {}), ...(options.metadata ?? {}) };
    this.nodes.push(
      makeNode({
        input: [...inputs],
        output: outputs,
        name,
        opType,
        ...(options.domain !== undefined ? { domain: options.domain } : {}),
        attribute,
        ...(options.docString !== undefined ? { docString: options.docString } : {}),
        metadataProps: makeEntries(metadata),
      }),
    );
    return outputs;
  }

  /** `node()` for single-output ops: returns the one output name. */
  op(opType: string, inputs: readonly string[], options: Omit<NodeOptions, 'outputs'> & { output?: string } = {}): string {
    const { output, ...rest } = options;
    return this.node(opType, inputs, { ...rest, outputs: output === undefined ? 1 : [output] })[0];
  }

  /** The graph alone (for subgraph attributes of If/Loop/Scan). */
  buildGraph(): GraphProto {
    return makeGraph({
      node: [...this.nodes],
      name: this.options.name ?? 'main_graph',
      initializer: [...this.initializers],
      input: [...this.inputs],
      output: [...this.outputs],
      valueInfo: [...this.valueInfos],
    });
  }

  build(): ModelProto {
    const opsetImport = [
      { domain: '', version: this.options.opset ?? 17 },
      ...Object.entries(this.options.extraOpsets ?? {}).map(([domain, version]) => ({ domain, version })),
    ];
    return makeModel({
      irVersion: this.options.irVersion ?? 8,
      opsetImport,
      producerName: this.options.producerName ?? 'sdq',
      ...(this.options.producerVersion !== undefined ? { producerVersion: this.options.producerVersion } : {}),
      ...(this.options.docString !== undefined ? { docString: this.options.docString } : {}),
      graph: this.buildGraph(),
    });
  }

  private inlineInitializer(name: string, data: TypedArray, dims: readonly number[], dataType: DataType): string {
    const tensor = makeTensorProto({ name, dims: [...dims], dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return this.addInitializer(tensor, data.length);
  }

  /** A float32 weight filled by `fill` (whole tensor inline, or chunk by chunk into the external data file). */
  private float32Weight(name: string, dims: readonly number[], fill: (out: Float32Array) => void): string {
    const count = shapeSize(dims);
    const tensor = makeTensorProto({ name, dims: [...dims], dataType: DataType.FLOAT });
    const writer = this.options.externalData;
    if ((this.options.weights ?? 'random') === 'shape-only') {
      // No data at all: a structural model (parameter counts, inspection), not runnable.
    } else if (writer && count * 4 >= writer.threshold) {
      Object.assign(tensor, writer.appendStreamed(count * 4, (chunk) => fill(new Float32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 4))));
    } else {
      const data = new Float32Array(count);
      fill(data);
      tensor.rawData = new Uint8Array(data.buffer);
    }
    return this.addInitializer(tensor, count);
  }

  private claim(name: string, what: string): void {
    if (!name) throw new SdqError('INVALID_ARGUMENT', `a ${what} needs a non-empty name`);
    if (this.usedNames.has(name)) throw new SdqError('INVALID_ARGUMENT', `${what} "${name}": the name is already used in this graph`);
    this.usedNames.add(name);
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.usedNames.has(name); k++) name = `${base}_${k}`;
    this.usedNames.add(name);
    return name;
  }
}

/** 'Float32Array', ... by the array's own tag, so arrays from another realm (vm contexts, workers) match too. */
function arrayKind(data: TypedArray): string {
  return data[Symbol.toStringTag];
}

function dataTypeOfArray(data: TypedArray): DataType {
  const kind = arrayKind(data);
  const row = DTYPES.find((d) => d.array?.name === kind && !d.bitPattern && d.type !== DataType.BOOL && d.type < DataType.COMPLEX64);
  if (!row) throw new SdqError('INVALID_ARGUMENT', `cannot infer an ONNX type for a ${kind}; pass dataType`);
  return row.type;
}

function isAttributeProto(v: object): v is AttributeProto {
  return 'typeProtos' in v && 'sparseTensors' in v;
}

function toAttribute(name: string, value: AttributeInput): AttributeProto {
  if (typeof value === 'number' || typeof value === 'bigint') {
    return typeof value === 'bigint' || Number.isInteger(value)
      ? makeAttribute({ type: AttributeType.INT, i: value })
      : makeAttribute({ type: AttributeType.FLOAT, f: value });
  }
  if (typeof value === 'string') return makeAttribute({ type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return makeAttribute({ type: AttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) });
    }
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v))
      ? makeAttribute({ type: AttributeType.INTS, ints: [...nums] })
      : makeAttribute({ type: AttributeType.FLOATS, floats: [...nums] });
  }
  const obj = value as AttributeProto | TensorProto | GraphProto;
  if (isAttributeProto(obj)) return obj;
  if ('dims' in obj) return makeAttribute({ type: AttributeType.TENSOR, t: obj });
  if ('node' in obj) return makeAttribute({ type: AttributeType.GRAPH, g: obj });
  throw new SdqError('INVALID_ARGUMENT', `attribute "${name}": unsupported value`);
}
