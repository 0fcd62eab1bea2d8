// quantizeModelDir: a model dir -> <out>/fp16 and <out>/int8 model dirs (each complete, or absent on failure),
// reused while fresh (same source files, same recipe).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { readModel, writeModel, convertToFloat16, fuseAttention, isExternalTensor, DEFAULT_FP16_BLOCK_OPS, type TensorProto } from '@sdq/onnx';
import type { Precision } from './types.js';
import type { ProgressListener } from './progress.js';
import { checkModelDir, ONNX_COMPONENTS, OPTIONAL_ONNX_COMPONENTS } from './model-dir.js';
import { writeDirAtomic, assertWritableParent, exists, ioError } from './fs-atomic.js';
import { fingerprintDir, isFresh, STAMP_FILE, type MadeFrom } from './freshness.js';
import { quantizeUnetInt8, type Int8Recipe, DEFAULT_INT8_RECIPE } from './int8.js';
import { chooseFloatComponents } from './component-choice.js';

export const SDQ_VERSION = '0.1.0';
/**
 * Bumped whenever what sdq writes into an FP16/INT8 dir changes for the same recipe, so dirs made by older code are
 * made again instead of reused (the recipe and the version alone did not catch that). 2: attention fused into
 * MultiHeadAttention for onnxruntime, FAST INT8 layout with float MatMul outputs.
 */
export const MADE_DIR_LAYOUT = 2;
const NOTES_FILE = 'sdq-notes.json';

export interface QuantizeModelDirOptions {
  /** Which model dirs to make (default both). */
  precisions?: readonly ('fp16' | 'int8')[];
  /** Reuse an existing output made from the same source with the same recipe (default true). */
  reuse?: boolean;
  int8?: Partial<Int8Recipe>;
  /** FP16 conversion: keep float32 inputs/outputs (default true: pipelines feed float32), extra blocked op types. */
  /**
   * FP16 conversion options. `fuseAttention` (default true): attention as onnxruntime's MultiHeadAttention, for
   * onnxruntime (TensorRT 11's strongly typed FP16 build needs plain ops: pass false, or use `sdq convert`).
   */
  fp16?: { keepIoTypes?: boolean; blockOps?: readonly string[]; fuseAttention?: boolean };
  threads?: number;
  onProgress?: ProgressListener;
}

export interface QuantizeModelDirResult {
  fp16?: string;
  int8?: string;
  /** Precisions whose dirs were fresh and reused as they were. */
  reused: Precision[];
  notes: string[];
  timingsMs: Partial<Record<'fp16' | 'int8', number>>;
}

/** Copy everything except the ONNX components (configs, tokenizer, scheduler, model_index.json, ...). */
async function copyNonOnnx(src: string, dst: string, skipComponents: ReadonlySet<string>): Promise<void> {
  for (const entry of await fs.readdir(src, { withFileTypes: true })) {
    if (entry.name === STAMP_FILE || entry.name === NOTES_FILE) continue;
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory() && skipComponents.has(entry.name)) {
      await fs.mkdir(to, { recursive: true });
      for (const f of await fs.readdir(from)) {
        if (!/\.(onnx|pb|data|bin)$/.test(f) && !f.startsWith('model.onnx')) await fs.cp(path.join(from, f), path.join(to, f), { recursive: true });
      }
    } else {
      await fs.cp(from, to, { recursive: true });
    }
  }
}

/** The ONNX components present in a model dir (required + optional ones). */
export async function onnxComponents(dir: string): Promise<string[]> {
  const all = [...ONNX_COMPONENTS, ...OPTIONAL_ONNX_COMPONENTS] as string[];
  const present: string[] = [];
  for (const c of all) if (await exists(path.join(dir, c, 'model.onnx'))) present.push(c);
  return present;
}

/**
 * Converted copy of one component: FP16 (`to: 'fp16'`, the default) through convertToFloat16 with float32 IO kept by
 * default (callers feed float32), or FP32 as it is (`to: 'fp32'`, for the attention fusion alone). The FP32 weights
 * are read lazily and each external one is converted as it is written (convertToFloat16's `deferred`), so memory
 * holds one tensor at a time (SD 1.5's 3.4 GB UNet: 6.5 GiB when read up front, 1.75 GiB when the FP16 weights were
 * held until written; SDXL's 10.3 GB UNet: 5.24 GiB that way).
 * `fuseAttention` first turns each attention into onnxruntime's MultiHeadAttention (float and float16 CPU kernels):
 * FP16 attention in plain ops was what made FP16 slower than FP32 on CPU. Returns how many were fused.
 */
