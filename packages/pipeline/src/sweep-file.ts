// sweep.json: the axes of `sdq bench --sweep` (precisions x INT8 recipes x schedulers x step counts x sizes) and the
// settings every cell shares, read and checked up front; each error names the file and the key.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { DEVICES, type Device } from '@sdq/diffusion';
import { PRECISIONS, type Precision } from './types.js';
import { SCHEDULERS } from './runtime/diffusion-generator.js';

/** One INT8 recipe of a sweep: how the INT8 model dir is calibrated and laid out (unset = DEFAULT_INT8_RECIPE). */
export interface SweepRecipe {
  /** How the recipe is named in the report (letters, digits, `.`, `_`, `-`). */
  readonly name: string;
  readonly method?: 'minmax' | 'percentile' | 'entropy';
  /** The percentile method's percentile (default 99.999). */
  readonly percentile?: number;
  /** Op types (Conv, MatMul, Gemm) or node names kept in float, on top of the sensitive layers. */
  readonly keepFloat?: readonly string[];
  /** uint8 (default, onnxruntime CPU) or int8 (zero point 0, TensorRT) activations. */
  readonly activations?: 'uint8' | 'int8';
  /** UNet input sets calibration keeps (default 40). */
  readonly samples?: number;
  /** Steps of each calibration generation (default 10). */
  readonly calibrationSteps?: number;
}

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** A checked sweep.json; unset keys take the defaults of `sdq bench` when the sweep runs. */
export interface SweepSpec {
  /** Absolute path of the sweep.json (named in errors and the report). */
  readonly file: string;
  /** The model dir, resolved against the file's folder. */
  readonly model?: string;
  readonly prompt?: string;
  readonly negativePrompt?: string;
  readonly seed?: number;
  readonly guidance?: number;
  readonly runs?: number;
  readonly warmup?: number;
  readonly threads?: number;
  readonly device?: Device;
  /** Calibration prompt file, resolved against the file's folder. */
  readonly calibrationPrompts?: string;
  readonly precisions?: readonly Precision[];
  readonly recipes?: readonly SweepRecipe[];
  readonly schedulers?: readonly string[];
  readonly steps?: readonly number[];
  readonly sizes?: readonly ImageSize[];
}

type Json = unknown;

class SweepReader {
  constructor(readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new SdqError('INVALID_ARGUMENT', `${this.file}: "${key}" ${problem}; see "sweep.json" in docs/cli.md`);
  }

  object(v: Json, key: string, known: readonly string[]): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, `must be a JSON object, got ${show(v)}`);
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.fail(key ? `${key}.${k}` : k, `is not a sweep key; known keys: ${known.join(', ')}`);
    }
    return o;
  }

  string(v: Json, key: string): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') this.fail(key, `must be a non-empty string, got ${show(v)}`);
    return v;
  }

  int(v: Json, key: string, min: number): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(key, `must be an integer >= ${min}, got ${show(v)}`);
    return v;
  }

  number(v: Json, key: string, ok: (n: number) => boolean, what: string): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) this.fail(key, `must be ${what}, got ${show(v)}`);
    return v;
  }

  choice<T extends string>(v: Json, key: string, choices: readonly T[]): T | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) this.fail(key, `must be one of ${choices.join(', ')}, got ${show(v)}`);
    return v as T;
  }

  /** A non-empty list without repeats, each item read by `item`. */
  list<T>(v: Json, key: string, item: (x: Json, key: string) => T, id: (x: T) => string = String): T[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) this.fail(key, `must be a non-empty list, got ${show(v)}`);
    const out = v.map((x, i) => item(x, `${key}[${i}]`));
    const seen = new Set<string>();
    out.forEach((x, i) => {
      if (seen.has(id(x))) this.fail(`${key}[${i}]`, `repeats ${show(id(x))}; list each value once`);
      seen.add(id(x));
    });
    return out;
  }
}

function show(v: Json): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TOP_KEYS = [
  'model', 'prompt', 'negativePrompt', 'seed', 'guidance', 'runs', 'warmup', 'threads', 'device', 'calibrationPrompts',
  'precisions', 'recipes', 'schedulers', 'steps', 'sizes',
] as const;
const RECIPE_KEYS = ['name', 'method', 'percentile', 'keepFloat', 'activations', 'samples', 'calibrationSteps'] as const;
const METHODS = ['minmax', 'percentile', 'entropy'] as const;

