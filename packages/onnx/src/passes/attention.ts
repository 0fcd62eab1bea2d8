/**
 * fuseAttention: each scaled-dot-product attention written out in plain ONNX ops (heads split by Reshape +
 * Transpose, Q.K^T, scale, Softmax, .V, heads merged) becomes one com.microsoft MultiHeadAttention node, which
 * onnxruntime's CPU provider runs as tiled (flash) attention: the [batch, heads, S, L] score tensor is never
 * written out, and the head transposes go away.
 *
 * Recognised forms (the attention inputs q [B,S,D], k and v [B,L,D] are the projections' outputs):
 * - sdq's graph builder / a hand-written export: Transpose(Reshape(q, [0,0,H,d]), [0,2,1,3]),
 *   Transpose(Reshape(k, ...), [0,2,3,1]), MatMul, Mul or Div by a constant, Softmax(-1), MatMul with
 *   Transpose(Reshape(v, ...), [0,2,1,3]), Transpose [0,2,1,3], Reshape to rank 3;
 * - torch's scaled_dot_product_attention export (diffusers through optimum): the split shapes built by Concat with
 *   the head count as a constant, K transposed as [0,2,3,1] (or [0,2,1,3] then [0,1,3,2]), and q and k^T each
 *   multiplied by sqrt(1/sqrt(d)) computed from Shape, i.e. scale 1/sqrt(d).
 * Softmaxes in any other context (a mask added to the scores, CLIP's causal attention; values read elsewhere) are
 * left alone and listed in the report with the reason.
 */
import { SdqError } from '@sdq/quant';
import type { ModelProto, NodeProto, TensorProto } from '../proto/types.js';
import { AttributeType } from '../proto/types.js';
import { getIntAttribute, makeAttribute, makeNode } from '../builder/proto-factory.js';
import { Graph } from '../graph.js';
import { tensorToTypedArray } from '../tensor.js';
import { collectNames, uniqueName } from './float16.js';

export interface FuseAttentionReport {
  /** One entry per fused attention: the new node's name, its head count and scale (absent: 1/sqrt(head size)). */
  fused: { node: string; heads: number; scale?: number }[];
  /** Softmax nodes left as they were, with the reason. */
  skipped: { softmax: string; reason: string }[];
}

const MS_DOMAIN = 'com.microsoft';

export function fuseAttention(model: ModelProto, options: { baseDir?: string } = {}): { model: ModelProto; report: FuseAttentionReport } {
  if (!model.graph) throw new SdqError('INVALID_ARGUMENT', 'fuseAttention: the model has no graph');
  const proto = { ...model.graph, node: model.graph.node.map((n) => ({ ...n, input: [...n.input], output: [...n.output] })), initializer: [...model.graph.initializer] };
  const g = new Graph(proto, options.baseDir);
  const report: FuseAttentionReport = { fused: [], skipped: [] };
  const graphOutputs = new Set(proto.output.map((o) => o.name ?? ''));
  const taken = collectNames(proto);

  for (const softmax of proto.node.filter((n) => n.opType === 'Softmax' && !n.domain)) {
    const label = softmax.name ?? softmax.output[0] ?? 'Softmax';
    const match = matchAttention(g, softmax, graphOutputs);
    if (typeof match === 'string') {
      report.skipped.push({ softmax: label, reason: match });
      continue;
    }
    const snapshot = { node: [...proto.node], initializer: [...proto.initializer], input: [...proto.input] };
    const name = uniqueName(`${match.prefix}MultiHeadAttention`, taken);
    const mha = makeNode({
      name,
      opType: 'MultiHeadAttention',
      domain: MS_DOMAIN,
      input: [match.q, match.k, match.v],
      output: [match.output],
      attribute: [
        makeAttribute({ name: 'num_heads', type: AttributeType.INT, i: match.heads }),
        ...(match.scale === undefined ? [] : [makeAttribute({ name: 'scale', type: AttributeType.FLOAT, f: match.scale })]),
      ],
    });
    // Where the merged output was produced: every input (q, k, v) is computed before the chain that read them.
    const at = proto.node.indexOf(match.nodes[match.nodes.length - 1]!);
    g.addNode(mha, at);
    for (const n of match.nodes) g.removeNode(n);
    g.removeUnused();
    const dangling = danglingInput(g);
    if (dangling) {
      // A value of the replaced chain is still read outside it (say a Shape of the split heads used elsewhere).
      Object.assign(proto, snapshot);
      g.invalidate();
      report.skipped.push({ softmax: label, reason: `${dangling} is read outside the attention` });
      continue;
    }
    report.fused.push({ node: name, heads: match.heads, ...(match.scale === undefined ? {} : { scale: match.scale }) });
  }
  const hasMs = model.opsetImport.some((o) => o.domain === MS_DOMAIN);
  const opsetImport = report.fused.length > 0 && !hasMs ? [...model.opsetImport, { domain: MS_DOMAIN, version: 1 }] : model.opsetImport;
  return { model: { ...model, opsetImport, graph: g.proto }, report };
}

