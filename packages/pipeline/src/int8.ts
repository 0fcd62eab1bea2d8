// INT8: capture real UNet inputs from FP32 generations (@sdq/calib's capture over this package's generator),
// calibrate, and write a QDQ UNet with @sdq/calib's quantizeUnet and its default policy.
import type { Device, ModelFamily } from '@sdq/diffusion';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  captureUnetInputs, quantizeUnet, collectRanges, openCalibrationData, writeRangesJson, writeCalibrationJson,
  DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, DEFAULT_UNET_CALIBRATION_METHOD, DEFAULT_UNET_METHOD_OPTIONS, UNET_SENSITIVE_LAYERS,
  type GenerateWithUnetHook, type QdqPolicyLike, type CalibrationMethod, type MethodOptions, type CollectRangesOptions, type RangesFile,
} from './calib-api.js';
import { SdqError } from '@sdq/quant';
import { calibrationCacheFromRanges, formatCalibrationCache, parseTrtVersion } from '@sdq/tensorrt';
import type { ProgressListener } from './progress.js';
import { openPipelineGenerator } from './runtime/diffusion-generator.js';
import { readPromptLanguage, fidelityPromptSet } from './fidelity.js';
import { checkModelDir, defaultImageSide } from './model-dir.js';
import { writeDirAtomic } from './fs-atomic.js';

export interface Int8Recipe {
  /** Calibration prompts; default: 8 prompts of the model's language not in the fidelity set, else generic ones. */
  prompts?: string[];
  /** Denoising steps per calibration generation. */
  steps: number;
  guidance: number;
  /** Keep at most this many UNet input sets (every k-th step, spread over the generations). */
  samples: number;
  method: 'minmax' | 'percentile' | 'entropy';
  seed: number;
  /** Image size of the calibration generations (default: the UNet's sample_size x 8). */
  size?: { width: number; height: number };
  /** Overrides merged over @sdq/calib's DEFAULT_UNET_INT8_POLICY (e.g. { activationType: 'int8' } for TensorRT). */
  policy?: QdqPolicyLike;
  /** The percentile method's percentile (default RECIPE_METHOD_OPTIONS': 99.999). */
  percentile?: number;
  /** Node names or op types (Conv, MatMul, Gemm) kept in float on top of the layout's sensitive layers. */
  exclude?: string[];
}

export const DEFAULT_INT8_RECIPE: Int8Recipe = { steps: 10, guidance: 5, samples: 40, method: DEFAULT_UNET_CALIBRATION_METHOD, seed: 1234 };

/**
 * The options each range method runs with wherever sdq calibrates (bench's recipe, sdq calibrate, sdq quantize
 * --method): percentile as @sdq/calib's default (asymmetric 99.999th, 2048 bins: 26.1 dB on shapes-sd against
 * 25.9 dB symmetric, docs/calibration.md); entropy with 2048 bins, because onnxruntime's default 128 bins equal its
 * 128 quantized bins and leave the KL search one candidate, the MinMax range; minmax asymmetric.
 */
export const RECIPE_METHOD_OPTIONS: Readonly<Record<CalibrationMethod, MethodOptions>> = Object.freeze({
  percentile: DEFAULT_UNET_METHOD_OPTIONS,
  entropy: { numBins: 2048, numQuantizedBins: 128 },
  minmax: { symmetric: false },
});

/**
 * What sdq calibrate calibrates: the tensors insertQdq reads under the default layout with no layer kept float, a
 * superset of what sdq quantize (default layout minus --exclude) needs, without attention scores.
 */
export const CALIBRATED_TENSORS_POLICY: NonNullable<QdqPolicyLike> = { ...DEFAULT_UNET_INT8_POLICY, skipNodes: [] };

/** Which UNet a calibration dir was made for (sdq quantize refuses ranges of another model). */
export const CALIBRATED_FOR = 'calibrated-for.json';

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

const GENERIC_CALIBRATION_PROMPTS = [
  'a photo of a cat on a sofa',
  'a mountain lake at sunrise, highly detailed',
  'portrait of an old man, oil painting',
  'a red sports car on a city street at night',
  'a bowl of fruit on a wooden table',
  'an astronaut riding a horse on the moon',
  'a lighthouse in a storm, dramatic lighting',
  'a watercolor painting of a forest in autumn',
];

