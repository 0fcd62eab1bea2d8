/**
 * quantizeWeightsInt8: weight-only INT8 (W8A16 on an FP16 model, W8A32 on an FP32 one). Each large Conv / MatMul /
 * Gemm weight and Gather table initializer becomes int8 per output channel (symmetric, zero point 0) behind a DequantizeLinear, and a
 * Cast back to float16 where the weight was float16; activations stay float.
 *
 * Why this form: onnxruntime's WebGPU provider has a DequantizeLinear kernel but no QuantizeLinear or QLinear* kernel,
 * so activation Q/DQ models run those nodes on the CPU (50-70x slower on an H200); weight-only DQ stays on the GPU.
 * DequantizeLinear keeps float32 output so the model's opset needs no bump (float16 output needs opset 19, and moving
 * an opset-17 export to 19 changes Reduce*, Split and Pad). onnxruntime folds DQ + Cast of initializers into float
 * weights at load when `session.disable_quant_qdq` is set, else it dequantizes every run.
 *
 * With `deferred` (convertToFloat16's map, passed on to writeModel), weights still in external files are quantized
 * as they are written: memory holds one weight at a time (sdq convert --to int8-weights, peak RSS: sd15 preset
 * 2.55 -> 0.54 GiB, sdxl preset 7.54 -> 1.03 GiB), and the bytes are the same as quantizing up front.
 */
import { DataType, float16ToFloat32, typedArrayFromBytes } from '@sdq/quant';
import { AttributeType, type ModelProto, type NodeProto, type TensorProto } from '../proto/types.js';
import { getIntAttribute, makeAttribute, makeNode, makeTensorProto } from '../builder/proto-factory.js';
import { bytesOf, tensorElementCount, tensorToTypedArray } from '../tensor.js';
import { collectNames, uniqueName } from './float16.js';
import { type DeferredData, deferredTensor, isDeferrable } from './deferred.js';
import { quantizeWeightSymmetric, quantizeWeightWithScales, symmetricWeightScales } from './qdq-math.js';

export interface WeightOnlyInt8Options {
  /** Folder of the model's external data (lazy tensors). */
  baseDir?: string;
  /** Weights with fewer elements stay float (their bytes do not matter, their precision might). Default 4096. */
  minElements?: number;
  /** Node names or op types to leave in float. */
  exclude?: readonly string[];
  /**
   * Quantize weights still in external files when they are written: each gets int8 and scale tensors whose data is
   * `deferred.get(tensor)()`; the weights themselves may be deferred ones (convertToFloat16 with the same map). Pass
   * the map to writeModel's `deferredData`.
   */
  deferred?: DeferredData;
}

export interface WeightOnlyInt8Report {
  /** Weight initializers now stored as int8. */
  weights: string[];
  /** Bytes of those weights before (float) and after (int8 + scales). */
  bytesBefore: number;
  bytesAfter: number;
  /** Weights left float, with the reason. */
  kept: { name: string; reason: string }[];
}

/**
 * The axis that gets one scale per index: Conv [O, I, kh, kw] -> 0, MatMul [K, N] -> last, Gemm B -> 0 when transB,
 * Gather's table [vocab, d] -> 0 (one scale per token's embedding row).
 */
function channelAxis(node: NodeProto, dims: readonly number[]): number {
  if (node.opType === 'Conv' || node.opType === 'Gather') return 0;
  if (node.opType === 'Gemm') return getIntAttribute(node, 'transB', 0) === 1 ? 0 : 1;
  return dims.length - 1;
}

// The weight's input slot per op; Gather's is its table (CLIP's token embedding is a third of its parameters).
const WEIGHT_INPUT: Readonly<Record<string, number>> = { Conv: 1, MatMul: 1, Gemm: 1, Gather: 0 };

/**
 * The int8 values [dims] and scales [channels] of one float weight, quantized now, or (a weight still in a file, with
 * `deferred`) as deferred tensors made when written. The scales are kept once made (one float per channel), so the
 * values, written later, use the very same ones; an inline scale tensor is made while the graph is encoded, before
 * any data is written, and then its weight is read twice.
 */