interface AttentionMatch {
  q: string;
  k: string;
  v: string;
  output: string;
  heads: number;
  /** undefined: MultiHeadAttention's default 1/sqrt(head size). */
  scale: number | undefined;
  /** Nodes replaced, in graph order of discovery; the last one produces `output`. */
  nodes: NodeProto[];
  prefix: string;
}

function matchAttention(g: Graph, softmax: NodeProto, graphOutputs: ReadonlySet<string>): AttentionMatch | string {
  const nodes: NodeProto[] = [];
  // A value inside the pattern must be read only by the next node of the pattern.
  const only = (value: string, opType: string): NodeProto | undefined => {
    if (graphOutputs.has(value)) return undefined;
    const cs = g.consumers(value);
    return cs.length === 1 && cs[0]!.opType === opType && !cs[0]!.domain ? cs[0] : undefined;
  };
  const made = (value: string, opType: string): NodeProto | undefined => {
    const p = g.producer(value);
    if (!p || p.opType !== opType || p.domain) return undefined;
    if (graphOutputs.has(value) || g.consumers(value).length !== 1) return undefined;
    return p;
  };

  const rank4Axis = getIntAttribute(softmax, 'axis', -1);
  if (rank4Axis !== -1 && rank4Axis !== 3) return `softmax over axis ${rank4Axis}, not the last`;
  const pv = only(softmax.output[0]!, 'MatMul');
  if (!pv || pv.input[0] !== softmax.output[0]) return 'its output is not read by exactly one MatMul (probabilities x V)';

  // Scores: MatMul, optionally scaled by a constant (Mul / Div).
  let scale: number | undefined;
  let scores = softmax.input[0]!;
  const scaleNode = g.producer(scores);
  if (scaleNode && (scaleNode.opType === 'Mul' || scaleNode.opType === 'Div') && !scaleNode.domain) {
    const [a, b] = scaleNode.input as [string, string];
    const ca = scalarConstant(g, a);
    const cb = scalarConstant(g, b);
    const c = cb ?? (scaleNode.opType === 'Mul' ? ca : undefined);
    if (c === undefined) return `scores scaled by ${scaleNode.opType} with a non-constant factor`;
    if (!made(scores, scaleNode.opType)) return 'scaled scores are read elsewhere';
    scale = scaleNode.opType === 'Div' ? 1 / c : c;
    scores = cb !== undefined ? a : b;
    nodes.push(scaleNode);
  } else if (scaleNode && scaleNode.opType === 'Add') {
    return 'a mask or bias is added to the scores (MultiHeadAttention would need it as attention_bias)';
  }
  const qk = made(scores, 'MatMul');
  if (!qk) return 'scores are not a MatMul read only by the softmax';
  nodes.push(qk);

  // torch SDPA export: q and k^T each multiplied by sqrt(scale) computed from the head size.
  let qHeads = qk.input[0]!;
  let kT = qk.input[1]!;
  const qMul = g.producer(qHeads);
  const kMul = g.producer(kT);
  if (scale === undefined && qMul?.opType === 'Mul' && kMul?.opType === 'Mul') {
    const qs = sdpaHalfScale(g, qMul);
    const ks = sdpaHalfScale(g, kMul);
    if (!qs || !ks || !made(qHeads, 'Mul') || !made(kT, 'Mul')) return 'q and k are multiplied by factors that are not the SDPA default scale';
    nodes.push(qMul, kMul);
    qHeads = qs.input;
    kT = ks.input;
    scale = Number.NaN; // the default 1/sqrt(d), known once d is
  }

  const q = splitHeads(g, qHeads, [0, 2, 1, 3], graphOutputs);
  if (typeof q === 'string') return `query: ${q}`;
  let k = splitHeads(g, kT, [0, 2, 3, 1], graphOutputs);
  if (typeof k === 'string') {
    // K^T as a second transpose of the [0,2,1,3] head split.
    const t = made(kT, 'Transpose');
    if (!t || !samePerm(t, [0, 1, 3, 2])) return `key: ${k}`;
    const inner = splitHeads(g, t.input[0]!, [0, 2, 1, 3], graphOutputs);
    if (typeof inner === 'string') return `key: ${inner}`;
    k = { ...inner, nodes: [...inner.nodes, t] };
  }
  const v = splitHeads(g, pv.input[1]!, [0, 2, 1, 3], graphOutputs);
  if (typeof v === 'string') return `value: ${v}`;
  if (q.heads !== undefined && k.heads !== undefined && q.heads !== k.heads) return `query has ${q.heads} heads, key ${k.heads}`;
  const heads = q.heads ?? k.heads ?? v.heads;
  if (heads === undefined) return 'the head count is not a constant in the split Reshape';
  if (v.heads !== undefined && v.heads !== heads) return `value has ${v.heads} heads, query ${heads}`;
  if (scale === undefined) scale = 1;
  // SDPA's default 1/sqrt(d): MultiHeadAttention's own default when its scale is absent (d need not be constant).
  const sdpaDefault = Number.isNaN(scale);
  const d = q.headSize ?? k.headSize;
  if (sdpaDefault && d !== undefined) scale = 1 / Math.sqrt(d);

  // Heads merged: Transpose [0,2,1,3] then Reshape to rank 3.
  const merge = only(pv.output[0]!, 'Transpose');
  if (!merge || !samePerm(merge, [0, 2, 1, 3])) return 'the attention output is not transposed back to [batch, seq, heads, d]';
  const flat = only(merge.output[0]!, 'Reshape');
  if (!flat) return 'the attention output is not reshaped to [batch, seq, heads*d]';
  const rank = shapeRank(g, flat.input[1]!);
  if (rank !== 3) return `the merged output is reshaped to rank ${rank ?? '?'}, not 3`;
  nodes.push(softmax, pv, merge, flat, ...q.nodes, ...k.nodes, ...v.nodes);
  // The fused node takes the place of the last node of the chain (the merging Reshape) in graph order.
  nodes.sort((a, b) => g.nodes.indexOf(a) - g.nodes.indexOf(b));
  const name = softmax.name ?? '';
  const prefix = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
  return { q: q.input, k: k.input, v: v.input, output: flat.output[0]!, heads, scale: Number.isNaN(scale) ? undefined : scale, nodes, prefix };
}

