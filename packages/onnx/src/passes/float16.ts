/**
 * convertToFloat16: float32 initializers, Constant values and value types become float16 (through @sdq/quant's
 * float32ToFloat16Clamped, as onnxruntime's converter: finite values clamped to +-65504, nonzero values below
 * 5.96e-8 in magnitude kept at +-5.96e-8, round half to even, infinities and NaN kept), with Cast nodes wherever a float16 value meets a part that stays float32 (blocked
 * ops and nodes, inputs that must stay float, graph inputs/outputs with keepIoTypes).
 *
 * Follows onnxruntime's float16 converter (onnxruntime/python/tools/transformers/float16.py, from
 * onnxconverter-common): same default op block list and always-float inputs (Resize scales). Differences: element
 * types come from a light propagation (./elem-types.ts) instead of ONNX shape inference; an initializer used by both
 * float16 and float32 consumers is kept once in float32 and once as `<name>_fp16`, so the float32 side stays exact.
 */
import { DataType, SdqError, float32ToFloat16Clamped } from '@sdq/quant';
import { AttributeType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../proto/types.js';
import { makeAttribute, makeNode, makeTensorProto } from '../builder/proto-factory.js';
import { tensorToTypedArray } from '../tensor.js';
import { type DeferredData, deferredTensor, isDeferrable } from './deferred.js';
import { inferElemTypes, nodeSubgraphs } from './elem-types.js';

/** onnxruntime's DEFAULT_OP_BLOCK_LIST (transformers/float16.py): ops without float16 kernels or that break in it. */
export const DEFAULT_FP16_BLOCK_OPS: readonly string[] = [
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer',
  'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike',
  'SVMClassifier', 'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'TreeEnsemble', 'ZipMap',
  'NonMaxSuppression', 'TopK', 'RoiAlign', 'Range', 'CumSum', 'Min', 'Max', 'Upsample',
];

/** Inputs that must stay float32 even on converted nodes (onnxruntime's ALWAYS_FLOAT_INPUTS). */
export const FP16_ALWAYS_FLOAT_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [2], GroupNorm: [1, 2], SkipGroupNorm: [1, 2] };

const QDQ_OPS = ['QuantizeLinear', 'DequantizeLinear'];

/** Ops whose (first) input may have any type: no Cast is put in front of them. */
const ANY_TYPE_INPUT_OPS = new Set(['Cast', 'Shape', 'Size', 'CastLike']);

export interface ConvertToFloat16Options {
  /** Keep float32 graph inputs and outputs (Casts inside the graph). Default false. */
  keepIoTypes?: boolean;
  /** Op types that stay float32. Default DEFAULT_FP16_BLOCK_OPS (pass [...DEFAULT_FP16_BLOCK_OPS, 'X'] to extend).
   *  QuantizeLinear/DequantizeLinear are always kept float32 below opset 19 (no float16 there). */
  blockOps?: readonly string[];
  /** Node names that stay float32. */
  blockNodes?: readonly string[];
  /** Folder of the model file, for initializers still in external data files. */
  baseDir?: string;
  /**
   * Convert initializers still in external data files when they are written, not here: each gets a float16 tensor
   * whose data is `deferred.get(tensor)()` (read and converted on demand). Pass the same map to writeModel's
   * `deferredData`; memory then holds one converted tensor at a time instead of all of them (SDXL's UNet: 5.1 GB).
   * The deferred tensors carry an external_data location that no reader resolves, so using them without the map
   * fails loudly.
   */
  deferred?: DeferredData;
}

interface Context {
  blockOps: ReadonlySet<string>;
  blockNodes: ReadonlySet<string>;
  keepIoTypes: boolean;
  baseDir: string | undefined;
  usedNames: Set<string>;
  deferred: DeferredData | undefined;
}