/** Calibration prompts: the recipe's, else prompts of the model's language disjoint from the fidelity set, else generic. */
export async function calibrationPrompts(modelDir: string, recipe: Pick<Int8Recipe, 'prompts'>): Promise<string[]> {
  if (recipe.prompts?.length) return recipe.prompts;
  const language = await readPromptLanguage(modelDir);
  if (!language) return GENERIC_CALIBRATION_PROMPTS;
  const held = new Set(fidelityPromptSet(language, 12));
  const colours = Object.keys(language.colours);
  const out: string[] = [];
  // Walk the language in another order than the fidelity set and skip its prompts: calibrate on unseen prompts.
  for (let i = 0; out.length < 8 && i < colours.length * colours.length * language.shapes.length; i++) {
    const fg = colours[(i * 5) % colours.length];
    const bg = colours[(i * 3 + 2) % colours.length];
    const shape = language.shapes[(i * 2) % language.shapes.length];
    const p = `a ${fg} ${shape} on a ${bg} background`;
    if (fg !== bg && !held.has(p) && !out.includes(p)) out.push(p);
  }
  return out;
}

export interface CaptureOptions {
  prompts: readonly string[];
  steps: number;
  guidance: number;
  samples: number;
  seed: number;
  width: number;
  height: number;
  threads: number;
  /** Where the FP32 generations run (default cpu); statistics are collected on the CPU. */
  device?: Device;
  onProgress?: ProgressListener;
}

/**
 * Which prompts calibration generates from and how often it keeps a step's UNet inputs. Each generation gives at least
 * half of its steps (so the sets span the denoising trajectory: one set per generation would keep only the first,
 * noisiest step), so there are at most ceil(samples / ceil(steps / 2)) generations; their prompts are spread evenly
 * through the list (a file's first prompts are often one colour or subject). The recipe's 8 prompts at 10 steps and
 * 40 samples: all 8 prompts, every 2nd step.
 */
export function captureSchedule(promptCount: number, steps: number, samples: number): { promptIndices: number[]; every: number } {
  const generations = Math.min(promptCount, Math.max(1, Math.min(samples, Math.ceil(samples / Math.ceil(steps / 2)))));
  const promptIndices = Array.from({ length: generations }, (_, j) => Math.floor((j * promptCount) / generations));
  return { promptIndices, every: Math.max(1, Math.floor((generations * steps) / samples)) };
}

/** The prompts of the generations calibration runs (captureSchedule); scheduling them again keeps them as they are. */
export function calibrationGenerations(prompts: readonly string[], steps: number, samples: number): string[] {
  return captureSchedule(prompts.length, steps, samples).promptIndices.map((i) => prompts[i]!);
}

/**
 * The UNet steps calibration keeps, per generation: every k-th step counted over all generations in order
 * (k = floor(generations x steps / samples), captureSchedule's), at most `samples` of them. A pure function of the
 * counts, so any subset of the generations (a queue shard) keeps exactly the steps the whole run keeps from them.
 */
export function keptCalibrationSteps(generations: number, steps: number, samples: number): number[][] {
  const every = Math.max(1, Math.floor((generations * steps) / samples));
  let kept = 0;
  return Array.from({ length: generations }, (_, g) => {
    const out: number[] = [];
    for (let s = 0; s < steps; s++) if (((g * steps + s) % every === 0) && kept < samples) {
      out.push(s);
      kept++;
    }
    return out;
  });
}

/** FP32 generations whose kept UNet inputs go to an .npz, with the pipeline loaded once for any number of captures. */
export interface CalibrationCapture {
  /**
   * The UNet inputs of the kept steps (keptCalibrationSteps) to `npzPath`. `generations` runs only those generation
   * indices (default all), with the seeds and kept steps of the whole run.
   */
  capture(npzPath: string, options: Omit<CaptureOptions, 'threads'> & { generations?: readonly number[] }): Promise<{ path: string; sets: number; generations: number }>;
  dispose(): Promise<void>;
}

