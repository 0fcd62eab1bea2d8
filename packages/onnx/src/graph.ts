/**
 * A graph helper over a GraphProto: producers/consumers of each value, topological order, value types, initializer
 * lookup and editing. It edits the GraphProto in place (the proto stays the single source of truth) and rebuilds its
 * indexes lazily after each edit.
 */
import { SdqError, type TypedArray } from '@sdq/quant';
import type { GraphProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from './proto/types.js';
import { tensorToTypedArray } from './tensor.js';

/** Names a subgraph (If/Loop/Scan body) reads from the enclosing scope: used but not defined inside it. */
export function outerScopeInputs(g: GraphProto): Set<string> {
  const defined = new Set<string>();
  for (const v of g.input) if (v.name) defined.add(v.name);
  for (const t of g.initializer) if (t.name) defined.add(t.name);
  for (const s of g.sparseInitializer) if (s.values?.name) defined.add(s.values.name);
  for (const n of g.node) for (const o of n.output) if (o) defined.add(o);
  const used = new Set<string>();
  for (const n of g.node) {
    for (const i of n.input) if (i && !defined.has(i)) used.add(i);
    for (const i of subgraphInputs(n)) if (!defined.has(i)) used.add(i);
  }
  for (const o of g.output) if (o.name && !defined.has(o.name)) used.add(o.name);
  return used;
}

/** Outer-scope names read by a node's subgraph attributes (implicit inputs of If/Loop/Scan). */
export function subgraphInputs(n: NodeProto): string[] {
  const out = new Set<string>();
  for (const a of n.attribute) {
    if (a.g) for (const x of outerScopeInputs(a.g)) out.add(x);
    for (const sg of a.graphs) for (const x of outerScopeInputs(sg)) out.add(x);
  }
  return [...out];
}

/** All inputs a node depends on: its explicit inputs (non-empty) and its subgraphs' outer-scope reads. */
export function nodeDependencies(n: NodeProto): string[] {
  const deps = n.input.filter((i) => i !== '');
  if (n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0)) deps.push(...subgraphInputs(n));
  return deps;
}

export interface TopoResult {
  order: NodeProto[];
  /** Nodes on or behind a cycle (empty for a DAG). */
  cyclic: NodeProto[];
}

/** Kahn's algorithm over value edges; keeps the original order among ready nodes (stable). */
export function topologicalSort(nodes: readonly NodeProto[]): TopoResult {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output) if (o !== '' && !producer.has(o)) producer.set(o, i);
  });
  const indegree = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const seen = new Set<number>();
    for (const d of nodeDependencies(n)) {
      const p = producer.get(d);
      if (p === undefined || seen.has(p)) continue;
      seen.add(p);
      indegree[i]!++;
      dependents[p]!.push(i);
    }
  });
  // a binary heap keyed by original index keeps the result stable and O(n log n)
  const heap: number[] = [];
  const push = (x: number): void => {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= x) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = x;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  indegree.forEach((d, i) => {
    if (d === 0) push(i);
  });
  const order: NodeProto[] = [];
  const done = new Array<boolean>(nodes.length).fill(false);
  while (heap.length > 0) {
    const i = pop();
    done[i] = true;
    order.push(nodes[i]!);
    for (const j of dependents[i]!) if (--indegree[j]! === 0) push(j);
  }
  return { order, cyclic: nodes.filter((_, i) => !done[i]) };
}

export class Graph {
  readonly proto: GraphProto;
  private producers: Map<string, NodeProto> | undefined;
  private consumerMap: Map<string, NodeProto[]> | undefined;
  private initializers: Map<string, TensorProto> | undefined;
  private valueInfos: Map<string, ValueInfoProto> | undefined;

  /** `baseDir` is the model's folder, used to read external initializers on demand. */
  constructor(proto: GraphProto, readonly baseDir?: string) {
    this.proto = proto;
  }

  get nodes(): NodeProto[] {
    return this.proto.node;
  }

  /** Drops the indexes; called by every edit (call it yourself after editing `proto` directly). */
  invalidate(): void {
    this.producers = undefined;
    this.consumerMap = undefined;
    this.initializers = undefined;
    this.valueInfos = undefined;
  }

