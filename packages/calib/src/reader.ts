import { stat } from 'node:fs/promises';
import { SdqError, dtypeInfo, mulberry32, shapeSize } from '@sdq/quant';
import type { TypedArray } from '@sdq/quant';
import { openNpz } from './npz.js';
import type { NpzArchive } from './npz.js';
import { listTestDataSets, readTestDataSet } from './tensorproto.js';
import type { CalibTensor, Feeds } from './tensor.js';

/**
 * The one calibration data interface: an async iterable of named feeds (one model run each, e.g.
 * `{ sample, timestep, encoder_hidden_states }`). Readers stream: only the feeds being yielded are in memory.
 * Iterating twice gives the same feeds in the same order (the shuffle is seeded).
 */
export interface CalibrationDataReader extends AsyncIterable<Feeds> {
  /** Number of feeds one iteration yields. */
  readonly length: number;
}

/** What a model expects of one input (as onnxruntime reports it; string dims are symbolic). */
export interface ModelInputSpec {
  readonly name: string;
  /** dtype name as in the dtype table ('float32', 'int64', ...). */
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export interface ReaderOptions {
  /** Shuffle the sample order with this seed (deterministic); no shuffling when undefined. */
  readonly seed?: number;
  /** Use at most this many samples (after shuffling). */
  readonly limit?: number;
  /** Concatenate this many consecutive samples along axis 0 into one feed (default 1). */
  readonly batchSize?: number;
  /** Use only these sample indices, in this order (before shuffle/limit), e.g. to hold some out. */
  readonly indices?: readonly number[];
  /** Check every feed against the model's inputs; a mismatch throws naming the input. */
  readonly inputs?: readonly ModelInputSpec[];
}

/** A source of numbered samples that can be fetched one at a time. */
export interface SampleSource {
  readonly count: number;
  /** Human-readable origin for error messages. */
  readonly origin: string;
  load(index: number): Promise<Feeds>;
  close?(): Promise<void>;
}

/** Fisher-Yates shuffle of a copy, driven by @sdq/quant's seeded mulberry32 (uniform = next / 2^32). */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const next = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor((next() / 4294967296) * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Concatenate tensors of one input along axis 0. */
export function concatAxis0(parts: readonly CalibTensor[], name: string): CalibTensor {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  let rows = 0;
  for (const p of parts) {
    if (p.type !== first.type || p.dims.length !== first.dims.length || p.dims.slice(1).some((d, i) => d !== first.dims[i + 1])) {
      throw new SdqError('SHAPE_MISMATCH', `input '${name}': cannot batch [${p.dims.join(', ')}] ${dtypeInfo(p.type).name} with [${first.dims.join(', ')}] ${dtypeInfo(first.type).name}`);
    }
    rows += p.dims[0] ?? 1;
  }
  const Ctor = dtypeInfo(first.type).array;
  if (!Ctor) throw new SdqError('UNSUPPORTED_TYPE', `input '${name}': cannot batch ${dtypeInfo(first.type).name}`);
  const total = parts.reduce((s, p) => s + p.data.length, 0);
  const out = new Ctor(total) as TypedArray;
  let at = 0;
  for (const p of parts) {
    (out as { set(a: ArrayLike<number | bigint>, o: number): void }).set(p.data as ArrayLike<number | bigint>, at);
    at += p.data.length;
  }
  return { type: first.type, dims: [rows, ...first.dims.slice(1)], data: out };
}

/** Check a feed against the model's inputs: every input present, same element type, rank, fixed and symbolic dims. */
export function checkFeeds(feeds: Feeds, inputs: readonly ModelInputSpec[], where: string): void {
  const symbols = new Map<string, { value: number; input: string }>();
  for (const spec of inputs) {
    const t = feeds[spec.name];
    if (!t) {
      throw new SdqError('NOT_FOUND', `${where}: no data for model input '${spec.name}' (data has ${Object.keys(feeds).join(', ') || 'nothing'})`);
    }
    const have = dtypeInfo(t.type).name;
    if (have !== spec.type) throw new SdqError('UNSUPPORTED_TYPE', `${where}: input '${spec.name}' is ${have}, the model wants ${spec.type}`);
    if (spec.shape.length > 0 && spec.shape.length !== t.dims.length) {
      throw new SdqError('SHAPE_MISMATCH', `${where}: input '${spec.name}' has shape [${t.dims.join(', ')}], the model wants rank ${spec.shape.length} [${spec.shape.join(', ')}]`);
    }
    spec.shape.forEach((d, i) => {
      const v = t.dims[i];
      if (typeof d === 'number' && d >= 0 && d !== v) {
        throw new SdqError('SHAPE_MISMATCH', `${where}: input '${spec.name}' dim ${i} is ${v}, the model wants ${d} (shape [${spec.shape.join(', ')}])`);
      }
      if (typeof d === 'string' && d !== '') {
        const seen = symbols.get(d);
        if (seen && seen.value !== v) {
          throw new SdqError('SHAPE_MISMATCH', `${where}: input '${spec.name}' dim ${i} ('${d}') is ${v} but input '${seen.input}' has ${d}=${seen.value}`);
        }
        if (!seen) symbols.set(d, { value: v, input: spec.name });
      }
    });
    if (shapeSize(t.dims) !== t.data.length) throw new SdqError('SHAPE_MISMATCH', `${where}: input '${spec.name}' data length ${t.data.length} does not fill [${t.dims.join(', ')}]`);
  }
}

/** Turn a sample source into a CalibrationDataReader with selection, seeded shuffle, limit, batching and checks. */
export function readerFromSource(source: SampleSource, options: ReaderOptions = {}): CalibrationDataReader {
  const all = options.indices ? [...options.indices] : Array.from({ length: source.count }, (_, i) => i);
  for (const i of all) {
    if (!Number.isInteger(i) || i < 0 || i >= source.count) throw new SdqError('INVALID_ARGUMENT', `${source.origin}: sample index ${i} out of range (0..${source.count - 1})`);
  }
  const ordered = options.seed === undefined ? all : seededShuffle(all, options.seed);
  const chosen = options.limit === undefined ? ordered : ordered.slice(0, Math.max(0, options.limit));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  const length = Math.ceil(chosen.length / batchSize);
  return {
    length,
    async *[Symbol.asyncIterator]() {
      for (let b = 0; b < length; b++) {
        const ids = chosen.slice(b * batchSize, (b + 1) * batchSize);
        const samples: Feeds[] = [];
        for (const id of ids) samples.push(await source.load(id));
        const feeds: Feeds = {};
        for (const name of Object.keys(samples[0])) feeds[name] = concatAxis0(samples.map((s) => s[name]), name);
        if (options.inputs) checkFeeds(feeds, options.inputs, `${source.origin} sample${ids.length > 1 ? 's' : ''} ${ids.join(',')}`);
        yield feeds;
      }
    },
  };
}

/**
 * Samples of an .npz archive whose arrays are named `<input>_<index>` (as onnxruntime's and sdq's captures write
 * them: sample_0, timestep_0, encoder_hidden_states_0, sample_1, ...). Arrays are read lazily, one sample at a time.
 */
export async function npzSampleSource(path: string): Promise<SampleSource & { archive: NpzArchive; inputNames: string[] }> {
  const archive = await openNpz(path);
  const groups = new Map<number, Map<string, string>>();
  for (const member of archive.names) {
    const m = /^(.*)_(\d+)$/.exec(member);
    if (!m) continue;
    const idx = Number(m[2]);
    if (!groups.has(idx)) groups.set(idx, new Map());
    groups.get(idx)?.set(m[1], member);
  }
  const indices = [...groups.keys()].sort((a, b) => a - b);
  if (indices.length === 0) {
    await archive.close();
    throw new SdqError('BAD_FORMAT', `${path}: no arrays named <input>_<index> (e.g. sample_0); found ${archive.names.slice(0, 5).join(', ')}`);
  }
  const inputNames = [...(groups.get(indices[0])?.keys() ?? [])];
  return {
    archive,
    inputNames,
    count: indices.length,
    origin: path,
    async load(i: number): Promise<Feeds> {
      const group = groups.get(indices[i]);
      if (!group) throw new SdqError('NOT_FOUND', `${path}: no sample ${i}`);
      const feeds: Feeds = {};
      for (const [input, member] of group) feeds[input] = await archive.read(member);
      return feeds;
    },
    close: () => archive.close(),
  };
}

/** Samples from onnxruntime-style test_data_set_N/input_K.pb folders. */
export async function testDataSetSource(dir: string, inputNames: readonly string[] = []): Promise<SampleSource> {
  const sets = await listTestDataSets(dir);
  return { count: sets.length, origin: dir, load: (i) => readTestDataSet(sets[i], inputNames) };
}

/** Samples held in memory (tests, programmatic use). */
export function arraySampleSource(samples: readonly Feeds[], origin = 'in-memory samples'): SampleSource {
  return { count: samples.length, origin, load: async (i) => samples[i] };
}

/**
 * Open calibration data from a path: an .npz of `<input>_<i>` arrays, or a folder of test_data_set_N/input_K.pb.
 * Call `close()` when done (it releases the archive's file handle).
 */
export async function openCalibrationData(
  path: string,
  options: ReaderOptions = {},
): Promise<CalibrationDataReader & { close(): Promise<void>; sampleCount: number }> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot open calibration data ${path}: ${(e as Error).message}`, { cause: e });
  }
  const source: SampleSource = isDir ? await testDataSetSource(path, options.inputs?.map((s) => s.name)) : await npzSampleSource(path);
  const reader = readerFromSource(source, options);
  return {
    length: reader.length,
    sampleCount: source.count,
    [Symbol.asyncIterator]: () => reader[Symbol.asyncIterator](),
    close: async () => {
      await source.close?.();
    },
  };
}