/** `value` = Transpose(perm)(Reshape(x, [b, s, H, d])): x, H and d when they are constants, the two nodes. */
function splitHeads(g: Graph, value: string, perm: readonly number[], graphOutputs: ReadonlySet<string>): { input: string; heads?: number; headSize?: number; nodes: NodeProto[] } | string {
  const t = g.producer(value);
  if (!t || t.opType !== 'Transpose' || t.domain || !samePerm(t, perm)) return `not a Transpose [${perm.join(',')}] of the head split`;
  // torch's export also reads the split query's Shape for the scale: allowed, it dies with the chain (checked after).
  if (graphOutputs.has(value) || g.consumers(value).filter((c) => c.opType !== 'Shape').length !== 1) return 'the head split is read elsewhere';
  const r = g.producer(t.input[0]!);
  if (!r || r.opType !== 'Reshape' || r.domain) return 'the transposed value is not a Reshape';
  if (graphOutputs.has(t.input[0]!) || g.consumers(t.input[0]!).length !== 1) return 'the head split is read elsewhere';
  const dims = shapeDims(g, r.input[1]!);
  if (!dims || dims.length !== 4) return 'the split Reshape is not to rank 4';
  return { input: r.input[0]!, heads: dims[2], headSize: dims[3], nodes: [t, r] };
}