  private index(): void {
    const producers = new Map<string, NodeProto>();
    const consumers = new Map<string, NodeProto[]>();
    for (const n of this.proto.node) {
      for (const o of n.output) if (o !== '' && !producers.has(o)) producers.set(o, n);
      for (const i of new Set(nodeDependencies(n))) {
        const list = consumers.get(i);
        if (list) list.push(n);
        else consumers.set(i, [n]);
      }
    }
    this.producers = producers;
    this.consumerMap = consumers;
  }

  /** The node producing `value`, or undefined for graph inputs, initializers and unknown names. */
  producer(value: string): NodeProto | undefined {
    if (!this.producers) this.index();
    return this.producers!.get(value);
  }

  /** Nodes reading `value` (explicitly or from a subgraph), in graph order. */
  consumers(value: string): NodeProto[] {
    if (!this.consumerMap) this.index();
    return this.consumerMap!.get(value) ?? [];
  }

  initializer(name: string): TensorProto | undefined {
    if (!this.initializers) this.initializers = new Map(this.proto.initializer.map((t) => [t.name ?? '', t]));
    return this.initializers.get(name);
  }

  /** An initializer's data as a typed array (dtype table); reads external data from baseDir when needed. */
  initializerArray(name: string): TypedArray {
    const t = this.initializer(name);
    if (!t) throw new SdqError('NOT_FOUND', `graph '${this.proto.name ?? ''}' has no initializer '${name}'`);
    return tensorToTypedArray(t, this.baseDir);
  }

  /** The declared type of a value: graph input/output, value_info, or an initializer's type and dims. */
  valueType(name: string): TypeProto | undefined {
    if (!this.valueInfos) {
      const m = new Map<string, ValueInfoProto>();
      for (const list of [this.proto.valueInfo, this.proto.output, this.proto.input]) for (const v of list) if (v.name) m.set(v.name, v);
      this.valueInfos = m;
    }
    const vi = this.valueInfos.get(name);
    if (vi?.type) return vi.type;
    const t = this.initializer(name);
    if (t) return { tensorType: { elemType: t.dataType, shape: { dim: t.dims.map((d) => ({ dimValue: d })) } } };
    return undefined;
  }

  /** Nodes in a topological order; throws SdqError if the graph has a cycle. */
  topologicalOrder(): NodeProto[] {
    const { order, cyclic } = topologicalSort(this.proto.node);
    if (cyclic.length > 0) {
      throw new SdqError('BAD_FORMAT', `graph '${this.proto.name ?? ''}' has a cycle through ${cyclic.slice(0, 5).map((n) => `'${n.name ?? n.opType}'`).join(', ')}${cyclic.length > 5 ? ` and ${cyclic.length - 5} more nodes` : ''}`);
    }
    return order;
  }

  /** Reorders proto.node topologically (in place). */
  sortTopologically(): void {
    const order = this.topologicalOrder();
    this.proto.node.splice(0, this.proto.node.length, ...order);
    this.invalidate();
  }

  /** Every value name in the graph (inputs, outputs, initializers, node outputs, value_info). */
  valueNames(): Set<string> {
    const s = new Set<string>();
    const add = (x: string | undefined): void => {
      if (x) s.add(x);
    };
    for (const v of this.proto.input) add(v.name);
    for (const v of this.proto.output) add(v.name);
    for (const v of this.proto.valueInfo) add(v.name);
    for (const t of this.proto.initializer) add(t.name);
    for (const n of this.proto.node) {
      n.output.forEach(add);
      n.input.forEach(add);
    }
    return s;
  }

  /** A name not used by any value or node: `prefix`, else `prefix_1`, `prefix_2`, ... */
  uniqueName(prefix: string, taken: Set<string> = new Set([...this.valueNames(), ...this.proto.node.map((n) => n.name ?? '')])): string {
    if (!taken.has(prefix)) return prefix;
    for (let i = 1; ; i++) if (!taken.has(`${prefix}_${i}`)) return `${prefix}_${i}`;
  }

  /** Inserts a node (at `index`, default: the end). */
  addNode(node: NodeProto, index?: number): NodeProto {
    if (index === undefined) this.proto.node.push(node);
    else this.proto.node.splice(index, 0, node);
    this.invalidate();
    return node;
  }

