/**
 * insertQdq: QuantizeLinear/DequantizeLinear pairs on the activations that feed chosen ops, weights quantized
 * symmetric int8 per output channel (DequantizeLinear on the int8 initializer), biases float or int32.
 *
 * Layout knobs (they decide speed on onnxruntime CPU; see DESIGN.md): which op types, whether MatMuls between two
 * activations (attention) are quantized, whether the outputs of quantized ops get a Q/DQ pair too (onnxruntime
 * fuses DQ -> Conv -> Q into QLinearConv only when that output Q exists), int8 symmetric (TensorRT) or uint8
 * asymmetric activations. One Q/DQ pair per activation tensor, shared by all quantized consumers.
 */
import { DataType, SdqError, computeScaleZeroPoint, quantizeValue } from '@sdq/quant';
import { AttributeType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../proto/types.js';
import { getIntAttribute, makeAttribute, makeNode, makeTensorProto } from '../builder/proto-factory.js';
import { tensorToTypedArray } from '../tensor.js';
import { inferElemTypes } from './elem-types.js';
import { collectNames, uniqueName } from './float16.js';
import { INT8_SYMMETRIC, UINT8_FULL, quantizeWeightSymmetric } from './qdq-math.js';

/** Observed range of one tensor. */
export interface TensorRange {
  min: number;
  max: number;
}

/** tensor name -> range; a Map, or a plain object with {min, max} or [min, max] values (ranges.json). */
export type QdqRanges = ReadonlyMap<string, TensorRange> | Readonly<Record<string, TensorRange | readonly [number, number]>>;

export interface QdqPolicy {
  /** Op types to quantize. Default ['Conv', 'MatMul', 'Gemm']. */
  opTypes?: readonly string[];
  /** Also quantize MatMuls whose two inputs are both activations (attention scores and context). Default false. */
  activationMatMuls?: boolean;
  /** Nodes to leave in float: names, regular expressions over names, or a predicate. */
  skipNodes?: readonly (string | RegExp)[] | ((node: NodeProto) => boolean);
  /** 'int8': symmetric, zero point 0 (TensorRT). 'uint8': asymmetric. Default 'int8'. */
  activationType?: 'int8' | 'uint8';
  /** Per-output-channel weight scales (else one scale per weight). Default true. */
  perChannel?: boolean;
  /** Put a Q/DQ pair on the outputs of quantized ops too (all their consumers read the DQ output). Default false. */
  quantizeOutputs?: boolean;
  /**
   * Quantized nodes whose outputs stay float even with quantizeOutputs (same forms as skipNodes). For attention's
   * to_q/to_k: a Q/DQ on their outputs lets onnxruntime turn the float Q.K^T MatMul into MatMulIntegerToFloat with a
   * separate scale Mul, which measured slower than the float FusedMatMul (docs/calibration.md).
   */
  floatOutputNodes?: readonly (string | RegExp)[] | ((node: NodeProto) => boolean);
  /** Bias of Conv/Gemm: keep float, or int32 with scale s_x * s_w (zero point 0) where the shapes allow. Default 'float'. */
  bias?: 'float' | 'int32';
  /** A needed activation range is missing: throw (default) or leave that node in float (listed in the report). */
  missingRange?: 'error' | 'skip-node';
  /** Folder of the model file, for weights still in external data files. */
  baseDir?: string;
}

export interface QdqReport {
  quantizedNodes: string[];
  skippedNodes: { node: string; reason: string }[];
  /** Activation tensors that got a Q/DQ pair. */
  activations: string[];
  /** Weight initializers replaced by int8 + DequantizeLinear. */
  weights: string[];
  int32Biases: string[];
}

interface Plan {
  node: NodeProto;
  /** input index -> 'activation' | 'weight' (axis) | 'bias' */
  activationInputs: number[];
  weight?: { index: number; axis: number };
  biasIndex?: number;
}

const DEFAULT_OPS = ['Conv', 'MatMul', 'Gemm'];
/** Plan marker: the weight's last axis (MatMul), resolved once the weight's rank is known. */
const LAST_AXIS = -2;

export function insertQdq(model: ModelProto, ranges: QdqRanges, policy: QdqPolicy = {}): ModelProto {
  return insertQdqWithReport(model, ranges, policy).model;
}

export function insertQdqWithReport(model: ModelProto, ranges: QdqRanges, policy: QdqPolicy = {}): { model: ModelProto; report: QdqReport } {
  const graph = model.graph;
  if (!graph) throw new SdqError('INVALID_ARGUMENT', 'insertQdq: the model has no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  const perChannel = policy.perChannel ?? true;
  if (opset < 10 || (perChannel && opset < 13)) {
    throw new SdqError('UNSUPPORTED', `insertQdq: the model imports opset ${opset}; QDQ needs opset >= 10 and per-channel weights opset >= 13 (convert the model's opset or set perChannel: false)`);
  }
  const rangeOf = normalizeRanges(ranges);
  const act =
    policy.activationType === 'uint8'
      ? { type: DataType.UINT8, ...UINT8_FULL, symmetric: false }
      : { type: DataType.INT8, ...INT8_SYMMETRIC, symmetric: true };
  const { decisions, initializers, isFloatActivation } = selectQdqNodes(graph, policy);
  const report: QdqReport = { quantizedNodes: [], skippedNodes: [], activations: [], weights: [], int32Biases: [] };

  // 1. Of the nodes the policy picks, those whose activation inputs all have a range are quantized.
  const plans: Plan[] = [];
  for (const decision of decisions) {
    if ('skipped' in decision) {
      report.skippedNodes.push(decision.skipped);
      continue;
    }
    const { plan } = decision;
    const node = plan.node;
    const label = nodeLabel(node);
    const missing = plan.activationInputs.map((i) => node.input[i]).filter((n) => !rangeOf(n));
    if (missing.length > 0) {
      if ((policy.missingRange ?? 'error') === 'error') {
        throw new SdqError('NOT_FOUND', `insertQdq: no range for activation "${missing[0]}" (input of node "${label}"); calibrate it, or set missingRange: 'skip-node'`);
      }
      report.skippedNodes.push({ node: label, reason: `no range for ${missing.join(', ')}` });
      continue;
    }
    plans.push(plan);
    report.quantizedNodes.push(label);
  }

  // 2. Activation tensors that get a pair, and which consumer slots read the DQ output.
  const used = collectNames(graph);
  const quantizedActs = new Set<string>();
  const rewiredSlots = new Map<NodeProto, Set<number>>();
  const rewire = (node: NodeProto, index: number): void => {
    let s = rewiredSlots.get(node);
    if (!s) rewiredSlots.set(node, (s = new Set()));
    s.add(index);
  };
  for (const p of plans) {
    for (const i of p.activationInputs) {
      quantizedActs.add(p.node.input[i]);
      rewire(p.node, i);
    }
  }
  if (policy.quantizeOutputs) {
    const consumers = new Map<string, { node: NodeProto; index: number }[]>();
    for (const n of graph.node) n.input.forEach((x, index) => x && consumers.set(x, [...(consumers.get(x) ?? []), { node: n, index }]));
    const floatOutput = skipPredicate(policy.floatOutputNodes);
    for (const p of plans) {
      if (floatOutput(p.node)) continue;
      for (const out of p.node.output) {
        if (!isFloatActivation(out) || !rangeOf(out)) {
          if (out && !rangeOf(out)) report.skippedNodes.push({ node: p.node.name ?? out, reason: `output ${out} left unquantized: no range` });
          continue;
        }
        quantizedActs.add(out);
        for (const c of consumers.get(out) ?? []) rewire(c.node, c.index);
      }
    }
  }

  // 3. Q/DQ for activations (scalar scale/zero point initializers).
  const newInits: TensorProto[] = [];
  const dqName = new Map<string, string>();
  const qdqNodes = new Map<string, NodeProto[]>();
  const actScale = new Map<string, number>();
  for (const t of quantizedActs) {
    const r = rangeOf(t) as TensorRange;
    const { scale, zeroPoint } = computeScaleZeroPoint(r.min, r.max, act.qmin, act.qmax, { symmetric: act.symmetric });
    actScale.set(t, scale);
    const scaleName = uniqueName(`${t}_scale`, used);
    const zpName = uniqueName(`${t}_zero_point`, used);
    newInits.push(scalarTensor(scaleName, DataType.FLOAT, scale), scalarTensor(zpName, act.type, zeroPoint));
    const q = uniqueName(`${t}_quantized`, used);
    const dq = uniqueName(`${t}_dequantized`, used);
    dqName.set(t, dq);
    qdqNodes.set(t, [
      makeNode({ input: [t, scaleName, zpName], output: [q], name: uniqueName(`${t}_QuantizeLinear`, used), opType: 'QuantizeLinear' }),
      makeNode({ input: [q, scaleName, zpName], output: [dq], name: uniqueName(`${t}_DequantizeLinear`, used), opType: 'DequantizeLinear' }),
    ]);
    report.activations.push(t);
  }

  // 4. Weights (int8 symmetric, per channel) and int32 biases.
  const weightDq = new Map<string, { dq: string; scales: Float32Array; node: NodeProto }>();
  const dqNodeByOutput = new Map<string, NodeProto>();
  const replacedInits = new Set<string>();
  const weightSlot = new Map<NodeProto, Map<number, string>>();
  const setSlot = (node: NodeProto, index: number, name: string): void => {
    let m = weightSlot.get(node);
    if (!m) weightSlot.set(node, (m = new Map()));
    m.set(index, name);
  };
  for (const p of plans) {
    if (!p.weight) continue;
    const wName = p.node.input[p.weight.index];
    const wDims = (initializers.get(wName) as TensorProto).dims;
    // MatMul weights [..., K, N]: the output channel is the last axis
    const channelAxis = p.weight.axis === LAST_AXIS ? wDims.length - 1 : p.weight.axis;
    const axis = perChannel ? channelAxis : -1;
    const key = `${wName}@${axis}`;
    let w = weightDq.get(key);
    if (!w) {
      const init = initializers.get(wName) as TensorProto;
      const data = tensorToTypedArray(init, policy.baseDir) as Float32Array;
      const { values, scales } = quantizeWeightSymmetric(data, init.dims, axis);
      const qName = uniqueName(`${wName}_quantized`, used);
      const sName = uniqueName(`${wName}_scale`, used);
      const zName = uniqueName(`${wName}_zero_point`, used);
      const sDims = axis < 0 ? [] : [scales.length];
      newInits.push(
        makeTensorProto({ name: qName, dims: [...init.dims], dataType: DataType.INT8, rawData: new Uint8Array(values.buffer) }),
        makeTensorProto({ name: sName, dims: sDims, dataType: DataType.FLOAT, rawData: new Uint8Array(scales.buffer) }),
        makeTensorProto({ name: zName, dims: sDims, dataType: DataType.INT8, rawData: new Uint8Array(scales.length) }),
      );
      const dq = uniqueName(`${wName}_DequantizeLinear_output`, used);
      const node = makeNode({
        input: [qName, sName, zName],
        output: [dq],
        name: uniqueName(`${wName}_DequantizeLinear`, used),
        opType: 'DequantizeLinear',
        attribute: axis < 0 ? [] : [makeAttribute({ name: 'axis', type: AttributeType.INT, i: axis })],
      });
      w = { dq, scales, node };
      dqNodeByOutput.set(dq, node);
      weightDq.set(key, w);
      report.weights.push(wName);
    }
    setSlot(p.node, p.weight.index, w.dq);

    if (policy.bias === 'int32' && p.biasIndex !== undefined) {
      const bName = p.node.input[p.biasIndex];
      const bias = initializers.get(bName);
      const xScale = actScale.get(p.node.input[0]);
      const outChannels = wDims[channelAxis];
      if (bias && xScale !== undefined && bias.dims.length === 1 && bias.dims[0] === outChannels) {
        const data = tensorToTypedArray(bias, policy.baseDir) as Float32Array;
        const scales = new Float32Array(data.length);
        const q = new Int32Array(data.length);
        let ok = true;
        for (let c = 0; c < data.length; c++) {
          scales[c] = Math.fround(xScale * w.scales[w.scales.length === 1 ? 0 : c]);
          const v = scales[c] > 0 ? quantizeValue(data[c], scales[c], 0, -2147483648, 2147483647) : NaN;
          if (!Number.isFinite(v)) ok = false;
          q[c] = v;
        }
        if (ok) {
          const qName = uniqueName(`${bName}_quantized`, used);
          const sName = uniqueName(`${bName}_scale`, used);
          const zName = uniqueName(`${bName}_zero_point`, used);
          newInits.push(
            makeTensorProto({ name: qName, dims: [data.length], dataType: DataType.INT32, rawData: new Uint8Array(q.buffer) }),
            makeTensorProto({ name: sName, dims: [data.length], dataType: DataType.FLOAT, rawData: new Uint8Array(scales.buffer) }),
            makeTensorProto({ name: zName, dims: [data.length], dataType: DataType.INT32, rawData: new Uint8Array(data.length * 4) }),
          );
          const dq = uniqueName(`${bName}_DequantizeLinear_output`, used);
          const dqNode = makeNode({
            input: [qName, sName, zName],
            output: [dq],
            name: uniqueName(`${bName}_DequantizeLinear`, used),
            opType: 'DequantizeLinear',
            attribute: [makeAttribute({ name: 'axis', type: AttributeType.INT, i: 0 })],
          });
          setSlot(p.node, p.biasIndex, dq);
          report.int32Biases.push(bName);
          replacedInits.add(bName);
          dqNodeByOutput.set(dq, dqNode);
        }
      }
    }
  }

  // 5. Rebuild the node list: each Q/DQ (and weight DQ) just before its first consumer.
  const emitted = new Set<NodeProto>();
  const nodes: NodeProto[] = [];
  const emit = (n: NodeProto): void => {
    if (!emitted.has(n)) {
      emitted.add(n);
      nodes.push(n);
    }
  };
  for (const node of graph.node) {
    const slots = rewiredSlots.get(node);
    const wslots = weightSlot.get(node);
    if (!slots && !wslots) {
      nodes.push(node);
      continue;
    }
    const input = node.input.map((x, i) => {
      const w = wslots?.get(i);
      if (w !== undefined) {
        const dqNode = dqNodeByOutput.get(w);
        if (dqNode) emit(dqNode);
        return w;
      }
      if (slots?.has(i) && dqName.has(x)) {
        for (const n of qdqNodes.get(x) ?? []) emit(n);
        return dqName.get(x) as string;
      }
      return x;
    });
    nodes.push({ ...node, input });
  }

  for (const p of plans) for (const i of [p.weight?.index]) if (i !== undefined) replacedInits.add(p.node.input[i]);
  // A float weight still read by a node we did not quantize stays; otherwise it is dropped.
  const stillUsed = new Set<string>();
  for (const n of nodes) for (const x of n.input) stillUsed.add(x);
  for (const o of graph.output) stillUsed.add(o.name ?? '');
  const keptInits = graph.initializer.filter((t) => !replacedInits.has(t.name ?? '') || stillUsed.has(t.name ?? ''));
  const newGraph: GraphProto = { ...graph, node: nodes, initializer: [...keptInits, ...newInits] };
  return { model: { ...model, graph: newGraph }, report };
}

function nodeLabel(node: NodeProto): string {
  return node.name ?? node.output[0] ?? node.opType ?? '';
}

/**
 * The nodes `policy` quantizes when every range is present (op type, skipNodes, planNode, activationMatMuls), with
 * the reasons the others of those op types are left in float (graph order). insertQdq and qdqTensorsFor both start
 * here, so they cannot disagree.
 */
function selectQdqNodes(graph: GraphProto, policy: QdqPolicy): {
  decisions: ({ plan: Plan } | { skipped: { node: string; reason: string } })[];
  initializers: Map<string, TensorProto>;
  isFloatActivation: (name: string) => boolean;
} {
  const types = inferElemTypes(graph);
  const initializers = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  const isWeight = (name: string): boolean => initializers.get(name)?.dataType === DataType.FLOAT;
  const isFloatActivation = (name: string): boolean => !!name && !initializers.has(name) && types.get(name) === DataType.FLOAT;
  const skipByPolicy = skipPredicate(policy.skipNodes);
  const opTypes = new Set(policy.opTypes ?? DEFAULT_OPS);
  const decisions: ({ plan: Plan } | { skipped: { node: string; reason: string } })[] = [];
  const skip = (node: string, reason: string): void => {
    decisions.push({ skipped: { node, reason } });
  };
  for (const node of graph.node) {
    const op = node.opType ?? '';
    const label = nodeLabel(node);
    if (!opTypes.has(op) || (node.domain && node.domain !== 'ai.onnx')) continue;
    if (skipByPolicy(node)) {
      skip(label, 'skipped by policy');
      continue;
    }
    const plan = planNode(node, isWeight, isFloatActivation);
    if (!plan) {
      skip(label, 'inputs are not float activations/weights');
      continue;
    }
    if (op === 'MatMul' && !plan.weight && !(policy.activationMatMuls ?? false)) {
      skip(label, 'activation x activation MatMul (activationMatMuls: false)');
      continue;
    }
    decisions.push({ plan });
  }
  return { decisions, initializers, isFloatActivation };
}

/**
 * The activation tensors whose ranges insertQdq reads under `policy`: the float activation inputs of every node it
 * would quantize, plus those nodes' float outputs when `quantizeOutputs` is on. Calibrating exactly these (and not
 * every float tensor) keeps calibration cheap: attention scores, for one, are never needed unless activationMatMuls.
 * Graph order, each name once.
 */
export function qdqTensorsFor(model: ModelProto, policy: QdqPolicy = {}): string[] {
  const graph = model.graph;
  if (!graph) throw new SdqError('INVALID_ARGUMENT', 'qdqTensorsFor: the model has no graph');
  const { decisions, isFloatActivation } = selectQdqNodes(graph, policy);
  const floatOutput = skipPredicate(policy.floatOutputNodes);
  const tensors = new Set<string>();
  for (const d of decisions) {
    if (!('plan' in d)) continue;
    const p = d.plan;
    for (const i of p.activationInputs) tensors.add(p.node.input[i]);
    if (policy.quantizeOutputs && !floatOutput(p.node)) for (const out of p.node.output) if (isFloatActivation(out)) tensors.add(out);
  }
  return [...tensors];
}

function planNode(node: NodeProto, isWeight: (n: string) => boolean, isAct: (n: string) => boolean): Plan | undefined {
  const op = node.opType ?? '';
  const [a, b] = node.input;
  if (!isAct(a)) return undefined;
  if (op === 'Conv' || op === 'ConvTranspose') {
    if (!isWeight(b)) return isAct(b) ? { node, activationInputs: [0, 1] } : undefined;
    return { node, activationInputs: [0], weight: { index: 1, axis: op === 'Conv' ? 0 : 1 }, biasIndex: node.input[2] ? 2 : undefined };
  }
  if (op === 'Gemm') {
    if (getIntAttribute(node, 'transA', 0) !== 0) return undefined;
    if (!isWeight(b)) return isAct(b) ? { node, activationInputs: [0, 1] } : undefined;
    return { node, activationInputs: [0], weight: { index: 1, axis: getIntAttribute(node, 'transB', 0) ? 0 : 1 }, biasIndex: node.input[2] ? 2 : undefined };
  }
  if (op === 'MatMul') {
    if (isWeight(b)) return { node, activationInputs: [0], weight: { index: 1, axis: LAST_AXIS } };
    return isAct(b) ? { node, activationInputs: [0, 1] } : undefined;
  }
  // Any other op: quantize its float activation inputs (e.g. Add, Concat when listed in opTypes).
  const acts = node.input.map((x, i) => (isAct(x) ? i : -1)).filter((i) => i >= 0);
  return acts.length > 0 ? { node, activationInputs: acts } : undefined;
}

function normalizeRanges(ranges: QdqRanges): (name: string) => TensorRange | undefined {
  const get =
    ranges instanceof Map
      ? (n: string) => (ranges as ReadonlyMap<string, TensorRange>).get(n)
      : (n: string) => {
          const v = (ranges as Readonly<Record<string, TensorRange | readonly [number, number]>>)[n];
          if (v === undefined || !Object.prototype.hasOwnProperty.call(ranges, n)) return undefined;
          return Array.isArray(v) ? { min: v[0], max: v[1] } : (v as TensorRange);
        };
  return (n) => {
    const r = get(n);
    if (r && (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max)) {
      throw new SdqError('INVALID_RANGE', `insertQdq: range of "${n}" is [${r.min}, ${r.max}]; a range needs finite min <= max`);
    }
    return r;
  };
}

function skipPredicate(skip: QdqPolicy['skipNodes'] | QdqPolicy['floatOutputNodes']): (node: NodeProto) => boolean {
  if (!skip) return () => false;
  if (typeof skip === 'function') return skip;
  return (node) => skip.some((s) => (typeof s === 'string' ? s === node.name : s.test(node.name ?? '')));
}

function scalarTensor(name: string, type: DataType, value: number): TensorProto {
  const data = type === DataType.FLOAT ? new Float32Array([value]) : type === DataType.INT8 ? new Int8Array([value]) : new Uint8Array([value]);
  return makeTensorProto({ name, dims: [], dataType: type, rawData: new Uint8Array(data.buffer) });
}