function readRecipe(r: SweepReader, v: Json, key: string): SweepRecipe {
  const o = r.object(v, key, RECIPE_KEYS);
  const name = r.string(o.name, `${key}.name`) ?? r.fail(`${key}.name`, 'is required (how the report names the recipe)');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) r.fail(`${key}.name`, `may hold letters, digits, ".", "_" and "-" only, got ${show(name)}`);
  const method = r.choice(o.method, `${key}.method`, METHODS);
  const percentile = r.number(o.percentile, `${key}.percentile`, (p) => p > 0 && p <= 100, 'a number above 0 and at most 100 (e.g. 99.99)');
  if (percentile !== undefined && (method ?? 'percentile') !== 'percentile') r.fail(`${key}.percentile`, `applies to method "percentile" only (this recipe's method is "${method}")`);
  return {
    name,
    ...(method !== undefined && { method }),
    ...(percentile !== undefined && { percentile }),
    ...(o.keepFloat !== undefined && { keepFloat: r.list(o.keepFloat, `${key}.keepFloat`, (x, k) => r.string(x, k)!) }),
    ...(o.activations !== undefined && { activations: r.choice(o.activations, `${key}.activations`, ['uint8', 'int8'] as const) }),
    ...(o.samples !== undefined && { samples: r.int(o.samples, `${key}.samples`, 1) }),
    ...(o.calibrationSteps !== undefined && { calibrationSteps: r.int(o.calibrationSteps, `${key}.calibrationSteps`, 1) }),
  };
}

function readSize(r: SweepReader, v: Json, key: string): ImageSize {
  const m = typeof v === 'string' ? /^(\d+)x(\d+)$/.exec(v) : null;
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) r.fail(key, `must be "WIDTHxHEIGHT" (e.g. "512x512"), got ${show(v)}`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Check a parsed sweep.json (`file` is named in every error; relative paths are taken from its folder). */
export function parseSweep(value: Json, file: string): SweepSpec {
  const r = new SweepReader(file);
  const o = r.object(value, '', TOP_KEYS);
  const here = path.dirname(path.resolve(file));
  const model = r.string(o.model, 'model');
  const calibrationPrompts = r.string(o.calibrationPrompts, 'calibrationPrompts');
  const precisions = r.list(o.precisions, 'precisions', (x, k) => r.choice(x, k, PRECISIONS)!);
  const recipes = r.list(o.recipes, 'recipes', (x, k) => readRecipe(r, x, k), (x) => x.name);
  if (recipes && precisions && !precisions.includes('int8')) r.fail('recipes', 'are INT8 recipes, but "precisions" has no "int8"; add it or drop "recipes"');
  const device = r.choice(o.device, 'device', DEVICES);
  if (recipes && device && device !== 'cpu') r.fail('recipes', `are calibrated INT8 recipes for the CPU; on ${device} INT8 is the GPU recipe (weight-only INT8), drop "recipes"`);
  const spec: SweepSpec = {
    file: path.resolve(file),
    ...(model !== undefined && { model: path.resolve(here, model) }),
    ...(o.prompt !== undefined && { prompt: r.string(o.prompt, 'prompt') }),
    ...(o.negativePrompt !== undefined && { negativePrompt: r.string(o.negativePrompt, 'negativePrompt') }),
    ...(o.seed !== undefined && { seed: r.int(o.seed, 'seed', 0) }),
    ...(o.guidance !== undefined && { guidance: r.number(o.guidance, 'guidance', (g) => g >= 0, 'a number >= 0') }),
    ...(o.runs !== undefined && { runs: r.int(o.runs, 'runs', 1) }),
    ...(o.warmup !== undefined && { warmup: r.int(o.warmup, 'warmup', 0) }),
    ...(o.threads !== undefined && { threads: r.int(o.threads, 'threads', 1) }),
    ...(device !== undefined && { device }),
    ...(calibrationPrompts !== undefined && { calibrationPrompts: path.resolve(here, calibrationPrompts) }),
    ...(precisions && { precisions }),
    ...(recipes && { recipes }),
    ...(o.schedulers !== undefined && { schedulers: r.list(o.schedulers, 'schedulers', (x, k) => r.choice(x, k, Object.keys(SCHEDULERS))!) }),
    ...(o.steps !== undefined && { steps: r.list(o.steps, 'steps', (x, k) => r.int(x, k, 1)!) }),
    ...(o.sizes !== undefined && { sizes: r.list(o.sizes, 'sizes', (x, k) => readSize(r, x, k), (s) => `${s.width}x${s.height}`) }),
  };
  return spec;
}

/** Read and check a sweep.json file. */
export async function readSweepFile(file: string): Promise<SweepSpec> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SdqError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `sweep file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}; pass --sweep path/to/sweep.json`, { cause: e });
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (e) {
    throw new SdqError('BAD_FORMAT', `${file} is not JSON: ${(e as Error).message}; see "sweep.json" in docs/cli.md`, { cause: e });
  }
  return parseSweep(value, file);
}