/** Returns a new model; the input model is not modified (unchanged tensors are shared, not copied). */
export function convertToFloat16(model: ModelProto, options: ConvertToFloat16Options = {}): ModelProto {
  if (!model.graph) throw new SdqError('INVALID_ARGUMENT', 'convertToFloat16: the model has no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  const blockOps = new Set(options.blockOps ?? DEFAULT_FP16_BLOCK_OPS);
  // QuantizeLinear/DequantizeLinear take float16 scales and inputs only from opset 19 on.
  if (opset < 19) for (const op of QDQ_OPS) blockOps.add(op);
  const ctx: Context = {
    blockOps,
    blockNodes: new Set(options.blockNodes ?? []),
    keepIoTypes: options.keepIoTypes ?? false,
    baseDir: options.baseDir,
    usedNames: collectNames(model.graph),
    deferred: options.deferred,
  };
  const graph = convertGraph(model.graph, ctx, new Map(), { inputs: !ctx.keepIoTypes, outputs: !ctx.keepIoTypes });
  return { ...model, graph };
}

const isBlocked = (node: NodeProto, ctx: Context): boolean => ctx.blockOps.has(node.opType ?? '') || ctx.blockNodes.has(node.name ?? '');

/**
 * Convert one graph. `outer` holds the final (stored) element types of outer-scope values; `formals` says whether
 * the graph's own inputs/outputs become float16 (top graph: !keepIoTypes; subgraph: its node is converted).
 */
function convertGraph(graph: GraphProto, ctx: Context, outer: ReadonlyMap<string, number>, formals: { inputs: boolean; outputs: boolean }): GraphProto {
  const original = inferElemTypes(graph, outer);
  const isFloat = (name: string): boolean => !!name && original.get(name) === DataType.FLOAT;
  const initializerNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  const inputNames = new Set(graph.input.map((v) => v.name ?? ''));

  // Which type does each consumer slot want? (only float32 values are considered)
  const slotWants = (node: NodeProto, index: number, converted: boolean): number | undefined => {
    const op = node.opType ?? '';
    if (ANY_TYPE_INPUT_OPS.has(op) && index === 0) return undefined;
    if (!converted) return DataType.FLOAT;
    return FP16_ALWAYS_FLOAT_INPUTS[op]?.includes(index) ? DataType.FLOAT : DataType.FLOAT16;
  };

  // Constant nodes whose consumers all want float32 stay float32 (resize scales and the like stay exact).
  const consumersWant = new Map<string, Set<number>>();
  const noteWant = (name: string, t: number | undefined): void => {
    if (!isFloat(name) || t === undefined) return;
    let set = consumersWant.get(name);
    if (!set) consumersWant.set(name, (set = new Set()));
    set.add(t);
  };
  const preliminaryConverted = (n: NodeProto): boolean => !isBlocked(n, ctx);
  for (const node of graph.node) node.input.forEach((name, i) => noteWant(name, slotWants(node, i, preliminaryConverted(node))));
  for (const o of graph.output) noteWant(o.name ?? '', formals.outputs ? DataType.FLOAT16 : DataType.FLOAT);
  const converted = (node: NodeProto): boolean => {
    if (isBlocked(node, ctx)) return false;
    if (node.opType === 'Constant' && node.output.length === 1 && isFloat(node.output[0])) {
      return consumersWant.get(node.output[0])?.has(DataType.FLOAT16) ?? false;
    }
    return true;
  };

  // Stored type of every float value after conversion.
  const stored = new Map<string, number>(outer);
  for (const name of original.keys()) if (!outer.has(name) && isFloat(name)) stored.set(name, DataType.FLOAT);
  for (const v of graph.input) if (isFloat(v.name ?? '') && formals.inputs && !initializerNames.has(v.name ?? '')) stored.set(v.name ?? '', DataType.FLOAT16);
  for (const node of graph.node) {
    if (!converted(node)) continue;
    for (const o of node.output) if (isFloat(o)) stored.set(o, DataType.FLOAT16);
  }

  // Initializers: float16 when only float16 consumers want them; both -> keep float32 and add `<name>_fp16`.
  const initializers: TensorProto[] = [];
  const fp16Copy = new Map<string, string>();
  for (const t of graph.initializer) {
    const name = t.name ?? '';
    const wants = consumersWant.get(name);
    if (t.dataType !== DataType.FLOAT || !wants?.has(DataType.FLOAT16) || inputNames.has(name)) {
      initializers.push(t);
      continue;
    }
    if (wants.has(DataType.FLOAT)) {
      initializers.push(t);
      const copyName = uniqueName(`${name}_fp16`, ctx.usedNames);
      initializers.push(toFloat16Tensor(t, ctx, copyName));
      fp16Copy.set(name, copyName);
    } else {
      initializers.push(toFloat16Tensor(t, ctx, name));
      stored.set(name, DataType.FLOAT16);
    }
  }

  // Casts, created once per (value, target type), emitted just before their first consumer.
  const casts = new Map<string, { name: string; node: NodeProto; emitted: boolean }>();
  const castOf = (value: string, to: number): { name: string; node: NodeProto; emitted: boolean } => {
    const key = `${to}:${value}`;
    let c = casts.get(key);
    if (!c) {
      const out = uniqueName(`${value}_cast_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`, ctx.usedNames);
      const node = makeNode({
        input: [value],
        output: [out],
        name: uniqueName(`${value}_Cast_to_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`, ctx.usedNames),
        opType: 'Cast',
        attribute: [makeAttribute({ name: 'to', type: AttributeType.INT, i: to })],
      });
      c = { name: out, node, emitted: false };
      casts.set(key, c);
    }
    return c;
  };

  // Graph outputs whose stored type differs from the declared one: the producer writes `<name>_fp16`/`_fp32`
  // and a final Cast restores the output name.
  const outputWant = formals.outputs ? DataType.FLOAT16 : DataType.FLOAT;
  const renamed = new Map<string, string>();
  const tailCasts: NodeProto[] = [];
  for (const o of graph.output) {
    const name = o.name ?? '';
    if (!isFloat(name) || stored.get(name) === outputWant || inputNames.has(name) || initializerNames.has(name)) continue;
    const from = stored.get(name) ?? DataType.FLOAT;
    const inner = uniqueName(`${name}_${from === DataType.FLOAT16 ? 'fp16' : 'fp32'}`, ctx.usedNames);
    renamed.set(name, inner);
    stored.set(inner, from);
    tailCasts.push(
      makeNode({
        input: [inner],
        output: [name],
        name: uniqueName(`${name}_Cast_output`, ctx.usedNames),
        opType: 'Cast',
        attribute: [makeAttribute({ name: 'to', type: AttributeType.INT, i: outputWant })],
      }),
    );
    stored.set(name, outputWant);
  }
  const rename = (n: string): string => renamed.get(n) ?? n;

  const nodes: NodeProto[] = [];
  for (const node of graph.node) {
    const isConverted = converted(node);
    const input = node.input.map((raw, i) => {
      const name = rename(raw);
      if (!isFloat(raw)) return name;
      const want = slotWants(node, i, isConverted);
      if (want === undefined) return name;
      if (want === DataType.FLOAT16 && fp16Copy.has(raw)) return fp16Copy.get(raw) ?? name;
      const have = stored.get(name) ?? DataType.FLOAT;
      if (have === want) return name;
      const c = castOf(name, want);
      if (!c.emitted) {
        nodes.push(c.node);
        c.emitted = true;
      }
      return c.name;
    });
    const output = node.output.map(rename);
    const attribute = node.attribute.map((a) => convertAttribute(a, node, isConverted, ctx, stored));
    nodes.push({ ...node, input, output, attribute });
  }
  nodes.push(...tailCasts);

  const retype = (v: ValueInfoProto, name = v.name ?? ''): ValueInfoProto => {
    const tt = v.type?.tensorType;
    if (!tt || tt.elemType !== DataType.FLOAT || stored.get(name) !== DataType.FLOAT16) return v;
    return { ...v, type: { ...v.type, tensorType: { ...tt, elemType: DataType.FLOAT16 } } };
  };
  return {
    ...graph,
    node: nodes,
    initializer: initializers,
    input: graph.input.map((v) => retype(v)),
    output: graph.output.map((v) => retype(v)),
    valueInfo: graph.valueInfo.map((v) => retype(v, rename(v.name ?? ''))).map((v) => (renamed.has(v.name ?? '') ? { ...v, name: rename(v.name ?? '') } : v)),
  };

  function convertAttribute(a: AttributeProto, node: NodeProto, isConverted: boolean, c: Context, env: Map<string, number>): AttributeProto {
    const subgraphs = nodeSubgraphs({ ...node, attribute: [a] });
    if (subgraphs.length > 0) {
      const sub = (g: GraphProto): GraphProto => convertGraph(g, c, env, { inputs: isConverted, outputs: isConverted });
      return a.g ? { ...a, g: sub(a.g) } : { ...a, graphs: a.graphs.map(sub) };
    }
    if (!isConverted) return a;
    const op = node.opType ?? '';
    if (op === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) return { ...a, i: DataType.FLOAT16 };
    if (op === 'Constant' && (a.name === 'value_float' || a.name === 'value_floats')) {
      const values = a.name === 'value_float' ? [a.f ?? 0] : a.floats;
      const bits = float32ToFloat16Clamped(Float32Array.from(values));
      const t = makeTensorProto({ dims: a.name === 'value_float' ? [] : [values.length], dataType: DataType.FLOAT16, rawData: new Uint8Array(bits.buffer) });
      return makeAttribute({ name: 'value', type: AttributeType.TENSOR, t });
    }
    if (a.t && a.t.dataType === DataType.FLOAT) return { ...a, t: toFloat16Tensor(a.t, c, a.t.name) };
    if (a.name === 'dtype' && Number(a.i) === DataType.FLOAT) return { ...a, i: DataType.FLOAT16 };
    return a;
  }
}

/** A float32 tensor as float16 (clamped), same dims, data inline, or deferred (ctx.deferred) when it is still in a file. */
function toFloat16Tensor(t: TensorProto, ctx: Pick<Context, 'baseDir' | 'deferred'>, name: string | undefined): TensorProto {
  const convert = (): Uint8Array => new Uint8Array(float32ToFloat16Clamped(tensorToTypedArray(t, ctx.baseDir) as Float32Array).buffer);
  const fields = { dims: t.dims, dataType: DataType.FLOAT16 };
  const out = isDeferrable(t, ctx.deferred)
    ? deferredTensor(ctx.deferred, fields, `float16 of ${t.name ?? 'a tensor'}`, convert)
    : makeTensorProto({ ...fields, dims: [...t.dims], rawData: convert() });
  if (name !== undefined) out.name = name;
  if (t.docString !== undefined) out.docString = t.docString;
  out.metadataProps = t.metadataProps;
  return out;
}

/** Every name used for values and nodes in a graph and its subgraphs. */
export function collectNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) if (v.name) into.add(v.name);
  for (const t of graph.initializer) if (t.name) into.add(t.name);
  for (const n of graph.node) {
    if (n.name) into.add(n.name);
    for (const x of [...n.input, ...n.output]) if (x) into.add(x);
    for (const g of nodeSubgraphs(n)) collectNames(g, into);
  }
  return into;
}

/** `base`, or `base_<k>` for the first k that is free; the result is reserved in `used`. */
export function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}

