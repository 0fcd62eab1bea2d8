/** Structural checks of a model (not operator semantics): what makes a graph unloadable or ambiguous. */
import type { GraphProto, ModelProto, NodeProto } from './proto/types.js';
import { topologicalSort } from './graph.js';

export type FindingCode =
  | 'NO_GRAPH'
  | 'NO_IR_VERSION'
  | 'NO_OPSET'
  | 'DUPLICATE_OPSET'
  | 'UNKNOWN_DOMAIN'
  | 'EMPTY_OP_TYPE'
  | 'DANGLING_INPUT'
  | 'MISSING_OUTPUT'
  | 'DUPLICATE_VALUE'
  | 'DUPLICATE_INITIALIZER'
  | 'DUPLICATE_NODE_NAME'
  | 'CYCLE'
  | 'UNNAMED_VALUE';

export interface Finding {
  severity: 'error' | 'warning';
  code: FindingCode;
  message: string;
  /** Path of the graph: 'main', or 'main/<node>.<attribute>' for subgraphs, 'function <name>'. */
  graph: string;
  node?: string;
  value?: string;
}

const normDomain = (d: string | undefined): string => (d === undefined || d === 'ai.onnx' ? '' : d);
const nodeLabel = (n: NodeProto, i: number): string => n.name || `#${i} ${n.opType ?? '?'}`;

function checkNodes(
  nodes: readonly NodeProto[],
  where: string,
  available: Set<string>,
  domains: Set<string>,
  out: Finding[],
  recurse: (g: GraphProto, path: string, outer: Set<string>) => void,
): Set<string> {
  const produced = new Set<string>();
  const nodeNames = new Map<string, number>();
  nodes.forEach((n) => {
    for (const o of n.output) if (o !== '') produced.add(o);
    if (n.name) nodeNames.set(n.name, (nodeNames.get(n.name) ?? 0) + 1);
  });
  for (const [name, count] of nodeNames) {
    if (count > 1) out.push({ severity: 'warning', code: 'DUPLICATE_NODE_NAME', message: `${count} nodes are named '${name}'`, graph: where, node: name });
  }
  const producedOnce = new Set<string>();
  nodes.forEach((n, i) => {
    const label = nodeLabel(n, i);
    if (!n.opType) out.push({ severity: 'error', code: 'EMPTY_OP_TYPE', message: `node ${label} has no op_type`, graph: where, node: label });
    const domain = normDomain(n.domain);
    if (!domains.has(domain)) {
      out.push({ severity: 'error', code: 'UNKNOWN_DOMAIN', message: `node ${label} (${n.opType}) uses domain '${domain || 'ai.onnx'}', which the model does not import in opset_import`, graph: where, node: label });
    }
    for (const input of n.input) {
      if (input === '' || available.has(input) || produced.has(input)) continue;
      out.push({ severity: 'error', code: 'DANGLING_INPUT', message: `node ${label} reads '${input}', which no node, graph input or initializer provides`, graph: where, node: label, value: input });
    }
    for (const o of n.output) {
      if (o === '') continue;
      if (producedOnce.has(o) || available.has(o)) {
        out.push({ severity: 'error', code: 'DUPLICATE_VALUE', message: `value '${o}' is defined more than once (node ${label} writes it again)`, graph: where, node: label, value: o });
      }
      producedOnce.add(o);
    }
    for (const a of n.attribute) {
      if (a.g === undefined && a.graphs.length === 0) continue;
      const scope = new Set([...available, ...produced]);
      if (a.g) recurse(a.g, `${where}/${label}.${a.name ?? '?'}`, scope);
      a.graphs.forEach((g, k) => recurse(g, `${where}/${label}.${a.name ?? '?'}[${k}]`, scope));
    }
  });
  const { cyclic } = topologicalSort(nodes);
  if (cyclic.length > 0) {
    out.push({ severity: 'error', code: 'CYCLE', message: `${cyclic.length} nodes form or depend on a cycle, e.g. ${cyclic.slice(0, 3).map((n) => `'${n.name || n.opType}'`).join(', ')}`, graph: where, node: cyclic[0]!.name });
  }
  return produced;
}

