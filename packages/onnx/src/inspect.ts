/** A plain-JSON summary of a model (what `sdq inspect` prints) and its text form. */
import { dirname } from 'node:path';
import { DTYPES, DataType } from '@sdq/quant';
import type { ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from './proto/types.js';
import { forEachTensor, resolveExternalData } from './external.js';
import { readModel } from './io.js';
import { readModelDir } from './modeldir.js';
import { isExternalTensor, tensorByteLength, tensorElementCount } from './tensor.js';

export interface ValueReport {
  name: string;
  /** 'float32', 'int64', ... for tensors; 'seq(float32)', 'map(int64,float32)', 'optional(...)' otherwise. */
  type: string;
  /** Dims: a number, a symbolic name, or null for an unknown dim; null when the rank is unknown. */
  shape: (number | string | null)[] | null;
}

export interface TypeTotals {
  count: number;
  bytes: number;
  elements: number;
}

export interface InspectReport {
  irVersion: number | null;
  opsets: { domain: string; version: number }[];
  producer: { name: string; version: string };
  domain: string;
  modelVersion: number | null;
  docString: string;
  graphName: string;
  inputs: ValueReport[];
  outputs: ValueReport[];
  initializers: { count: number; bytes: number; elements: number; byType: Record<string, TypeTotals> };
  nodes: number;
  /** Op type (prefixed with its domain when not the default one) -> count, most frequent first. */
  ops: Record<string, number>;
  externalData: { location: string; tensors: number; bytes: number }[];
  metadata: Record<string, string>;
  functions: string[];
  /** Subgraphs in node attributes (If/Loop/Scan bodies). */
  subgraphs: number;
}

const dtypeName = (t: number | undefined): string => {
  if (t === undefined) return 'undefined';
  return DTYPES.find((d) => d.type === t)?.name ?? `type${t}`;
};

function typeString(tp: TypeProto | undefined): string {
  if (!tp) return 'unknown';
  if (tp.tensorType) return dtypeName(tp.tensorType.elemType);
  if (tp.sparseTensorType) return `sparse(${dtypeName(tp.sparseTensorType.elemType)})`;
  if (tp.sequenceType) return `seq(${typeString(tp.sequenceType.elemType)})`;
  if (tp.mapType) return `map(${dtypeName(tp.mapType.keyType)},${typeString(tp.mapType.valueType)})`;
  if (tp.optionalType) return `optional(${typeString(tp.optionalType.elemType)})`;
  if (tp.opaqueType) return `opaque(${tp.opaqueType.domain ?? ''}.${tp.opaqueType.name ?? ''})`;
  return 'unknown';
}

function shapeOf(tp: TypeProto | undefined): (number | string | null)[] | null {
  const shape = tp?.tensorType?.shape ?? tp?.sparseTensorType?.shape;
  if (!shape) return null;
  return shape.dim.map((d) => d.dimValue ?? d.dimParam ?? null);
}

export function valueReport(v: ValueInfoProto): ValueReport {
  return { name: v.name ?? '', type: typeString(v.type), shape: shapeOf(v.type) };
}

export interface InspectOptions {
  /** The model's folder, to report external data file names as found there (not required). */
  baseDir?: string;
}

/** Summarizes a model without reading any tensor data. */
export function inspectModel(model: ModelProto, options: InspectOptions = {}): InspectReport {
  const g = model.graph;
  const initNames = new Set((g?.initializer ?? []).map((t) => t.name));
  const byType: Record<string, TypeTotals> = {};
  let count = 0;
  let bytes = 0;
  let elements = 0;
  const external = new Map<string, { tensors: number; bytes: number }>();
  const countTensor = (t: TensorProto): void => {
    const n = tensorElementCount(t);
    const b = t.dataType === DataType.STRING ? t.stringData.reduce((s, x) => s + x.byteLength, 0) : safeByteLength(t);
    const key = dtypeName(t.dataType);
    const row = (byType[key] ??= { count: 0, bytes: 0, elements: 0 });
    row.count++;
    row.bytes += b;
    row.elements += n;
    count++;
    bytes += b;
    elements += n;
  };
  forEachTensor(model, (t, isInitializer) => {
    if (isInitializer) countTensor(t);
    if (isExternalTensor(t)) {
      const loc = t.externalData.find((e) => e.key === 'location')?.value ?? '?';
      const key = options.baseDir !== undefined ? safeLocation(t, options.baseDir, loc) : loc;
      const row = external.get(key) ?? { tensors: 0, bytes: 0 };
      row.tensors++;
      row.bytes += safeByteLength(t);
      external.set(key, row);
    }
  });
  const ops = new Map<string, number>();
  let nodes = 0;
  let subgraphs = 0;
  const visit = (nodeList: readonly NodeProto[]): void => {
    for (const n of nodeList) {
      nodes++;
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType ?? '?'}` : (n.opType ?? '?');
      ops.set(key, (ops.get(key) ?? 0) + 1);
      for (const a of n.attribute) {
        if (a.g) {
          subgraphs++;
          visit(a.g.node);
        }
        for (const sg of a.graphs) {
          subgraphs++;
          visit(sg.node);
        }
      }
    }
  };
  if (g) visit(g.node);
  const sortedOps = Object.fromEntries([...ops.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return {
    irVersion: model.irVersion ?? null,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    producer: { name: model.producerName ?? '', version: model.producerVersion ?? '' },
    domain: model.domain ?? '',
    modelVersion: model.modelVersion ?? null,
    docString: model.docString ?? '',
    graphName: g?.name ?? '',
    inputs: (g?.input ?? []).filter((v) => !initNames.has(v.name)).map(valueReport),
    outputs: (g?.output ?? []).map(valueReport),
    initializers: { count, bytes, elements, byType },
    nodes,
    ops: sortedOps,
    externalData: [...external.entries()].map(([location, r]) => ({ location, ...r })),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
    functions: model.functions.map((f) => `${f.domain ? `${f.domain}.` : ''}${f.name ?? '?'}`),
    subgraphs,
  };
}

function safeByteLength(t: TensorProto): number {
  try {
    return tensorByteLength(t);
  } catch {
    return t.rawData?.byteLength ?? 0;
  }
}

function safeLocation(t: TensorProto, baseDir: string, fallback: string): string {
  try {
    return resolveExternalData(t, baseDir).location;
  } catch {
    return `${fallback} (invalid)`;
  }
}

const fmtBytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
};

const fmtShape = (s: ValueReport['shape']): string => (s === null ? '?' : `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`);

/** The report as aligned text lines (what `sdq inspect` prints without --json). */
export function formatInspectReport(r: InspectReport, title?: string): string {
  const out: string[] = [];
  if (title) out.push(title);
  out.push(`ir_version  ${r.irVersion ?? '-'}`);
  out.push(`opsets      ${r.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ') || '-'}`);
  out.push(`producer    ${[r.producer.name, r.producer.version].filter(Boolean).join(' ') || '-'}`);
  if (r.graphName) out.push(`graph       ${r.graphName}`);
  const values = (label: string, vs: ValueReport[]): void => {
    out.push(`${label} (${vs.length})`);
    const w = Math.max(0, ...vs.map((v) => v.name.length));
    for (const v of vs) out.push(`  ${v.name.padEnd(w)}  ${v.type.padEnd(8)} ${fmtShape(v.shape)}`);
  };
  values('inputs', r.inputs);
  values('outputs', r.outputs);
  out.push(`initializers ${r.initializers.count}, ${r.initializers.elements.toLocaleString('en-US')} elements, ${fmtBytes(r.initializers.bytes)}`);
  for (const [t, row] of Object.entries(r.initializers.byType).sort((a, b) => b[1].bytes - a[1].bytes)) {
    out.push(`  ${t.padEnd(10)} ${String(row.count).padStart(6)} tensors  ${fmtBytes(row.bytes).padStart(10)}`);
  }
  out.push(`nodes ${r.nodes}${r.subgraphs ? ` (incl. ${r.subgraphs} subgraphs)` : ''}`);
  const opEntries = Object.entries(r.ops);
  const ow = Math.max(0, ...opEntries.map(([k]) => k.length));
  for (const [op, n] of opEntries) out.push(`  ${op.padEnd(ow)} ${String(n).padStart(6)}`);
  if (r.externalData.length) {
    out.push(`external data`);
    for (const e of r.externalData) out.push(`  ${e.location}  ${e.tensors} tensors, ${fmtBytes(e.bytes)}`);
  }
  const meta = Object.entries(r.metadata);
  if (meta.length) {
    out.push('metadata');
    for (const [k, v] of meta) out.push(`  ${k}: ${v}`);
  }
  if (r.functions.length) out.push(`functions ${r.functions.join(', ')}`);
  return out.join('\n');
}

export interface ModelDirReport {
  dir: string;
  /** model_index.json `_class_name`, if any. */
  pipeline: string | null;
  components: Record<string, InspectReport & { path: string }>;
  otherFolders: string[];
}

/** Inspects every component of a model folder (tensor data is not read). */
export async function inspectModelDir(dir: string): Promise<ModelDirReport> {
  const md = await readModelDir(dir);
  const components: ModelDirReport['components'] = {};
  for (const c of Object.values(md.components)) {
    const model = await c.load({ externalData: 'lazy' });
    components[c.name] = { path: c.path, ...inspectModel(model, { baseDir: c.dir }) };
  }
  const cls = md.index?._class_name;
  return { dir, pipeline: typeof cls === 'string' ? cls : null, components, otherFolders: md.otherFolders };
}

export function formatModelDirReport(r: ModelDirReport): string {
  const parts = [`model dir ${r.dir}${r.pipeline ? ` (${r.pipeline})` : ''}`];
  for (const [name, rep] of Object.entries(r.components)) parts.push(formatInspectReport(rep, `== ${name} (${rep.path})`));
  if (r.otherFolders.length) parts.push(`other folders: ${r.otherFolders.join(', ')}`);
  return parts.join('\n\n');
}

/** Reads (lazily, without tensor data) and inspects one .onnx file. */
export async function inspectModelFile(path: string): Promise<InspectReport> {
  const model = await readModel(path, { externalData: 'lazy' });
  return inspectModel(model, { baseDir: dirname(path) });
}
