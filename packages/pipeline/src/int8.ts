// INT8: capture real UNet inputs from FP32 generations (@sdq/calib's capture over this package's generator),
// calibrate, and write a QDQ UNet with @sdq/calib's quantizeUnet and its default policy.
import type { Device } from '@sdq/diffusion';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  captureUnetInputs, quantizeUnet, collectRanges, openCalibrationData, writeRangesJson, writeCalibrationJson,
  DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, DEFAULT_UNET_CALIBRATION_METHOD, DEFAULT_UNET_METHOD_OPTIONS,
  type GenerateWithUnetHook, type QdqPolicyLike, type CalibrationMethod, type MethodOptions,
} from './calib-api.js';
import { calibrationCacheFromRanges, formatCalibrationCache, parseTrtVersion } from '@sdq/tensorrt';
import type { ProgressListener } from './progress.js';
import { openPipelineGenerator } from './runtime/diffusion-generator.js';
import { readPromptLanguage, fidelityPromptSet } from './fidelity.js';
import { checkModelDir } from './model-dir.js';
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

/** FP32 generations over the prompts; every k-th step's UNet inputs go to `npzPath` (at most `samples` sets). */
export async function captureCalibrationSet(modelDir: string, npzPath: string, options: CaptureOptions): Promise<{ path: string; sets: number; generations: number }> {
  const { promptIndices, every } = captureSchedule(options.prompts.length, options.steps, options.samples);
  const prompts = promptIndices.map((i) => options.prompts[i]!);
  let step = 0;
  let kept = 0;
  let hook: ((inputs: Parameters<Parameters<GenerateWithUnetHook>[2]>[0]) => void) | undefined;
  const generator = await openPipelineGenerator(modelDir, {
    scheduler: 'ddim',
    threads: options.threads,
    ...(options.device !== undefined && { device: options.device }),
    onUnetInputs: (f) => {
      if (step++ % every !== 0 || kept >= options.samples) return;
      kept++;
      hook?.(f);
    },
  });
  try {
    const generate: GenerateWithUnetHook = async (prompt, { seed }, onUnetInputs) => {
      hook = onUnetInputs;
      await generator.generate({ prompt, steps: options.steps, guidance: options.guidance, seed, width: options.width, height: options.height });
    };
    const r = await captureUnetInputs(npzPath, prompts, generate, {
      seed: options.seed,
      onProgress: (p) => options.onProgress?.({ task: 'capture UNet inputs', done: p.generation, total: p.generations, detail: `${p.sets} sets` }),
    });
    return { path: r.path, sets: r.sets, generations: r.generations };
  } finally {
    await generator.dispose();
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

async function defaultSize(modelDir: string): Promise<number> {
  return ((await checkModelDir(modelDir)).sampleSize ?? 64) * 8;
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
  const side = await defaultSize(modelDir);
  const calibDir = path.join(path.dirname(path.dirname(dstModel)), 'calibration');
  await fs.mkdir(calibDir, { recursive: true });
  await fs.mkdir(path.dirname(dstModel), { recursive: true });
  const prompts = await calibrationPrompts(modelDir, recipe);
  const width = recipe.size?.width ?? side;
  const height = recipe.size?.height ?? side;
  const policy = int8PolicyFor(Math.min(width, height) / 8, recipe.policy);
  const npz = await captureCalibrationSet(modelDir, path.join(calibDir, 'unet_inputs.npz'), {
    prompts, steps: recipe.steps, guidance: recipe.guidance, samples: recipe.samples, seed: recipe.seed,
    width, height, threads: options.threads, onProgress: options.onProgress,
  });
  // @sdq/calib reads the graph alone and lets onnxruntime read external weights from the model's folder, so UNets
  // with weight files over 2 GiB (SD 1.5: 3.4 GB) are calibrated in place.
  const result = await quantizeUnet(path.join(modelDir, 'unet', 'model.onnx'), dstModel, {
    calibration: npz.path,
    method: recipe.method,
    methodOptions: RECIPE_METHOD_OPTIONS[recipe.method],
    policy,
    rangesPath: path.join(calibDir, 'ranges.json'),
    calibrationJsonPath: path.join(calibDir, 'calibration.json'),
    threads: options.threads,
    onProgress: (p) => options.onProgress?.({ task: `INT8 UNet ${p.phase}`, done: p.done, total: p.total }),
  });
  const fast = policy.floatOutputNodes === FAST_UNET_INT8_POLICY.floatOutputNodes ? ', MatMul outputs float (FAST layout)' : '';
  return [
    `INT8: UNet calibrated (${recipe.method}) on ${npz.sets} UNet input sets from ${npz.generations} FP32 generations of ${recipe.steps} steps; ` +
      `${result.report.quantizedNodes.length} nodes quantized (${(policy.opTypes ?? []).join('/')}, ${policy.activationType} activations, per-channel weights${fast}), ` +
      `${result.report.skippedNodes.length} kept in float` +
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
  const side = await defaultSize(modelDir);
  const method = options.method ?? DEFAULT_INT8_RECIPE.method;
  const prompts = options.prompts ?? (await calibrationPrompts(modelDir, {}));
  const width = options.size?.width ?? side;
  const height = options.size?.height ?? side;
  return writeDirAtomic(outDir, async (tmp) => {
    const npz = await captureCalibrationSet(modelDir, path.join(tmp, 'unet_inputs.npz'), {
      prompts, steps: options.steps ?? DEFAULT_INT8_RECIPE.steps, guidance: options.guidance ?? DEFAULT_INT8_RECIPE.guidance,
      samples: options.samples ?? DEFAULT_INT8_RECIPE.samples, seed: options.seed ?? DEFAULT_INT8_RECIPE.seed,
      width, height, threads: options.threads ?? 2, onProgress: options.onProgress,
      ...(options.device !== undefined && { device: options.device }),
    });
    const reader = await openCalibrationData(npz.path);
    let ranges;
    try {
      // The tensors sdq quantize can use (insertQdq under the default layout; conv_in/conv_out/time embedding included
      // so that a layout quantizing them finds ranges): never attention scores, which do not fit in memory at 64x64 latents.
      ranges = await collectRanges(path.join(modelDir, 'unet', 'model.onnx'), reader, {
        ...RECIPE_METHOD_OPTIONS[method],
        method,
        policy: CALIBRATED_TENSORS_POLICY,
        threads: options.threads ?? 2,
        onProgress: (done, total) => options.onProgress?.({ task: `collect ranges (${method})`, done, total }),
      });
    } finally {
      await reader.close();
    }
    await writeRangesJson(path.join(tmp, 'ranges.json'), ranges);
    const unet = path.resolve(modelDir, 'unet', 'model.onnx');
    const calibratedFor: CalibratedFor = { unet, sha256: await sha256File(unet), width, height, method };
    await fs.writeFile(path.join(tmp, CALIBRATED_FOR), `${JSON.stringify(calibratedFor, null, 2)}\n`);
    await writeCalibrationJson(path.join(tmp, 'calibration.json'), ranges);
    // TensorRT's INT8 calibration cache (scale = amax/127 per tensor) for `trtexec --int8 --calib=` on TensorRT <= 10.
    const cache = calibrationCacheFromRanges(ranges.ranges, { trtVersion: parseTrtVersion(options.trtVersion ?? DEFAULT_CACHE_TRT_VERSION) });
    await fs.writeFile(path.join(tmp, 'calibration.cache'), formatCalibrationCache(cache));
    const files = ['unet_inputs.npz', 'ranges.json', 'calibration.json', 'calibration.cache'].map((f) => path.join(outDir, f));
    return { outDir, sets: npz.sets, generations: npz.generations, tensors: Object.keys(ranges.ranges).length, method, prompts: prompts.length, files };
  });
}