export async function openCalibrationCapture(modelDir: string, threads: number, device?: Device): Promise<CalibrationCapture> {
  let step = 0;
  let keep = new Set<number>();
  let hook: ((inputs: Parameters<Parameters<GenerateWithUnetHook>[2]>[0]) => void) | undefined;
  const generator = await openPipelineGenerator(modelDir, {
    scheduler: 'ddim',
    threads,
    ...(device !== undefined && { device }),
    onUnetInputs: (f) => {
      if (keep.has(step++)) hook?.(f);
    },
  });
  return {
    async capture(npzPath, options) {
      const prompts = calibrationGenerations(options.prompts, options.steps, options.samples);
      const kept = keptCalibrationSteps(prompts.length, options.steps, options.samples).map((steps) => new Set(steps));
      const chosen = options.generations ?? prompts.map((_, g) => g);
      const generate: GenerateWithUnetHook = async (prompt, { index }, onUnetInputs) => {
        const g = chosen[index];
        hook = onUnetInputs;
        step = 0;
        keep = kept[g] ?? new Set();
        await generator.generate({ prompt, steps: options.steps, guidance: options.guidance, seed: options.seed + g, width: options.width, height: options.height });
      };
      const r = await captureUnetInputs(npzPath, chosen.map((g) => prompts[g]), generate, {
        onProgress: (p) => options.onProgress?.({ task: 'capture UNet inputs', done: p.generation, total: p.generations, detail: `${p.sets} sets` }),
      });
      return { path: r.path, sets: r.sets, generations: r.generations };
    },
    dispose: () => generator.dispose(),
  };
}

/** FP32 generations over the prompts; the UNet inputs of the kept steps go to `npzPath` (openCalibrationCapture, once). */
export async function captureCalibrationSet(
  modelDir: string,
  npzPath: string,
  options: CaptureOptions & { generations?: readonly number[] },
): Promise<{ path: string; sets: number; generations: number }> {
  const capture = await openCalibrationCapture(modelDir, options.threads, options.device);
  try {
    return await capture.capture(npzPath, options);
  } finally {
    await capture.dispose();
  }
}

/**
 * Latent side from which FAST_UNET_INT8_POLICY (MatMul outputs float) is the faster layout: measured on the small
 * preset, 0.58-0.70 vs 0.60-0.77 of FP32 at 64x64 latents (512x512 images); at shapes-sd's 16x16 the two tie within
 * the noise (0.55-0.69 vs 0.57-0.71), so the smaller sizes keep the default layout their recorded numbers used.
 */
export const FAST_POLICY_MIN_LATENT = 64;

/** The INT8 UNet layout for images whose smaller latent side is `latentSide`, with the recipe's overrides on top. */
export function int8PolicyFor(latentSide: number, overrides?: QdqPolicyLike): NonNullable<QdqPolicyLike> {
  const base = latentSide >= FAST_POLICY_MIN_LATENT ? FAST_UNET_INT8_POLICY : DEFAULT_UNET_INT8_POLICY;
  return { ...base, ...overrides };
}

const QUANTIZED_OP_TYPES = new Set(['Conv', 'MatMul', 'Gemm']);

/**
 * `base` with `exclude` kept in float: op types (Conv, MatMul, Gemm) leave its opTypes, anything else is a node name
 * added to its skipped nodes. `what` names the setting in the error when no op type is left (e.g. `--exclude`).
 */
export function policyExcluding(base: NonNullable<QdqPolicyLike>, exclude: readonly string[], what: string): NonNullable<QdqPolicyLike> {
  const ops = exclude.filter((e) => QUANTIZED_OP_TYPES.has(e));
  const names = exclude.filter((e) => !QUANTIZED_OP_TYPES.has(e));
  const skip = base.skipNodes ?? [];
  const skipNodes = typeof skip === 'function' ? (node: Parameters<typeof skip>[0]) => skip(node) || names.includes(node.name ?? '') : [...skip, ...names];
  const policy = { ...base, opTypes: (base.opTypes ?? []).filter((o) => !ops.includes(o)), skipNodes };
  if (policy.opTypes.length === 0) throw new SdqError('INVALID_ARGUMENT', `${what} ${ops.join(',')} leaves no op type to quantize; exclude node names instead`);
  return policy;
}

