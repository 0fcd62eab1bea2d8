import type * as ort from 'onnxruntime-node';
import { DataType, MinMaxCollector, SdqError, dtypeInfo } from '@sdq/quant';
import { dirname, resolve } from 'node:path';
import { addGraphOutputs, encodeModel, qdqTensorsFor } from '@sdq/onnx';
import type { ModelProto, NodeProto, QdqPolicy } from '@sdq/onnx';
import type { CalibrationDataReader } from './reader.js';
import type { CalibTensor, Feeds } from './tensor.js';
import { loadModelForRuntime } from './model-io.js';
import type { LoadedModel } from './model-io.js';
import { createHistogramPlan } from './histogram.js';
import type { GlobalStats, HistogramPlan } from './histogram.js';
import { loadOrt } from './runtime.js';
import type { OrtModule } from './runtime.js';
import type { HistogramMethodOptions } from './histogram.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

/** A tensor's calibrated range [min, max]. */
export type Range = readonly [number, number];

export interface CollectRangesOptions extends HistogramMethodOptions {
  /** Range selection method (default 'minmax'). */
  readonly method?: CalibrationMethod;
  /** MinMax/percentile: make each range symmetric around 0 (onnxruntime's `symmetric` extra option). */
  readonly symmetric?: boolean;
  /**
   * Which tensors to calibrate: the inputs and outputs of nodes of these op types (onnxruntime's
   * op_types_to_calibrate). Default: every float tensor of the graph, as onnxruntime does.
   */
  readonly opTypes?: readonly string[];
  /** Calibrate exactly these tensors (overrides policy and opTypes). */
  readonly tensors?: readonly string[];
  /**
   * Calibrate exactly the tensors @sdq/onnx's insertQdq reads under this QDQ policy (`qdqTensorsFor`: inputs of the
   * nodes it quantizes, plus their outputs when the policy quantizes outputs); overrides opTypes. Never exposes
   * tensors the policy does not quantize (e.g. attention scores), which on large latents do not fit in memory.
   */
  readonly policy?: QdqPolicy;
  /** onnxruntime intra-op threads (default 2). */
  readonly threads?: number;
  /**
   * Histogram methods: at most this many tensors are exposed as outputs in one pass over the data (default 256);
   * more tensors mean more passes. Bounds memory to one run's outputs of that many tensors.
   */
  readonly maxTensorsPerRun?: number;
  /**
   * Histogram methods: at most this many bytes of exposed tensors per run (default 512 MiB; sizes from the first
   * pass, largest batch). A tensor larger than this is exposed alone.
   */
  readonly maxBytesPerRun?: number;
  /** Called after every batch with the number of batches done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The content of ranges.json: per-tensor ranges and how they were computed. */
export interface RangesFile {
  readonly format: 'sdq-ranges';
  readonly version: 1;
  readonly model: string;
  readonly method: CalibrationMethod;
  readonly options: Record<string, number | boolean | string>;
  readonly batches: number;
  readonly ranges: Record<string, Range>;
}

const FLOAT_TYPES = new Set(['float32', 'float16']);
const DEFAULT_MAX_TENSORS_PER_RUN = 256;
const DEFAULT_MAX_BYTES_PER_RUN = 512 * 2 ** 20;

/** onnxruntime tensor from a calibration tensor. */
export function toOrtTensor(rt: OrtModule, t: CalibTensor): ort.Tensor {
  const name = dtypeInfo(t.type).name as ort.Tensor.Type;
  return new rt.Tensor(name, t.data as ort.Tensor.DataType, [...t.dims]);
}

export function toOrtFeeds(rt: OrtModule, feeds: Feeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) out[k] = toOrtTensor(rt, v);
  return out;
}

/** Session options shared by calibration runs: no graph optimization, so values are those of the graph as written. */
// The modified graph is handed over as bytes; onnxruntime reads its external weights from the original model's folder
// (session config model_external_initializers_file_folder_path): no copy of the weights in memory, no temp files.
function sessionOptions(loaded: LoadedModel, threads: number): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { model_external_initializers_file_folder_path: dirname(resolve(loaded.path)) } },
  };
}