export async function convertComponent(
  srcModel: string,
  dstModel: string,
  options: { to?: 'fp16' | 'fp32'; keepIoTypes?: boolean; blockOps?: readonly string[]; fuseAttention?: boolean } = {},
): Promise<number> {
  let model;
  try {
    model = await readModel(srcModel, { externalData: 'lazy' });
  } catch (err) {
    if (err instanceof SdqError) throw new SdqError(err.code, `${srcModel}: ${err.message}; re-export or re-copy this component`, { cause: err });
    throw err;
  }
  const baseDir = path.dirname(srcModel);
  const fused = options.fuseAttention ? fuseAttention(model, { baseDir }) : undefined;
  const source = fused?.model ?? model;
  const deferred = new Map<TensorProto, () => Uint8Array>();
  const out =
    options.to === 'fp32'
      ? source
      : convertToFloat16(source, {
          keepIoTypes: options.keepIoTypes ?? true,
          blockOps: options.blockOps?.length ? [...DEFAULT_FP16_BLOCK_OPS, ...options.blockOps] : undefined,
          baseDir,
          deferred,
        });
  await fs.mkdir(path.dirname(dstModel), { recursive: true });
  // Tensors the conversion left as they were (int64 shapes, blocked ops' weights) are still external: copied from
  // the source folder. A source with external weights gets external weights again: written inline, SD 1.5's
  // 1.7 GB FP16 UNet was encoded as one buffer next to the tensors (a second copy) and sits near protobuf's 2 GiB.
  const external = model.graph?.initializer.some((t) => isExternalTensor(t)) ? true : 'auto';
  await writeModel(out, dstModel, { externalData: external, sourceDir: baseDir, deferredData: deferred });
  return fused?.report.fused.length ?? 0;
}

/**
 * Every ONNX component of `srcDir` through convertComponent into `dstDir`, everything else (tokenizer, scheduler,
 * configs) copied. Returns the attention blocks fused per component.
 */
export async function convertModelDir(
  srcDir: string,
  dstDir: string,
  components: readonly string[],
  options: Parameters<typeof convertComponent>[2],
  task: string,
  progress: ProgressListener,
): Promise<Map<string, number>> {
  await copyNonOnnx(srcDir, dstDir, new Set(components));
  const fused = new Map<string, number>();
  progress({ task, done: 0, total: components.length });
  for (const c of components) {
    fused.set(c, await convertComponent(path.join(srcDir, c, 'model.onnx'), path.join(dstDir, c, 'model.onnx'), options));
    progress({ task, done: fused.size, total: components.length, detail: c });
  }
  return fused;
}