function checkGraph(g: GraphProto, where: string, outer: Set<string>, domains: Set<string>, out: Finding[]): void {
  const available = new Set(outer);
  const inits = new Set<string>();
  for (const t of g.initializer) {
    const name = t.name ?? '';
    if (!name) out.push({ severity: 'error', code: 'UNNAMED_VALUE', message: 'an initializer has no name', graph: where });
    else if (inits.has(name)) out.push({ severity: 'error', code: 'DUPLICATE_INITIALIZER', message: `initializer '${name}' appears more than once`, graph: where, value: name });
    inits.add(name);
    available.add(name);
  }
  for (const s of g.sparseInitializer) if (s.values?.name) available.add(s.values.name);
  const inputs = new Set<string>();
  for (const v of g.input) {
    const name = v.name ?? '';
    if (!name) out.push({ severity: 'error', code: 'UNNAMED_VALUE', message: 'a graph input has no name', graph: where });
    else if (inputs.has(name)) out.push({ severity: 'error', code: 'DUPLICATE_VALUE', message: `graph input '${name}' is listed twice`, graph: where, value: name });
    inputs.add(name);
    available.add(name);
  }
  const recurse = (sg: GraphProto, path: string, scope: Set<string>): void => checkGraph(sg, path, scope, domains, out);
  const produced = checkNodes(g.node, where, available, domains, out, recurse);
  for (const o of g.output) {
    const name = o.name ?? '';
    if (!name) out.push({ severity: 'error', code: 'UNNAMED_VALUE', message: 'a graph output has no name', graph: where });
    else if (!produced.has(name) && !available.has(name)) {
      out.push({ severity: 'error', code: 'MISSING_OUTPUT', message: `graph output '${name}' is not produced by any node, input or initializer`, graph: where, value: name });
    }
  }
}

/** Structural findings (errors and warnings) for a model; an empty list means none were found. */
export function validateModel(model: ModelProto): Finding[] {
  const out: Finding[] = [];
  if (model.irVersion === undefined) out.push({ severity: 'error', code: 'NO_IR_VERSION', message: 'model has no ir_version', graph: 'main' });
  const domains = new Set<string>();
  for (const o of model.opsetImport) {
    const d = normDomain(o.domain);
    if (domains.has(d)) out.push({ severity: 'error', code: 'DUPLICATE_OPSET', message: `opset_import lists domain '${d || 'ai.onnx'}' twice`, graph: 'main' });
    domains.add(d);
  }
  if (!domains.has('')) out.push({ severity: 'error', code: 'NO_OPSET', message: 'opset_import has no entry for the default ONNX domain', graph: 'main' });
  if (!model.graph) {
    out.push({ severity: 'error', code: 'NO_GRAPH', message: 'model has no graph', graph: 'main' });
  } else {
    checkGraph(model.graph, 'main', new Set(), domains, out);
  }
  for (const f of model.functions) {
    const where = `function ${f.domain ? `${f.domain}.` : ''}${f.name ?? '?'}`;
    const fdomains = new Set(f.opsetImport.map((o) => normDomain(o.domain)));
    const available = new Set(f.input.filter((x) => x !== ''));
    const recurse = (sg: GraphProto, path: string, scope: Set<string>): void => checkGraph(sg, path, scope, fdomains, out);
    const produced = checkNodes(f.node, where, available, fdomains, out, recurse);
    for (const o of f.output) {
      if (o && !produced.has(o) && !available.has(o)) out.push({ severity: 'error', code: 'MISSING_OUTPUT', message: `function output '${o}' is not produced`, graph: where, value: o });
    }
  }
  return out;
}