export async function createSession(loaded: LoadedModel, model: ModelProto, threads: number): Promise<ort.InferenceSession> {
  const rt = await loadOrt();
  try {
    return await rt.InferenceSession.create(encodeModel(model), sessionOptions(loaded, threads));
  } catch (e) {
    throw new SdqError('RUNTIME_ERROR', `${loaded.path}: onnxruntime could not load the calibration graph: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The tensors onnxruntime's calibrators pick: inputs and outputs of the chosen nodes that are not initializers and
 * whose element type is float32 or float16. Types come from onnxruntime itself (every candidate is exposed once as
 * a graph output and the session's output metadata is read), so no separate shape inference is needed.
 */
export async function selectFloatTensors(
  loaded: LoadedModel,
  options: { opTypes?: readonly string[]; candidates?: readonly string[]; threads?: number } = {},
): Promise<{ name: string; type: string }[]> {
  const graph = loaded.model.graph;
  if (!graph) throw new SdqError('BAD_FORMAT', `${loaded.path}: model has no graph`);
  const inits = new Set(graph.initializer.map((t) => t.name));
  const ops = options.opTypes ? new Set(options.opTypes) : undefined;
  const candidates: string[] = [];
  const seen = new Set<string>();
  const consider = (t: string): void => {
    if (t && !inits.has(t) && !seen.has(t)) {
      seen.add(t);
      candidates.push(t);
    }
  };
  if (options.candidates) options.candidates.forEach(consider);
  else {
    for (const node of graph.node) {
      if (ops && !ops.has(node.opType ?? '')) continue;
      for (const t of [...node.input, ...node.output]) consider(t);
    }
  }
  const inputTypes = new Map<string, string>();
  const graphInputs = new Set(graph.input.map((i) => i.name));
  const probe = addGraphOutputs(loaded.model, candidates.filter((t) => !graphInputs.has(t)));
  const session = await createSession(loaded, probe, options.threads ?? 1);
  try {
    for (const m of [...session.inputMetadata, ...session.outputMetadata]) if (m.isTensor) inputTypes.set(m.name, m.type);
  } finally {
    await session.release();
  }
  return candidates.filter((t) => FLOAT_TYPES.has(inputTypes.get(t) ?? '')).map((name) => ({ name, type: inputTypes.get(name) ?? '' }));
}

interface ReductionOutputs {
  readonly min: string;
  readonly max: string;
  /** Element count (onnxruntime Size), so histogram passes can group tensors by bytes. */
  readonly size: string;
  /** min |x|, present when asked for (the |x| histogram of symmetric percentile starts there). */
  readonly absMin?: string;
}

/**
 * Add ReduceMin/ReduceMax nodes (keepdims=1, over all axes) for each tensor and expose their results, so a run
 * returns a few numbers per tensor instead of the tensor (onnxruntime's MinMaxCalibrater does the same).
 */
function addReductions(
  source: ModelProto,
  tensors: readonly { name: string; type: string }[],
  withAbsMin: boolean,
): { model: ModelProto; outputs: Map<string, ReductionOutputs> } {
  const graph = source.graph;
  if (!graph) throw new SdqError('BAD_FORMAT', 'model has no graph');
  const outputs = new Map<string, ReductionOutputs>();
  const reductionsOf = new Map<string, NodeProto[]>();
  const attr = (name: string, i: number) => ({ name, type: 2, i, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] });
  const node = (opType: string, input: string[], output: string, attribute = [attr('keepdims', 1)]): NodeProto => ({
    opType, input, output: [output], name: output, attribute, metadataProps: [], deviceConfigurations: [],
  });
  tensors.forEach(({ name, type }, i) => {
    const added: NodeProto[] = [];
    reductionsOf.set(name, added);
    let x = name;
    if (type === 'float16') {
      x = `sdq_calib/${i}/cast`;
      added.push(node('Cast', [name], x, [attr('to', DataType.FLOAT)]));
    }
    const o: ReductionOutputs = {
      min: `sdq_calib/${i}/min`, max: `sdq_calib/${i}/max`, size: `sdq_calib/${i}/size`, absMin: withAbsMin ? `sdq_calib/${i}/absmin` : undefined,
    };
    added.push(node('ReduceMin', [x], o.min), node('ReduceMax', [x], o.max), node('Size', [name], o.size, []));
    if (o.absMin) added.push(node('Abs', [x], `sdq_calib/${i}/abs`, []), node('ReduceMin', [`sdq_calib/${i}/abs`], o.absMin));
    outputs.set(name, o);
  });
  // onnxruntime orders nodes by a reverse DFS from the graph's leaves, the last leaf first. Reductions are leaves; added
  // after the graph's nodes with the earliest tensor's last, each runs right after its tensor is made, instead of all
  // after the model's output (which keeps every calibrated tensor alive to the end of the run).
  const groups: NodeProto[][] = graph.input.map((i) => reductionsOf.get(i.name ?? '') ?? []);
  for (const n of graph.node) for (const o of n.output) groups.push(reductionsOf.get(o) ?? []);
  const nodes = [...graph.node, ...groups.reverse().flat()];
  const names = [...outputs.values()].flatMap((o) => [o.min, o.max, o.size, ...(o.absMin ? [o.absMin] : [])]);
  const model = addGraphOutputs({ ...source, graph: { ...graph, node: nodes } }, names);
  return { model, outputs };
}

function readScalar(t: ort.Tensor | undefined, name: string): number {
  if (!t || t.data.length !== 1) throw new SdqError('RUNTIME_ERROR', `calibration output for '${name}' is missing or not a single value`);
  return Number(t.data[0]);
}

/** A session that returns the in-graph reductions of the calibrated tensors (addReductions). */
interface Reduction {
  readonly session: ort.InferenceSession;
  readonly outputs: Map<string, ReductionOutputs>;
  readonly fetches: string[];
}

async function createReduction(loaded: LoadedModel, tensors: readonly { name: string; type: string }[], withAbsMin: boolean, threads: number): Promise<Reduction> {
  const { model, outputs } = addReductions(loaded.model, tensors, withAbsMin);
  const fetches = [...outputs.values()].flatMap((o) => [o.min, o.max, o.size, ...(o.absMin ? [o.absMin] : [])]);
  return { session: await createSession(loaded, model, threads), outputs, fetches };
}

/**
 * One pass with in-graph reductions: per-run min/max merged across runs by @sdq/quant's MinMaxCollector
 * (onnxruntime MinMaxCalibrater semantics), plus the global min, max and min |x| for the histogram pass.
 */
async function reduceOverData(
  loaded: LoadedModel,
  tensors: readonly { name: string; type: string }[],
  reader: CalibrationDataReader,
  reduction: Reduction,
  options: CollectRangesOptions,
): Promise<ExtremaPass> {
  const { session, outputs, fetches } = reduction;
  const elements = new Map<string, number>();
  const collectors = new Map(tensors.map((t) => [t.name, new MinMaxCollector({ symmetric: options.symmetric })]));
  const stats = new Map<string, GlobalStats>();
  const rt = await loadOrt();
  let batches = 0;
  for await (const feeds of reader) {
    const result = await session.run(toOrtFeeds(rt, feeds), fetches);
    for (const [name, o] of outputs) {
      const lo = readScalar(result[o.min], name);
      const hi = readScalar(result[o.max], name);
      collectors.get(name)?.collect([Float32Array.of(lo), Float32Array.of(hi)]);
      const absMin = o.absMin ? readScalar(result[o.absMin], name) : 0;
      elements.set(name, Math.max(elements.get(name) ?? 0, readScalar(result[o.size], name)));
      const s = stats.get(name);
      stats.set(name, s ? { min: Math.min(s.min, lo), max: Math.max(s.max, hi), absMin: Math.min(s.absMin, absMin) } : { min: lo, max: hi, absMin });
    }
    for (const t of Object.values(result)) t.dispose();
    batches++;
    options.onProgress?.(batches, reader.length);
  }
  if (batches === 0) throw new SdqError('EMPTY_INPUT', `${loaded.path}: the calibration reader yielded no data`);
  return {
    batches,
    tensors: tensors.map(({ name, type }) => {
      const s = stats.get(name) ?? { min: 0, max: 0, absMin: 0 };
      const range = collectors.get(name)?.computeRange() ?? [s.min, s.max];
      return { name, type, range: [range[0], range[1]], min: s.min, max: s.max, absMin: s.absMin, elements: elements.get(name) ?? 0 };
    }),
  };
}

/**
 * Pass 1 of one tensor over some batches. Every field merges exactly across any split of the data (min of mins,
 * max of maxes), which is what lets shards computed anywhere add up to the single-process ranges.
 */
export interface TensorExtrema {
  readonly name: string;
  /** onnxruntime element type (float32, float16). */
  readonly type: string;
  /** The MinMax method's range over these batches (MinMaxCollector, plain or symmetric). */
  readonly range: Range;
  readonly min: number;
  readonly max: number;
  /** min |x| (0 unless the method's histogram is of |x|). */
  readonly absMin: number;
  /** Largest element count of one batch: sizes the histogram pass's tensor groups. */
  readonly elements: number;
}

/** Pass 1 over (a shard of) the calibration data. */
export interface ExtremaPass {
  readonly batches: number;
  readonly tensors: readonly TensorExtrema[];
}

/** Pass 2 over (a shard of) the data: fixed-range histogram counts per tensor (integers in float64). */
export interface HistogramPass {
  readonly batches: number;
  readonly counts: ReadonlyMap<string, Float64Array>;
}

/** Extrema of disjoint shards of the data merged: the extrema of their union (onnxruntime MinMaxCalibrater merge_range). */
export function mergeExtrema(parts: readonly ExtremaPass[]): ExtremaPass {
  if (parts.length === 0) throw new SdqError('EMPTY_INPUT', 'no calibration shards to merge');
  const [first, ...rest] = parts;
  const tensors = first.tensors.map((t) => ({ ...t, range: [t.range[0], t.range[1]] as Range }));
  for (const part of rest) {
    if (part.tensors.length !== tensors.length || part.tensors.some((t, i) => t.name !== tensors[i].name)) {
      throw new SdqError('SHAPE_MISMATCH', 'calibration shards calibrated different tensors (another model or policy); recalibrate all shards with the same settings');
    }
    part.tensors.forEach((t, i) => {
      const m = tensors[i];
      tensors[i] = {
        ...m,
        range: [Math.min(m.range[0], t.range[0]), Math.max(m.range[1], t.range[1])],
        min: Math.min(m.min, t.min), max: Math.max(m.max, t.max), absMin: Math.min(m.absMin, t.absMin), elements: Math.max(m.elements, t.elements),
      };
    });
  }
  return { batches: parts.reduce((n, p) => n + p.batches, 0), tensors };
}

/** Histogram counts of disjoint shards summed (exact: integer counts in float64). */
export function mergeHistogramCounts(parts: readonly HistogramPass[]): HistogramPass {
  const counts = new Map<string, Float64Array>();
  for (const part of parts) {
    for (const [name, c] of part.counts) {
      const sum = counts.get(name);
      if (!sum) counts.set(name, Float64Array.from(c));
      else if (sum.length !== c.length) throw new SdqError('SHAPE_MISMATCH', `tensor '${name}': shards have ${sum.length} and ${c.length} histogram bins; recalibrate with one setting`);
      else for (let i = 0; i < c.length; i++) sum[i] += c[i];
    }
  }
  return { batches: parts.reduce((n, p) => n + p.batches, 0), counts };
}

function methodOf(options: CollectRangesOptions): CalibrationMethod {
  const method = options.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile' && method !== 'entropy') {
    throw new SdqError('INVALID_ARGUMENT', `unknown calibration method '${String(method)}'; use minmax, percentile or entropy`);
  }
  return method;
}

/** Percentile ranges are symmetric unless told otherwise (onnxruntime's default), MinMax and entropy are not. */
function symmetricOf(options: CollectRangesOptions): boolean {
  return options.symmetric ?? (methodOf(options) === 'percentile');
}

function histogramPlanOf(options: CollectRangesOptions): HistogramPlan | undefined {
  const method = methodOf(options);
  return method === 'minmax' ? undefined : createHistogramPlan(method, { ...options, symmetric: symmetricOf(options) });
}

/**
 * Pass 2 with onnxruntime's histogram-calibrator semantics and bounded memory. onnxruntime keeps every output of
 * every run and builds ONE histogram per tensor over all of them (range [-t, t], t = max |x| over the whole data;
 * for symmetric percentile |x| over [min |x|, max |x|]). Pass 1 found those ranges (`extrema`, merged over all the
 * data); this pass bins each run's values into that fixed range and sums the counts: the same histogram, no output kept.
 */
async function countsOf(
  loaded: LoadedModel,
  reader: CalibrationDataReader,
  extrema: ExtremaPass,
  options: CollectRangesOptions,
  sessionFor: (exposed: readonly string[], groups: number) => Promise<{ session: ort.InferenceSession; done(): Promise<void> }>,
  progress: { done: number; total: (groups: number) => number },
): Promise<HistogramPass> {
  const plan = histogramPlanOf(options);
  if (!plan) throw new SdqError('INVALID_ARGUMENT', 'the minmax method has no histogram pass');
  const inputs = new Set(loaded.model.graph?.input.map((i) => i.name));
  const names = extrema.tensors.map((t) => t.name);
  const elements = new Map(extrema.tensors.map((t) => [t.name, t.elements]));
  // Pass 2 holds one run's exposed outputs at a time; cap how many tensors and bytes one run exposes (more passes instead).
  const perRun = Math.max(1, Math.floor(options.maxTensorsPerRun ?? DEFAULT_MAX_TENSORS_PER_RUN));
  const groups = groupTensors(names, (n) => (elements.get(n) ?? 0) * 4, perRun, options.maxBytesPerRun ?? DEFAULT_MAX_BYTES_PER_RUN);
  const total = progress.total(groups.length);
  const hist = plan.start(new Map(extrema.tensors.map((t) => [t.name, t])));
  const rt = await loadOrt();
  let batches = 0;
  let done = progress.done;
  for (const group of groups) {
    const exposed = group.filter((n) => !inputs.has(n));
    const { session, done: release } = await sessionFor(exposed, groups.length);
    batches = 0;
    try {
      for await (const feeds of reader) {
        const result = exposed.length > 0 ? await session.run(toOrtFeeds(rt, feeds), exposed) : {};
        for (const name of group) {
          const value: CalibTensor | ort.Tensor | undefined = inputs.has(name) ? feeds[name] : result[name];
          if (!value) throw new SdqError('RUNTIME_ERROR', `no value for tensor '${name}'`);
          hist.add(name, floatValues(value, name));
        }
        for (const t of Object.values(result)) t.dispose();
        batches++;
        options.onProgress?.(++done, total);
      }
    } finally {
      await release();
    }
  }
  return { batches, counts: hist.counts() };
}

/**
 * The two calibration passes over one model, run as often as needed on different data (shards): the model is read,
 * its tensors chosen and its onnxruntime sessions created once, then reused by every call until release().
 */
export interface CalibrationPasses {
  /** Pass 1 over `reader`. */
  extrema(reader: CalibrationDataReader, onProgress?: (done: number, total: number) => void): Promise<ExtremaPass>;
  /** Pass 2 over `reader`: histogram counts over the fixed ranges of `extrema` (merged over all of the data). */
  histogramCounts(reader: CalibrationDataReader, extrema: ExtremaPass, progress?: { onProgress?: (done: number, total: number) => void; done: number; total: (groups: number) => number }): Promise<HistogramPass>;
  release(): Promise<void>;
}

export interface CalibrationPassesOptions extends CollectRangesOptions {
  /**
   * Keep the onnxruntime sessions between calls (a queue worker computing shard after shard). Default false: each
   * session lives for one pass (pass 2's one per tensor group), so at most one copy of the weights is loaded at a time.
   * When true, pass 2's session is kept only when one group covers every tensor (small models).
   */
  readonly keepSessions?: boolean;
}

export async function openCalibrationPasses(modelPath: string, options: CalibrationPassesOptions = {}): Promise<CalibrationPasses> {
  methodOf(options);
  const loaded = await loadModelForRuntime(modelPath);
  const tensors = await calibratedTensors(loaded, options);
  const threads = options.threads ?? 2;
  const keep = options.keepSessions ?? false;
  let reduction: Reduction | undefined;
  let single: { key: string; session: ort.InferenceSession } | undefined;
  const sessionFor = async (exposed: readonly string[], groups: number) => {
    const key = exposed.join('\0');
    if (keep && groups === 1) {
      if (single?.key !== key) {
        await single?.session.release();
        single = { key, session: await createSession(loaded, addGraphOutputs(loaded.model, [...exposed]), threads) };
      }
      return { session: single.session, done: async () => undefined };
    }
    const session = await createSession(loaded, addGraphOutputs(loaded.model, [...exposed]), threads);
    return { session, done: () => session.release() };
  };
  return {
    async extrema(reader, onProgress) {
      const r = reduction ?? (await createReduction(loaded, tensors, histogramPlanOf(options)?.absolute ?? false, threads));
      if (keep) reduction = r;
      try {
        return await reduceOverData(loaded, tensors, reader, r, { symmetric: symmetricOf(options), onProgress });
      } finally {
        if (!keep) await r.session.release();
      }
    },
    async histogramCounts(reader, extrema, progress) {
      return countsOf(loaded, reader, extrema, { ...options, onProgress: progress?.onProgress }, sessionFor, progress ?? { done: 0, total: (groups) => reader.length * groups });
    },
    async release() {
      const sessions = [single?.session, reduction?.session].filter((x): x is ort.InferenceSession => x !== undefined);
      single = undefined;
      reduction = undefined;
      await Promise.all(sessions.map((session) => session.release()));
    },
  };
}

async function withPasses<T>(modelPath: string, options: CollectRangesOptions, use: (passes: CalibrationPasses) => Promise<T>): Promise<T> {
  const passes = await openCalibrationPasses(modelPath, options);
  try {
    return await use(passes);
  } finally {
    await passes.release();
  }
}

/**
 * Pass 1 over one shard of the calibration data: what collectRanges computes first, as data that merges exactly
 * (mergeExtrema). The histogram methods then need the merged extrema of ALL shards for pass 2 (collectHistogramCounts).
 */
export async function collectExtrema(modelPath: string, reader: CalibrationDataReader, options: CollectRangesOptions = {}): Promise<ExtremaPass> {
  return withPasses(modelPath, options, (passes) => passes.extrema(reader, options.onProgress));
}

/** Pass 2 over one shard: histogram counts over the fixed ranges of `extrema` (merged over all shards); sums exactly. */
export async function collectHistogramCounts(
  modelPath: string,
  reader: CalibrationDataReader,
  extrema: ExtremaPass,
  options: CollectRangesOptions = {},
): Promise<HistogramPass> {
  return withPasses(modelPath, options, (passes) => passes.histogramCounts(reader, extrema, { onProgress: options.onProgress, done: 0, total: (groups) => reader.length * groups }));
}

/** The ranges file from merged passes: MinMax from the extrema alone, percentile/entropy from the summed histograms. */
export function rangesFromPasses(modelPath: string, options: CollectRangesOptions, extrema: ExtremaPass, histograms?: HistogramPass): RangesFile {
  const method = methodOf(options);
  const plan = histogramPlanOf(options);
  const ranges: Record<string, Range> = {};
  if (!plan) {
    for (const t of extrema.tensors) ranges[t.name] = [t.range[0], t.range[1]];
    return { format: 'sdq-ranges', version: 1, model: modelPath, method, options: { symmetric: symmetricOf(options) }, batches: extrema.batches, ranges };
  }
  if (!histograms) throw new SdqError('INVALID_ARGUMENT', `the ${method} method needs the histogram pass's counts`);
  const hist = plan.start(new Map(extrema.tensors.map((t) => [t.name, t])), histograms.counts);
  return { format: 'sdq-ranges', version: 1, model: modelPath, method, options: plan.options, batches: histograms.batches, ranges: hist.ranges() };
}

/** Consecutive groups of at most `maxCount` tensors and `maxBytes` bytes (a tensor larger than that alone). */
export function groupTensors(names: readonly string[], bytesOf: (name: string) => number, maxCount: number, maxBytes: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const n of names) {
    const b = bytesOf(n);
    if (current.length > 0 && (current.length >= maxCount || bytes + b > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(n);
    bytes += b;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function floatValues(t: CalibTensor | ort.Tensor, name: string): Float32Array {
  const data = t.data;
  if (data instanceof Float32Array) return data;
  throw new SdqError('UNSUPPORTED_TYPE', `tensor '${name}': histogram calibration supports float32 tensors (got ${typeof t.type === 'string' ? t.type : dtypeInfo(t.type).name})`);
}

/** The tensors to calibrate: `tensors`, else those the QDQ `policy` reads, else every float tensor of `opTypes` nodes. */
async function calibratedTensors(loaded: LoadedModel, options: CollectRangesOptions): Promise<{ name: string; type: string }[]> {
  const wanted = options.tensors ?? (options.policy ? qdqTensorsFor(loaded.model, options.policy) : undefined);
  if (!wanted) return selectFloatTensors(loaded, { opTypes: options.opTypes, threads: options.threads });
  // Only the wanted tensors are probed for their types: exposing every tensor is what a policy list avoids.
  const found = new Map((await selectFloatTensors(loaded, { candidates: wanted, threads: options.threads })).map((t) => [t.name, t]));
  return [...new Set(wanted)].map((n) => {
    const t = found.get(n);
    if (!t) throw new SdqError('NOT_FOUND', `${loaded.path}: no float activation named '${n}' to calibrate (initializers, non-float and unknown tensors have no range); check the tensor list`);
    return t;
  });
}

/**
 * Run the model over the calibration data and compute a range per tensor, the way onnxruntime's calibrators do:
 * MinMax takes per-run min/max (in-graph reductions, so memory stays at two numbers per tensor) merged across runs;
 * Percentile and Entropy build histograms batch by batch with @sdq/quant's HistogramCollector. The same two passes
 * as collectExtrema / collectHistogramCounts / rangesFromPasses, which split them over shards of the data.
 */
export async function collectRanges(
  modelPath: string,
  reader: CalibrationDataReader,
  options: CollectRangesOptions = {},
): Promise<RangesFile> {
  const method = methodOf(options);
  return withPasses(modelPath, options, async (passes) => {
    if (method === 'minmax') return rangesFromPasses(modelPath, options, await passes.extrema(reader, options.onProgress));
    // Progress over both passes: pass 1 once, pass 2 once per tensor group (counted as one group until pass 2 knows).
    const extrema = await passes.extrema(reader, (done) => options.onProgress?.(done, reader.length * 2));
    const counts = await passes.histogramCounts(reader, extrema, { onProgress: options.onProgress, done: reader.length, total: (groups) => reader.length * (1 + groups) });
    return rangesFromPasses(modelPath, options, extrema, counts);
  });
}