async function makeDir(
  precision: 'fp16' | 'int8',
  source: string,
  target: string,
  recipe: unknown,
  reuse: boolean,
  fill: (tmp: string) => Promise<string[]>,
): Promise<{ reused: boolean; notes: string[]; ms: number }> {
  const stamp: MadeFrom = { source: path.resolve(source), fingerprint: await fingerprintDir(source), recipe, sdq: SDQ_VERSION, layout: MADE_DIR_LAYOUT };
  // The notes of how a dir was made (calibration, measured choices) live in it, so a reused dir reports them too.
  const notesFile = path.join(target, NOTES_FILE);
  if (reuse && (await isFresh(target, stamp))) {
    const kept = await fs.readFile(notesFile, 'utf8').then((t) => JSON.parse(t) as string[]).catch(() => []);
    return { reused: true, notes: kept, ms: 0 };
  }
  const t0 = performance.now();
  const notes = await writeDirAtomic(target, async (tmp) => {
    const n = await fill(tmp);
    await fs.writeFile(path.join(tmp, NOTES_FILE), `${JSON.stringify(n, null, 2)}\n`);
    await fs.writeFile(path.join(tmp, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    return n;
  });
  void precision;
  return { reused: false, notes, ms: performance.now() - t0 };
}

export async function quantizeModelDir(modelDir: string, outDir: string, options: QuantizeModelDirOptions = {}): Promise<QuantizeModelDirResult> {
  await checkModelDir(modelDir);
  const precisions = options.precisions ?? ['fp16', 'int8'];
  const reuse = options.reuse ?? true;
  const progress = options.onProgress ?? (() => undefined);
  try {
    await fs.mkdir(outDir, { recursive: true });
  } catch (err) {
    throw ioError(err, outDir, 'create');
  }
  await assertWritableParent(path.join(outDir, 'fp16'));
  const result: QuantizeModelDirResult = { reused: [], notes: [], timingsMs: {} };
  const components = await onnxComponents(modelDir);

  if (precisions.includes('fp16')) {
    const target = path.join(outDir, 'fp16');
    const fp16Options = { keepIoTypes: options.fp16?.keepIoTypes ?? true, blockOps: [...(options.fp16?.blockOps ?? [])], fuseAttention: options.fp16?.fuseAttention ?? true };
    const r = await makeDir('fp16', modelDir, target, { fp16: { ...fp16Options, components } }, reuse, async (tmp) => {
      const fused = await convertModelDir(modelDir, tmp, components, fp16Options, 'convert FP16', progress);
      const counts = [...fused].filter(([, n]) => n > 0).map(([c, n]) => `${c.replace('_', ' ')} ${n}`);
      return counts.length > 0 ? [`FP16: attention fused into onnxruntime's MultiHeadAttention (${counts.join(', ')})`] : [];
    });
    result.fp16 = target;
    result.timingsMs.fp16 = r.ms;
    if (r.reused) result.reused.push('fp16');
    result.notes.push(...r.notes);
  }

  if (precisions.includes('int8')) {
    const target = path.join(outDir, 'int8');
    // Unset (undefined) overrides keep the default.
    const overrides = Object.fromEntries(Object.entries(options.int8 ?? {}).filter(([, v]) => v !== undefined));
    const recipe: Int8Recipe = { ...DEFAULT_INT8_RECIPE, ...overrides };
    const r = await makeDir('int8', modelDir, target, { int8: recipe, components }, reuse, async (tmp) => {
      const notes: string[] = [];
      const fp16Dir = result.fp16;
      const choices = fp16Dir ? await chooseFloatComponents(modelDir, fp16Dir, options.threads ?? 2) : [];
      const fromFp16 = new Set(choices.filter((c) => c.chosen === 'fp16').map((c) => c.component as string));
      await copyNonOnnx(modelDir, tmp, new Set(['unet', ...fromFp16]));
      for (const c of fromFp16) await fs.cp(path.join(fp16Dir!, c), path.join(tmp, c), { recursive: true, force: true });
      notes.push(
        ...(await quantizeUnetInt8(modelDir, path.join(tmp, 'unet', 'model.onnx'), recipe, { threads: options.threads ?? 2, onProgress: progress })).map((n) =>
          choices.length ? n.replace('; text encoder and VAE decoder FP32', '') : n,
        ),
      );
      if (choices.length) {
        notes.push(
          `INT8 dir float components, measured here (min of 3): ${choices
            .map((c) => `${c.component.replace(/_/g, ' ')} ${c.chosen.toUpperCase()} (FP32 ${c.fp32Ms.toFixed(1)} ms, FP16 ${c.fp16Ms.toFixed(1)} ms)`)
            .join(', ')}`,
        );
      }
      return notes;
    });
    result.int8 = target;
    result.timingsMs.int8 = r.ms;
    if (r.reused) result.reused.push('int8');
    result.notes.push(...r.notes);
  }
  return result;
}

export interface PrepareOptions {
  modelDir: string;
  outDir: string;
  precisions: readonly Precision[];
  calibrationPrompts?: readonly string[];
  /** Overrides of the INT8 recipe (samples, steps, method, ...). */
  int8?: Partial<Int8Recipe>;
  threads?: number;
  onProgress?: ProgressListener;
}

/** The model dir per precision for bench: FP32 = the source, FP16/INT8 made (or reused) under outDir. */
export async function prepareModelDirs(options: PrepareOptions): Promise<Record<Precision, string> & { notes: string[] }> {
  const wanted = options.precisions.filter((p): p is 'fp16' | 'int8' => p !== 'fp32');
  const dirs = { fp32: options.modelDir, fp16: '', int8: '', notes: [] as string[] };
  if (wanted.length === 0) return dirs;
  const r = await quantizeModelDir(options.modelDir, options.outDir, {
    precisions: wanted,
    int8: { ...options.int8, ...(options.calibrationPrompts ? { prompts: [...options.calibrationPrompts] } : {}) },
    threads: options.threads,
    onProgress: options.onProgress,
  });
  dirs.fp16 = r.fp16 ?? '';
  dirs.int8 = r.int8 ?? '';
  dirs.notes.push(...r.notes);
  if (r.reused.length) dirs.notes.push(`reused ${r.reused.map((p) => p.toUpperCase()).join(' and ')} model dir(s) from ${options.outDir} (source unchanged)`);
  return dirs;
}