/** The range method's options of a recipe: RECIPE_METHOD_OPTIONS with the recipe's percentile. */
export function recipeMethodOptions(recipe: Pick<Int8Recipe, 'method' | 'percentile'>): MethodOptions {
  return { ...RECIPE_METHOD_OPTIONS[recipe.method], ...(recipe.percentile !== undefined ? { percentile: recipe.percentile } : {}) };
}

/**
 * What the SDXL recipe keeps float: UNET_SENSITIVE_LAYERS (conv_in, conv_out, time embedding) and, as NVIDIA
 * ModelOpt's SDXL INT8 recipe (filter_func_default), every resnet's conv_shortcut (the 1x1 convolution on the skip
 * path where a block changes width) and the added text/time embedding. The rest of ModelOpt's list is float in sdq's
 * layouts anyway (time_emb_proj and add_embedding are Gemm, not among the op types; norm_out is a GroupNorm). What
 * the shortcuts cost and buy is measured in docs/calibration.md ("SDXL").
 */
export const SDXL_UNET_FLOAT_LAYERS: readonly RegExp[] = [...UNET_SENSITIVE_LAYERS, /(^|\/)conv_shortcut(\/|$)/, /(^|\/)add_embedding(\/|$)/];

/** SDXL's native latent side (1024x1024 images): the side its INT8 layout is chosen for. */
export const SDXL_LATENT_SIDE = 128;

/** The model an INT8 recipe is chosen for: its family (model_index.json) and UNet sample_size. */
export interface Int8Target {
  family: ModelFamily;
  sampleSize?: number;
}

/**
 * The INT8 UNet layout of the recipe for `target`, calibrated on images whose smaller latent side is `calibratedSide`,
 * with the recipe's overrides on top. SD 1.x/2.x: int8PolicyFor(calibratedSide). SDXL: the layout for the latents it
 * generates (its sample_size, 128), whatever size calibration ran at (calibrating at 1024x1024 costs far more than
 * the 13 GiB of 256x256), and SDXL_UNET_FLOAT_LAYERS float.
 */
export function int8PolicyForModel(target: Int8Target, calibratedSide: number, overrides?: QdqPolicyLike): NonNullable<QdqPolicyLike> {
  if (target.family !== 'sdxl') return int8PolicyFor(calibratedSide, overrides);
  return int8PolicyFor(Math.max(calibratedSide, target.sampleSize ?? SDXL_LATENT_SIDE), { skipNodes: SDXL_UNET_FLOAT_LAYERS, ...overrides });
}

async function defaultSize(modelDir: string): Promise<number> {
  return defaultImageSide(await checkModelDir(modelDir));
}

/**
 * Quantize `<modelDir>/unet` to a QDQ INT8 UNet at `dstModel`, calibrated on inputs captured from FP32 generations
 * (kept in `<dir of dstModel>/../calibration/`: unet_inputs.npz, ranges.json, calibration.json). Returns report notes.
 */