  /** Removes a node; its outputs become dangling unless renamed/rewired by the caller. */
  removeNode(node: NodeProto): void {
    const i = this.proto.node.indexOf(node);
    if (i < 0) throw new SdqError('NOT_FOUND', `node '${node.name ?? node.opType}' is not in graph '${this.proto.name ?? ''}'`);
    this.proto.node.splice(i, 1);
    this.invalidate();
  }

  /** Removes `node` and makes its consumers read `replacement` for `node`'s output `output` (default: its first). */
  bypassNode(node: NodeProto, replacement: string, output = node.output[0] ?? ''): void {
    this.removeNode(node);
    this.replaceUses(output, replacement);
  }

  /** Points every reader of `from` (node inputs, graph outputs) at `to`. */
  replaceUses(from: string, to: string): void {
    for (const n of this.proto.node) for (let i = 0; i < n.input.length; i++) if (n.input[i] === from) n.input[i] = to;
    for (const o of this.proto.output) if (o.name === from) o.name = to;
    this.invalidate();
  }

  /** Renames a value everywhere in this graph (producer outputs, inputs, graph IO, value_info, initializers). */
  renameValue(from: string, to: string): void {
    if (from === to) return;
    if (this.valueNames().has(to)) throw new SdqError('INVALID_ARGUMENT', `cannot rename '${from}' to '${to}': graph '${this.proto.name ?? ''}' already has a value named '${to}'`);
    for (const n of this.proto.node) {
      for (let i = 0; i < n.input.length; i++) if (n.input[i] === from) n.input[i] = to;
      for (let i = 0; i < n.output.length; i++) if (n.output[i] === from) n.output[i] = to;
    }
    for (const list of [this.proto.input, this.proto.output, this.proto.valueInfo]) for (const v of list) if (v.name === from) v.name = to;
    for (const t of this.proto.initializer) if (t.name === from) t.name = to;
    for (const a of this.proto.quantizationAnnotation) if (a.tensorName === from) a.tensorName = to;
    this.invalidate();
  }

  addInitializer(tensor: TensorProto): void {
    if (!tensor.name) throw new SdqError('INVALID_ARGUMENT', 'an initializer needs a name');
    if (this.initializer(tensor.name)) throw new SdqError('INVALID_ARGUMENT', `graph '${this.proto.name ?? ''}' already has an initializer '${tensor.name}'`);
    this.proto.initializer.push(tensor);
    this.invalidate();
  }

  removeInitializer(name: string): TensorProto {
    const i = this.proto.initializer.findIndex((t) => t.name === name);
    if (i < 0) throw new SdqError('NOT_FOUND', `graph '${this.proto.name ?? ''}' has no initializer '${name}'`);
    const [t] = this.proto.initializer.splice(i, 1);
    this.proto.input = this.proto.input.filter((v) => v.name !== name);
    this.invalidate();
    return t!;
  }

  /** Removes nodes whose outputs nobody reads (transitively) and initializers nothing uses; returns counts. */
  removeUnused(): { nodes: number; initializers: number } {
    const graphOutputs = new Set(this.proto.output.map((o) => o.name ?? ''));
    let removedNodes = 0;
    for (;;) {
      this.index();
      const dead = this.proto.node.filter((n) => n.output.every((o) => o === '' || (!graphOutputs.has(o) && this.consumers(o).length === 0)));
      if (dead.length === 0) break;
      const deadSet = new Set(dead);
      this.proto.node = this.proto.node.filter((n) => !deadSet.has(n));
      removedNodes += dead.length;
      this.invalidate();
    }
    this.index();
    const before = this.proto.initializer.length;
    const unused = new Set(this.proto.initializer.filter((t) => this.consumers(t.name ?? '').length === 0 && !graphOutputs.has(t.name ?? '')).map((t) => t.name));
    this.proto.initializer = this.proto.initializer.filter((t) => !unused.has(t.name));
    this.proto.input = this.proto.input.filter((v) => !unused.has(v.name));
    this.invalidate();
    return { nodes: removedNodes, initializers: before - this.proto.initializer.length };
  }
}
