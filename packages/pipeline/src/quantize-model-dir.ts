// quantizeModelDir: a model dir -> <out>/fp16 and <out>/int8 model dirs (each complete, or absent on failure),
// reused while fresh (same source files, same recipe).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import type { Device } from '@sdq/diffusion';
import { readModel, writeModel, convertToFloat16, fuseAttention, isExternalTensor, DEFAULT_FP16_BLOCK_OPS, quantizeWeightsInt8, type TensorProto } from '@sdq/onnx';
import type { Precision } from './types.js';
import type { ProgressListener } from './progress.js';
import { checkModelDir, ONNX_COMPONENTS, OPTIONAL_ONNX_COMPONENTS } from './model-dir.js';
import { writeDirAtomic, assertWritableParent, exists, ioError } from './fs-atomic.js';
import { isFresh, madeFromNow, readMadeFrom, writeMadeFrom, STAMP_FILE, type MadeComponent, type MadeDirContents } from './freshness.js';
import { quantizeUnetInt8, type Int8Recipe, DEFAULT_INT8_RECIPE } from './int8.js';
import { chooseFloatComponents } from './component-choice.js';

export { SDQ_VERSION, MADE_DIR_LAYOUT } from './freshness.js';
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
  /** The command named in the made dirs' stamps (default `sdq bench`). */
  madeBy?: string;
  /** Folder of the INT8 dir under outDir (default `int8`); a sweep gives each recipe its own. */
  int8Folder?: string;
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
export async function copyNonOnnx(src: string, dst: string, skipComponents: ReadonlySet<string>): Promise<void> {
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
  options: { to?: 'fp16' | 'fp32'; keepIoTypes?: boolean; blockOps?: readonly string[]; fuseAttention?: boolean; weights?: 'int8' } = {},
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
  // Deferred weights are converted (and quantized) as they are written: one tensor in memory at a time.
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
  // Weight-only INT8 on top (W8A16): int8 Conv/MatMul/Gemm weights behind DequantizeLinear, which WebGPU runs; each
  // quantized from its deferred float16 weight when written (peak when they were held: sd15 preset 2.55 GiB, sdxl preset 7.54 GiB).
  const final = options.weights === 'int8' ? quantizeWeightsInt8(out, { baseDir, deferred }).model : out;
  await fs.mkdir(path.dirname(dstModel), { recursive: true });
  // Tensors the conversion left as they were (int64 shapes, blocked ops' weights) are still external: copied from
  // the source folder. A source with external weights gets external weights again: written inline, SD 1.5's
  // 1.7 GB FP16 UNet was encoded as one buffer next to the tensors (a second copy) and sits near protobuf's 2 GiB.
  const external = model.graph?.initializer.some((t) => isExternalTensor(t)) ? true : 'auto';
  await writeModel(final, dstModel, { externalData: external, sourceDir: baseDir, deferredData: deferred });
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

/** Why TensorRT cannot parse a model sdq made for onnxruntime (recorded in the stamp, quoted by sdq build). */
export const FUSED_ATTENTION = "attention fused into onnxruntime's com.microsoft MultiHeadAttention";
export const UINT8_ACTIVATIONS = 'uint8 Q/DQ activations (TensorRT takes int8 with zero point 0)';
export const WEIGHT_ONLY_INT8 = "weight-only INT8 over FP16 activations (W8A16, for onnxruntime's WebGPU provider)";

/** The stamp's entry for an INT8 UNet quantized with `activationType` (uint8 also fuses attention, as quantizeUnet does). */
export function int8Unet(activationType: 'uint8' | 'int8'): MadeComponent {
  return activationType === 'int8' ? { precision: 'int8' } : { precision: 'int8', onnxruntimeOnly: `${UINT8_ACTIVATIONS}, ${FUSED_ATTENTION}` };
}

/**
 * Stamp entries for the components convertModelDir made (`fused`: attention blocks fused per component): their
 * precision, onnxruntime-only where attention became MultiHeadAttention or the weights are weight-only INT8.
 */
export function convertedComponents(fused: ReadonlyMap<string, number>, precision: Precision, weightOnlyInt8 = false): Record<string, MadeComponent> {
  const made: Record<string, MadeComponent> = {};
  for (const [c, n] of fused) {
    const why = [...(weightOnlyInt8 ? [WEIGHT_ONLY_INT8] : []), ...(n > 0 ? [FUSED_ATTENTION] : [])];
    made[c] = { precision, ...(why.length ? { onnxruntimeOnly: why.join(', ') } : {}) };
  }
  return made;
}

/**
 * A component copied as it is from `dir`: what `dir`'s stamp says it is, else FP32 (a dir sdq did not make is an
 * export).
 */
export async function copiedComponent(dir: string, component: string): Promise<MadeComponent> {
  return (await readMadeFrom(dir))?.contents?.components[component] ?? { precision: 'fp32' };
}

async function makeDir(
  source: string,
  target: string,
  recipe: unknown,
  reuse: boolean,
  fill: (tmp: string) => Promise<{ notes: string[]; contents: MadeDirContents }>,
): Promise<{ reused: boolean; notes: string[]; ms: number }> {
  const stamp = await madeFromNow(source, recipe);
  // The notes of how a dir was made (calibration, measured choices) live in it, so a reused dir reports them too.
  const notesFile = path.join(target, NOTES_FILE);
  if (reuse && (await isFresh(target, stamp))) {
    const kept = await fs.readFile(notesFile, 'utf8').then((t) => JSON.parse(t) as string[]).catch(() => []);
    return { reused: true, notes: kept, ms: 0 };
  }
  const t0 = performance.now();
  const notes = await writeDirAtomic(target, async (tmp) => {
    const { notes: n, contents } = await fill(tmp);
    await fs.writeFile(path.join(tmp, NOTES_FILE), `${JSON.stringify(n, null, 2)}\n`);
    await writeMadeFrom(tmp, { ...stamp, contents });
    return n;
  });
  return { reused: false, notes, ms: performance.now() - t0 };
}

export async function quantizeModelDir(modelDir: string, outDir: string, options: QuantizeModelDirOptions = {}): Promise<QuantizeModelDirResult> {
  const { family } = await checkModelDir(modelDir);
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
    const r = await makeDir(modelDir, target, { fp16: { ...fp16Options, components } }, reuse, async (tmp) => {
      const fused = await convertModelDir(modelDir, tmp, components, fp16Options, 'convert FP16', progress);
      const counts = [...fused].filter(([, n]) => n > 0).map(([c, n]) => `${c.replace('_', ' ')} ${n}`);
      return {
        notes: counts.length > 0 ? [`FP16: attention fused into onnxruntime's MultiHeadAttention (${counts.join(', ')})`] : [],
        contents: { madeBy: options.madeBy ?? 'sdq bench', precision: 'fp16', components: convertedComponents(fused, 'fp16') },
      };
    });
    result.fp16 = target;
    result.timingsMs.fp16 = r.ms;
    if (r.reused) result.reused.push('fp16');
    result.notes.push(...r.notes);
  }

  if (precisions.includes('int8')) {
    const target = path.join(outDir, options.int8Folder ?? 'int8');
    // Unset (undefined) overrides keep the default.
    const overrides = Object.fromEntries(Object.entries(options.int8 ?? {}).filter(([, v]) => v !== undefined));
    const recipe: Int8Recipe = { ...DEFAULT_INT8_RECIPE, ...overrides };
    // SDXL dirs made before the SDXL recipe (int8PolicyForModel) have another layout: their stamps differ.
    const r = await makeDir(modelDir, target, { int8: recipe, components, ...(family === 'sdxl' && { unetRecipe: 'sdxl' }) }, reuse, async (tmp) => {
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
      const made: Record<string, MadeComponent> = {};
      for (const c of components) made[c] = c === 'unet' ? int8Unet(recipe.policy?.activationType ?? 'uint8') : await copiedComponent(fromFp16.has(c) ? fp16Dir! : modelDir, c);
      return { notes, contents: { madeBy: options.madeBy ?? 'sdq bench', precision: 'int8', components: made } };
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
  /** A GPU device gets the GPU recipe (prepareGpuModelDirs). */
  device?: Device;
  onProgress?: ProgressListener;
}

/** Weight-only INT8 over FP16 activations (W8A16), attention fused: what `sdq convert --to int8-weights` and bench's GPU INT8 make. */
export const INT8_WEIGHTS_OPTIONS = { to: 'fp16', fuseAttention: true, keepIoTypes: true, weights: 'int8' } as const;

/**
 * The GPU recipe (onnxruntime's WebGPU / CUDA providers): FP32 with attention fused (lossless; SD 1.5 UNet step on an
 * H200 637 -> 132 ms), FP16 with attention fused, and INT8 as weight-only INT8 over FP16 (W8A16, no calibration):
 * activation Q/DQ models run QuantizeLinear and QLinear* on the CPU there (0.9-1.3 s a step instead of 0.13 s).
 */
async function prepareGpuModelDirs(options: PrepareOptions): Promise<Record<Precision, string> & { notes: string[] }> {
  const dirs = { fp32: options.modelDir, fp16: '', int8: '', notes: [] as string[] };
  const progress = options.onProgress ?? (() => undefined);
  const components = await onnxComponents(options.modelDir);
  const recipes = {
    fp32: { label: 'FP32 (attention fused)', folder: 'gpu-fp32', options: { to: 'fp32' as const, fuseAttention: true } },
    fp16: { label: 'FP16 (attention fused)', folder: 'gpu-fp16', options: { to: 'fp16' as const, fuseAttention: true, keepIoTypes: true } },
    int8: { label: 'weight-only INT8 over FP16 (W8A16)', folder: 'gpu-int8-weights', options: INT8_WEIGHTS_OPTIONS },
  };
  const reused: string[] = [];
  for (const precision of options.precisions) {
    const recipe = recipes[precision];
    const target = path.join(options.outDir, recipe.folder);
    const r = await makeDir(options.modelDir, target, { gpu: recipe.options, components }, true, async (tmp) => {
      const fused = await convertModelDir(options.modelDir, tmp, components, recipe.options, `${precision.toUpperCase()} for the GPU`, progress);
      return {
        notes: [`${precision.toUpperCase()} on the GPU: ${recipe.label}`],
        contents: { madeBy: 'sdq bench --device', precision, components: convertedComponents(fused, precision, precision === 'int8') },
      };
    });
    dirs[precision] = target;
    dirs.notes.push(...r.notes);
    if (r.reused) reused.push(precision.toUpperCase());
  }
  if (reused.length) dirs.notes.push(`reused ${reused.join(', ')} GPU model dir(s) from ${options.outDir} (source unchanged)`);
  return dirs;
}

/** The model dir per precision for bench: FP32 = the source, FP16/INT8 made (or reused) under outDir. */
export async function prepareModelDirs(options: PrepareOptions): Promise<Record<Precision, string> & { notes: string[] }> {
  if (options.device !== undefined && options.device !== 'cpu') return await prepareGpuModelDirs(options);
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