function int8Tensors(init: TensorProto, axis: number, names: { values: string; scales: string }, options: Pick<WeightOnlyInt8Options, 'baseDir' | 'deferred'>): [TensorProto, TensorProto] {
  const dims = init.dims;
  const values = { name: names.values, dims, dataType: DataType.INT8 };
  const scales = { name: names.scales, dims: [dims[axis]], dataType: DataType.FLOAT };
  const read = (): Float32Array => {
    const made = options.deferred?.get(init)?.();
    const raw = made === undefined ? tensorToTypedArray(init, options.baseDir) : typedArrayFromBytes(init.dataType ?? DataType.UNDEFINED, made);
    return init.dataType === DataType.FLOAT16 ? float16ToFloat32(raw as Uint16Array) : (raw as Float32Array);
  };
  if (!isDeferrable(init, options.deferred)) {
    const q = quantizeWeightSymmetric(read(), dims, axis);
    return [makeTensorProto({ ...values, dims: [...dims], rawData: bytesOf(q.values) }), makeTensorProto({ ...scales, rawData: bytesOf(q.scales) })];
  }
  let made: Float32Array | undefined;
  const what = `of ${init.name ?? 'a weight'}`;
  return [
    deferredTensor(options.deferred, values, `int8 values ${what}`, () => {
      const data = read();
      made ??= symmetricWeightScales(data, dims, axis);
      return bytesOf(quantizeWeightWithScales(data, dims, axis, made));
    }),
    deferredTensor(options.deferred, scales, `int8 scales ${what}`, () => bytesOf((made ??= symmetricWeightScales(read(), dims, axis)))),
  ];
}

export function quantizeWeightsInt8(model: ModelProto, options: WeightOnlyInt8Options = {}): { model: ModelProto; report: WeightOnlyInt8Report } {
  const report: WeightOnlyInt8Report = { weights: [], bytesBefore: 0, bytesAfter: 0, kept: [] };
  if (!model.graph) return { model, report };
  // The caller's model stays as it was: nodes are copied before their inputs are rewired.
  const graph = { ...model.graph, node: model.graph.node.map((n) => ({ ...n, input: [...n.input] })) };
  const minElements = options.minElements ?? 4096;
  const exclude = new Set(options.exclude ?? []);
  const initializers = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  // A weight read by anything else than the ops above keeps its float initializer for those readers.
  const readers = new Map<string, number>();
  for (const n of graph.node) for (const i of n.input) readers.set(i, (readers.get(i) ?? 0) + 1);
  const used = collectNames(graph);
  const dequantized = new Map<string, string>();
  const newNodes: NodeProto[] = [];
  const newInits: TensorProto[] = [];
  const replaced = new Set<string>();

  for (const node of graph.node) {
    const op = node.opType ?? '';
    const slot = WEIGHT_INPUT[op];
    if (slot === undefined || exclude.has(node.name ?? '') || exclude.has(op)) continue;
    const wName = node.input[slot];
    const init = wName === undefined ? undefined : initializers.get(wName);
    if (init?.name === undefined) continue;
    const initName = init.name;
    if (init.dataType !== DataType.FLOAT && init.dataType !== DataType.FLOAT16) {
      report.kept.push({ name: initName, reason: `element type ${init.dataType} is not float32/float16` });
      continue;
    }
    if (tensorElementCount(init) < minElements) {
      report.kept.push({ name: initName, reason: `${tensorElementCount(init)} elements (< ${minElements})` });
      continue;
    }
    let out = dequantized.get(initName);
    if (out === undefined) {
      const axis = channelAxis(node, init.dims);
      const channels = init.dims[axis];
      const qName = uniqueName(`${initName}_int8`, used);
      const sName = uniqueName(`${initName}_scale`, used);
      const zName = uniqueName(`${initName}_zero_point`, used);
      newInits.push(
        ...int8Tensors(init, axis, { values: qName, scales: sName }, options),
        makeTensorProto({ name: zName, dims: [channels], dataType: DataType.INT8, rawData: new Uint8Array(channels) }),
      );
      const dqOut = uniqueName(`${initName}_dequantized`, used);
      newNodes.push(
        makeNode({
          input: [qName, sName, zName],
          output: [dqOut],
          name: uniqueName(`${initName}_DequantizeLinear`, used),
          opType: 'DequantizeLinear',
          attribute: [makeAttribute({ name: 'axis', type: AttributeType.INT, i: axis })],
        }),
      );
      out = dqOut;
      if (init.dataType === DataType.FLOAT16) {
        out = uniqueName(`${initName}_float16`, used);
        newNodes.push(
          makeNode({
            input: [dqOut],
            output: [out],
            name: uniqueName(`${initName}_Cast`, used),
            opType: 'Cast',
            attribute: [makeAttribute({ name: 'to', type: AttributeType.INT, i: DataType.FLOAT16 })],
          }),
        );
      }
      dequantized.set(initName, out);
      report.weights.push(initName);
      const elements = tensorElementCount(init);
      report.bytesBefore += elements * (init.dataType === DataType.FLOAT16 ? 2 : 4);
      report.bytesAfter += elements + channels * 5;
    }
    node.input[slot] = out;
    readers.set(initName, (readers.get(initName) ?? 1) - 1);
    replaced.add(initName);
  }
  // A float initializer nobody reads any more is gone; one still read elsewhere stays.
  graph.initializer = [...graph.initializer.filter((t) => t.name === undefined || !replaced.has(t.name) || (readers.get(t.name) ?? 0) > 0), ...newInits];
  // DQ/Cast first: they read only initializers, so the order stays topological.
  graph.node = [...newNodes, ...graph.node];
  return { model: { ...model, graph }, report };
}