export async function quantizeUnetInt8(
  modelDir: string,
  dstModel: string,
  recipe: Int8Recipe,
  options: { threads: number; onProgress?: ProgressListener },
): Promise<string[]> {
  const info = await checkModelDir(modelDir);
  const side = defaultImageSide(info);
  const calibDir = path.join(path.dirname(path.dirname(dstModel)), 'calibration');
  await fs.mkdir(calibDir, { recursive: true });
  await fs.mkdir(path.dirname(dstModel), { recursive: true });
  const prompts = await calibrationPrompts(modelDir, recipe);
  const width = recipe.size?.width ?? side;
  const height = recipe.size?.height ?? side;
  const layout = int8PolicyForModel(info, Math.min(width, height) / 8, recipe.policy);
  const policy = recipe.exclude?.length ? policyExcluding(layout, recipe.exclude, 'keeping in float') : layout;
  const npz = await captureCalibrationSet(modelDir, path.join(calibDir, 'unet_inputs.npz'), {
    prompts, steps: recipe.steps, guidance: recipe.guidance, samples: recipe.samples, seed: recipe.seed,
    width, height, threads: options.threads, onProgress: options.onProgress,
  });
  // @sdq/calib reads the graph alone and lets onnxruntime read external weights from the model's folder, so UNets
  // with weight files over 2 GiB (SD 1.5: 3.4 GB) are calibrated in place.
  const result = await quantizeUnet(path.join(modelDir, 'unet', 'model.onnx'), dstModel, {
    calibration: npz.path,
    method: recipe.method,
    methodOptions: recipeMethodOptions(recipe),
    policy,
    rangesPath: path.join(calibDir, 'ranges.json'),
    calibrationJsonPath: path.join(calibDir, 'calibration.json'),
    threads: options.threads,
    onProgress: (p) => options.onProgress?.({ task: `INT8 UNet ${p.phase}`, done: p.done, total: p.total }),
  });
  const fast = policy.floatOutputNodes === FAST_UNET_INT8_POLICY.floatOutputNodes ? ', MatMul outputs float (FAST layout)' : '';
  const sdxl = info.family === 'sdxl' ? ` (SDXL recipe: conv_shortcut and add_embedding float too, layout for its ${info.sampleSize ?? SDXL_LATENT_SIDE}x${info.sampleSize ?? SDXL_LATENT_SIDE} latents)` : '';
  return [
    `INT8: UNet calibrated (${recipe.method}) on ${npz.sets} UNet input sets from ${npz.generations} FP32 generations of ${recipe.steps} steps; ` +
      `${result.report.quantizedNodes.length} nodes quantized (${(policy.opTypes ?? []).join('/')}, ${policy.activationType} activations, per-channel weights${fast}), ` +
      `${result.report.skippedNodes.length} kept in float${sdxl}` +
      `${result.fusedAttention > 0 ? `; ${result.fusedAttention} attention blocks fused into onnxruntime's MultiHeadAttention` : ''}; text encoder and VAE decoder FP32`,
  ];
}

export interface CalibrateOptions {
  /** Default: the recipe's calibration prompts (calibrationPrompts). */
  prompts?: readonly string[];
  /** Default: the recipe's (DEFAULT_INT8_RECIPE.method), with RECIPE_METHOD_OPTIONS. */
  method?: CalibrationMethod;
  samples?: number;
  steps?: number;
  guidance?: number;
  seed?: number;
  size?: { width: number; height: number };
  threads?: number;
  /** Where the capture generations run (default cpu). */
  device?: Device;
  /** TensorRT version the calibration cache header is for (default 10.16: TensorRT 11 takes no `--calib`). */
  trtVersion?: string;
  onProgress?: ProgressListener;
}

/** The newest TensorRT whose trtexec still reads an INT8 calibration cache (`--calib`); 11.x is strongly typed only. */
export const DEFAULT_CACHE_TRT_VERSION = '10.16';

/** What a calibration dir records about its UNet and generations (CALIBRATED_FOR): sdq quantize checks and reads it. */
export interface CalibratedFor {
  unet: string;
  sha256: string;
  /** Size of the calibration generations: sdq quantize picks the recipe's layout for it (int8PolicyFor). */
  width?: number;
  height?: number;
  method?: CalibrationMethod;
}

export async function readCalibratedFor(calibrationDir: string): Promise<CalibratedFor | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(calibrationDir, CALIBRATED_FOR), 'utf8')) as CalibratedFor;
  } catch {
    return undefined; // not a dir from sdq calibrate
  }
}

/** What one calibration computes, every default resolved: the same settings give the same ranges on any machine. */
export interface CalibrationSettings extends Omit<CaptureOptions, 'prompts' | 'onProgress'> {
  /** The prompts of the generations run (calibrationGenerations of the prompts given). */
  prompts: string[];
  method: CalibrationMethod;
}

export async function resolveCalibrationSettings(modelDir: string, options: CalibrateOptions): Promise<CalibrationSettings> {
  const side = await defaultSize(modelDir);
  const samples = options.samples ?? DEFAULT_INT8_RECIPE.samples;
  const steps = options.steps ?? DEFAULT_INT8_RECIPE.steps;
  const prompts = options.prompts ?? (await calibrationPrompts(modelDir, {}));
  return {
    prompts: calibrationGenerations(prompts, steps, samples), method: options.method ?? DEFAULT_INT8_RECIPE.method, samples,
    steps, guidance: options.guidance ?? DEFAULT_INT8_RECIPE.guidance, seed: options.seed ?? DEFAULT_INT8_RECIPE.seed,
    width: options.size?.width ?? side, height: options.size?.height ?? side, threads: options.threads ?? 2,
    ...(options.device !== undefined && { device: options.device }),
  };
}

