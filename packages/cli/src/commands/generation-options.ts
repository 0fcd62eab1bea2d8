// What `sdq generate` and `sdq bench` both take to generate an image: the model dir (default: the bundled
// shapes-sd), prompt, negative prompt, steps, scheduler, guidance, seed, size and threads, with one set of defaults.
import * as path from 'node:path';
import { checkModelDir, defaultImageSide, generationWarnings, imageSizeProblem, readPromptLanguage, SCHEDULERS, DEVICES, type Device, type ModelDirInfo, type SizeConditioning } from '@sdq/pipeline';
import type { CommandContext } from '../command.js';
import { type OptionSpec, type OptionValues, UsageError, choiceOption, floatOption, intOption, pixelSizeOption, sizeOption, stringOption, topLeftOption } from '../usage.js';
import { defaultModelDir } from '../fixtures.js';

export const SHAPES_DEFAULT_PROMPT = 'a red circle on a blue background';
export const GENERIC_DEFAULT_PROMPT = 'a cat on a sofa';

export const GENERATION_OPTIONS = {
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  steps: { type: 'string' },
  scheduler: { type: 'string' },
  guidance: { type: 'string' },
  seed: { type: 'string' },
  size: { type: 'string' },
  threads: { type: 'string' },
  device: { type: 'string' },
} as const satisfies OptionSpec;

export interface GenerationSettings {
  modelDir: string;
  info: Awaited<ReturnType<typeof checkModelDir>>;
  /** The model's prompt language (TRAINING.json), if it has one. */
  language: Awaited<ReturnType<typeof readPromptLanguage>>;
  prompt: string;
  /** Undefined when not given (SDXL then uses zero unconditional embeddings, as diffusers does). */
  negativePrompt: string | undefined;
  steps: number;
  scheduler: string;
  /** Default 5 for a model with a prompt language (shapes-sd was trained for it), else 7.5. */
  guidance: number;
  seed: number;
  width: number;
  height: number;
  threads: number | undefined;
  /** --device: cpu (default), webgpu or cuda. */
  device: Device;
  /** Why the image will not show the prompt (random weights, a prompt outside the model's language). */
  warnings: string[];
}

/** A --size the model cannot generate is a usage error naming the sizes that work (checked before any work). */
export function checkSizeFits(info: ModelDirInfo, width: number, height: number, command: string): void {
  const problem = imageSizeProblem(info, width, height);
  if (problem) throw new UsageError(`--size ${problem}`, command);
}

/** Reads and checks the generation options; the image size defaults to the UNet's sample size x 8. */
export async function readGenerationSettings(
  values: OptionValues,
  modelArg: string | undefined,
  cwd: string,
  command: string,
  defaultSteps: number,
): Promise<GenerationSettings> {
  const steps = intOption(values, 'steps', command, 1) ?? defaultSteps;
  const seed = intOption(values, 'seed', command, 0) ?? 42;
  const threads = intOption(values, 'threads', command, 1);
  const guidanceArg = floatOption(values, 'guidance', command);
  const size = sizeOption(values, command);
  const scheduler = stringOption(values, 'scheduler') ?? 'ddim';
  if (!(scheduler in SCHEDULERS)) throw new UsageError(`--scheduler must be one of ${Object.keys(SCHEDULERS).join(', ')}, got "${scheduler}"`, command);
  const modelDir = path.resolve(cwd, modelArg ?? defaultModelDir(cwd));
  const info = await checkModelDir(modelDir);
  const language = await readPromptLanguage(modelDir);
  const side = defaultImageSide(info);
  const { width, height } = size ?? { width: side, height: side };
  checkSizeFits(info, width, height, command);
  const prompt = stringOption(values, 'prompt') ?? (language ? SHAPES_DEFAULT_PROMPT : GENERIC_DEFAULT_PROMPT);
  return {
    modelDir,
    info,
    language,
    prompt,
    negativePrompt: stringOption(values, 'negative-prompt'),
    steps,
    scheduler,
    guidance: guidanceArg ?? (language ? 5 : 7.5),
    seed,
    width,
    height,
    threads,
    device: readDevice(values, command),
    warnings: await generationWarnings(modelDir, prompt, language),
  };
}

