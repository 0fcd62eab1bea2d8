// INT8 UNet: capture real UNet inputs from FP32 generations, calibrate, write a QDQ UNet.
import { DataType, SdqError } from '@sdq/quant';
import { makeTensor, type Feeds } from '@sdq/calib';
import type { ProgressListener } from './progress.js';
import { openOrtGenerator } from './runtime/ort-generator.js';
import { readPromptLanguage, fidelityPromptSet } from './fidelity.js';
import { checkModelDir } from './model-dir.js';

export interface Int8Recipe {
  /** Calibration prompts; default: 8 prompts of the model's language (shapes-sd) or generic prompts. */
  prompts?: string[];
  /** Denoising steps per calibration generation. */
  steps: number;
  guidance: number;
  /** Keep at most this many UNet input sets (spread evenly over steps and prompts). */
  samples: number;
  method: 'minmax' | 'percentile' | 'entropy';
  seed: number;
}

export const DEFAULT_INT8_RECIPE: Int8Recipe = { steps: 10, guidance: 5, samples: 40, method: 'minmax', seed: 1234 };

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
export async function calibrationPrompts(modelDir: string, recipe: Int8Recipe): Promise<string[]> {
  if (recipe.prompts?.length) return recipe.prompts;
  const language = await readPromptLanguage(modelDir);
  if (!language) return GENERIC_CALIBRATION_PROMPTS;
  const held = new Set(fidelityPromptSet(language, 12));
  const colours = Object.keys(language.colours);
  const out: string[] = [];
  // Walk the language in a different order than the fidelity set, skipping its prompts.
  for (let i = 0; out.length < 8 && i < colours.length * colours.length * language.shapes.length; i++) {
    const fg = colours[(i * 5) % colours.length];
    const bg = colours[(i * 3 + 2) % colours.length];
    const shape = language.shapes[(i * 2) % language.shapes.length];
    const p = `a ${fg} ${shape} on a ${bg} background`;
    if (fg !== bg && !held.has(p) && !out.includes(p)) out.push(p);
  }
  return out;
}

/** Run the FP32 pipeline over the prompts and keep UNet inputs (CFG batch of 2 per step) as calibration feeds. */
export async function captureUnetInputs(
  modelDir: string,
  recipe: Int8Recipe,
  options: { threads: number; width: number; height: number; onProgress?: ProgressListener },
): Promise<Feeds[]> {
  const prompts = await calibrationPrompts(modelDir, recipe);
  const total = prompts.length * recipe.steps;
  const every = Math.max(1, Math.floor(total / recipe.samples));
  const feeds: Feeds[] = [];
  let seen = 0;
  const generator = await openOrtGenerator(modelDir, {
    scheduler: 'ddim',
    threads: options.threads,
    onUnetInputs: (f) => {
      if (seen++ % every !== 0 || feeds.length >= recipe.samples) return;
      feeds.push({
        sample: makeTensor(DataType.FLOAT, f.sample.dims, f.sample.data, 'sample'),
        timestep: makeTensor(DataType.FLOAT, f.timestep.dims, f.timestep.data, 'timestep'),
        encoder_hidden_states: makeTensor(DataType.FLOAT, f.encoder_hidden_states.dims, f.encoder_hidden_states.data, 'encoder_hidden_states'),
      });
    },
  });
  try {
    let i = 0;
    for (const prompt of prompts) {
      await generator.generate({ prompt, negativePrompt: '', steps: recipe.steps, guidance: recipe.guidance, seed: recipe.seed + i, width: options.width, height: options.height });
      options.onProgress?.({ task: 'capture UNet inputs', done: ++i, total: prompts.length, detail: `${feeds.length} sets` });
    }
  } finally {
    await generator.dispose();
  }
  return feeds;
}

/** Whether this build can make INT8 model dirs (needs @sdq/calib's range collection). */
export const INT8_AVAILABLE = false;

/**
 * Quantize `<modelDir>/unet` to a QDQ INT8 UNet at `dstModel`; returns notes for the report.
 * Other components stay FP32 (measured faster than FP16 on CPUs without native FP16 arithmetic).
 */
export async function quantizeUnetInt8(
  modelDir: string,
  dstModel: string,
  recipe: Int8Recipe,
  options: { threads: number; onProgress?: ProgressListener },
): Promise<string[]> {
  await checkModelDir(modelDir);
  void dstModel;
  void recipe;
  void options;
  throw new SdqError('UNSUPPORTED', 'INT8 model dirs need range collection from @sdq/calib, which this build does not have yet; bench with --precisions fp32,fp16');
}