/** The target shape of a Reshape as per-axis constants (undefined where computed at run time), or undefined. */
function shapeDims(g: Graph, name: string): (number | undefined)[] | undefined {
  const whole = constantValues(g, name);
  if (whole) return whole.map((x) => (x > 0 ? x : undefined));
  const concat = g.producer(name);
  if (!concat || concat.opType !== 'Concat' || concat.domain) return undefined;
  return concat.input.map((part) => {
    const c = constantValues(g, part);
    return c && c.length === 1 && c[0]! > 0 ? c[0] : undefined;
  });
}

function shapeRank(g: Graph, name: string): number | undefined {
  return shapeDims(g, name)?.length;
}

function samePerm(node: NodeProto, perm: readonly number[]): boolean {
  const a = node.attribute.find((x) => x.name === 'perm');
  const got = a?.ints?.map(Number) ?? [];
  return got.length === perm.length && got.every((x, i) => x === perm[i]);
}

/** Values of a constant (initializer or Constant node), as numbers; undefined when not a small constant. */
function constantValues(g: Graph, name: string): number[] | undefined {
  let t: TensorProto | undefined = g.initializer(name);
  if (!t) {
    const p = g.producer(name);
    if (p?.opType === 'Constant' && !p.domain) t = p.attribute.find((a) => a.name === 'value')?.t;
    if (!t && p?.opType === 'Constant') {
      const ints = p.attribute.find((a) => a.name === 'value_ints' || a.name === 'value_int');
      if (ints) return ints.ints && ints.ints.length > 0 ? ints.ints.map(Number) : [Number(ints.i ?? 0)];
      const f = p.attribute.find((a) => a.name === 'value_float');
      if (f) return [f.f ?? 0];
    }
  }
  if (!t) return undefined;
  const count = t.dims.reduce((a, b) => a * Number(b), 1);
  if (count > 16) return undefined;
  return Array.from(tensorToTypedArray(t, g.baseDir) as ArrayLike<number | bigint>, (x) => Number(x));
}

function scalarConstant(g: Graph, name: string): number | undefined {
  const v = constantValues(g, name);
  return v && v.length === 1 ? v[0] : undefined;
}

/**
 * torch's SDPA export multiplies q (and k^T) by Sqrt(Cast?(Div(1, Sqrt(Cast?(Slice(Shape(..)))))) = sqrt(1/sqrt(d)).
 * Returns the other input of the Mul when its factor has that form.
 */
function sdpaHalfScale(g: Graph, mul: NodeProto): { input: string } | undefined {
  for (const [x, f] of [[mul.input[0], mul.input[1]], [mul.input[1], mul.input[0]]] as const) {
    let p = g.producer(f ?? '');
    if (p?.opType !== 'Sqrt') continue;
    p = skipCasts(g, p.input[0]!);
    if (p?.opType !== 'Div' || scalarConstant(g, p.input[0]!) !== 1) continue;
    let s = skipCasts(g, p.input[1]!);
    if (s?.opType !== 'Sqrt') continue;
    s = skipCasts(g, s.input[0]!);
    if (s?.opType !== 'Slice' || g.producer(s.input[0]!)?.opType !== 'Shape') continue;
    return { input: x! };
  }
  return undefined;
}

function skipCasts(g: Graph, value: string): NodeProto | undefined {
  let p = g.producer(value);
  while (p?.opType === 'Cast') p = g.producer(p.input[0]!);
  return p;
}

/** The first node input that nothing defines (no producer, graph input or initializer), if any. */
function danglingInput(g: Graph): string | undefined {
  const defined = new Set<string>([...g.proto.input.map((v) => v.name ?? ''), ...g.proto.initializer.map((t) => t.name ?? '')]);
  for (const n of g.proto.node) for (const o of n.output) defined.add(o);
  for (const n of g.proto.node) for (const x of n.input) if (x && !defined.has(x)) return x;
  return undefined;
}