/** Warnings go to stderr before the work starts (people see them; --json carries them in the result too). */
export function printWarnings(warnings: readonly string[], ctx: CommandContext, command: string): void {
  for (const w of warnings) ctx.io.stderr(`sdq ${command}: warning: ${w}\n`);
}

/** --device cpu|webgpu|cuda (default cpu). */
export function readDevice(values: OptionValues, command: string): Device {
  return choiceOption(values, 'device', DEVICES, command) ?? 'cpu';
}

export const DEVICE_HELP = `  --device D            where onnxruntime runs: cpu (default), webgpu (the GPU through onnxruntime-node's
                        bundled WebGPU provider; needs a Vulkan driver) or cuda (onnxruntime-node's
                        CUDA provider, installed separately); a missing device is an error, never a CPU run`;

/** SDXL's size conditioning flags (sdq generate), diffusers' argument names: they make the UNet's time_ids. */
export const SIZE_CONDITIONING_OPTIONS = {
  'original-size': { type: 'string' },
  'crops-coords-top-left': { type: 'string' },
  'target-size': { type: 'string' },
  'negative-original-size': { type: 'string' },
  'negative-crops-coords-top-left': { type: 'string' },
  'negative-target-size': { type: 'string' },
} as const satisfies OptionSpec;

export const SIZE_CONDITIONING_HELP = `SDXL size conditioning (diffusers' original_size, crops_coords_top_left, target_size and their negative_*
ones: the UNet's time_ids; SDXL dirs only):
  --original-size WxH    the source size the image is conditioned on (default: the image size)
  --crops-coords-top-left TOP,LEFT
                         the crop's top-left corner in pixels (default 0,0)
  --target-size WxH      (default: the image size)
  --negative-original-size WxH
  --negative-target-size WxH
                         the unconditional half's sizes, both or neither (left out, it repeats the ones
                         above); e.g. 512x512 and the image size steer away from low-resolution looks
  --negative-crops-coords-top-left TOP,LEFT
                         the unconditional half's crop (default 0,0; with both negative sizes)`;

/**
 * Reads the size conditioning flags (undefined when none is given). Usage errors: any on an SD 1.x/2.x dir, a lone
 * negative size (diffusers would drop it). A warning when the negative ones cannot act (no unconditional pass).
 */
export function readSizeConditioning(
  values: OptionValues,
  g: Pick<GenerationSettings, 'info' | 'guidance' | 'width' | 'height'>,
  command: string,
): { sizeConditioning: SizeConditioning | undefined; warnings: string[] } {
  const given = Object.keys(SIZE_CONDITIONING_OPTIONS).filter((flag) => values[flag] !== undefined);
  if (given.length === 0) return { sizeConditioning: undefined, warnings: [] };
  const sizeConditioning: SizeConditioning = {
    originalSize: pixelSizeOption(values, 'original-size', command),
    cropsCoordsTopLeft: topLeftOption(values, 'crops-coords-top-left', command),
    targetSize: pixelSizeOption(values, 'target-size', command),
    negativeOriginalSize: pixelSizeOption(values, 'negative-original-size', command),
    negativeCropsCoordsTopLeft: topLeftOption(values, 'negative-crops-coords-top-left', command),
    negativeTargetSize: pixelSizeOption(values, 'negative-target-size', command),
  };
  if (g.info.family !== 'sdxl') {
    throw new UsageError(`--${given[0]} is SDXL size conditioning (the UNet's time_ids); ${g.info.dir} is an SD 1.x/2.x model dir`, command);
  }
  const negatives = given.filter((flag) => flag.startsWith('negative-'));
  const missing = ['negative-original-size', 'negative-target-size'].filter((flag) => !given.includes(flag));
  if (negatives.length > 0 && missing.length > 0) {
    throw new UsageError(
      `--${negatives.join(' and --')} needs --${missing.join(' and --')} too (diffusers uses the negative size conditioning only when both sizes are given)` +
        (missing.includes('negative-target-size') ? `; the usual --negative-target-size is the image size, ${g.width}x${g.height}` : ''),
      command,
    );
  }
  const warnings = negatives.length > 0 && g.guidance <= 1 ? [`--${negatives.join(', --')} change nothing at --guidance ${g.guidance} (no unconditional pass)`] : [];
  return { sizeConditioning, warnings };
}