/**
 * The tensors sdq quantize can use (insertQdq under the default layout; conv_in/conv_out/time embedding included so
 * that a layout quantizing them finds ranges): never attention scores, which do not fit in memory at 64x64 latents.
 */
export function calibrationRangeOptions(settings: Pick<CalibrationSettings, 'method' | 'threads'>, onProgress?: ProgressListener): CollectRangesOptions {
  return {
    ...RECIPE_METHOD_OPTIONS[settings.method], method: settings.method, policy: CALIBRATED_TENSORS_POLICY, threads: settings.threads,
    onProgress: (done, total) => onProgress?.({ task: `collect ranges (${settings.method})`, done, total }),
  };
}

/** How many prompts a calibration was given: the caller's, or the recipe's (before captureSchedule picks from them). */
export async function calibrationPromptCount(modelDir: string, options: Pick<CalibrateOptions, 'prompts'>): Promise<number> {
  return (options.prompts ?? (await calibrationPrompts(modelDir, {}))).length;
}

/** The UNet whose ranges a calibration dir holds. */
export function calibratedUnet(modelDir: string): string {
  return path.join(modelDir, 'unet', 'model.onnx');
}

/**
 * Write ranges.json, calibrated-for.json, calibration.json and TensorRT's calibration.cache into `dir` (a temp dir
 * that becomes the output). Returns the file names.
 */
export async function writeCalibrationFiles(
  dir: string,
  modelDir: string,
  ranges: RangesFile,
  settings: Pick<CalibrationSettings, 'width' | 'height' | 'method'>,
  trtVersion?: string,
): Promise<string[]> {
  await writeRangesJson(path.join(dir, 'ranges.json'), ranges);
  const unet = path.resolve(calibratedUnet(modelDir));
  const calibratedFor: CalibratedFor = { unet, sha256: await sha256File(unet), width: settings.width, height: settings.height, method: settings.method };
  await fs.writeFile(path.join(dir, CALIBRATED_FOR), `${JSON.stringify(calibratedFor, null, 2)}\n`);
  await writeCalibrationJson(path.join(dir, 'calibration.json'), ranges);
  // TensorRT's INT8 calibration cache (scale = amax/127 per tensor) for `trtexec --int8 --calib=` on TensorRT <= 10.
  const cache = calibrationCacheFromRanges(ranges.ranges, { trtVersion: parseTrtVersion(trtVersion ?? DEFAULT_CACHE_TRT_VERSION) });
  await fs.writeFile(path.join(dir, 'calibration.cache'), formatCalibrationCache(cache));
  return ['ranges.json', 'calibration.json', 'calibration.cache'];
}

/**
 * sdq calibrate: capture UNet inputs and compute activation ranges into `outDir`
 * (unet_inputs.npz, ranges.json, calibration.json, and TensorRT's calibration.cache). With no options it calibrates
 * exactly as the INT8 recipe does (same prompts, steps, samples, seed, size, method), so sdq quantize then gives
 * the recipe's model.
 */
export async function calibrateModelDir(
  modelDir: string,
  outDir: string,
  options: CalibrateOptions = {},
): Promise<{ outDir: string; sets: number; generations: number; tensors: number; method: CalibrationMethod; prompts: number; files: string[] }> {
  const settings = await resolveCalibrationSettings(modelDir, options);
  return writeDirAtomic(outDir, async (tmp) => {
    const npz = await captureCalibrationSet(modelDir, path.join(tmp, 'unet_inputs.npz'), { ...settings, onProgress: options.onProgress });
    const reader = await openCalibrationData(npz.path);
    let ranges;
    try {
      ranges = await collectRanges(calibratedUnet(modelDir), reader, calibrationRangeOptions(settings, options.onProgress));
    } finally {
      await reader.close();
    }
    const written = await writeCalibrationFiles(tmp, modelDir, ranges, settings, options.trtVersion);
    const files = ['unet_inputs.npz', ...written].map((f) => path.join(outDir, f));
    return { outDir, sets: npz.sets, generations: npz.generations, tensors: Object.keys(ranges.ranges).length, method: settings.method, prompts: await calibrationPromptCount(modelDir, options), files };
  });
}
