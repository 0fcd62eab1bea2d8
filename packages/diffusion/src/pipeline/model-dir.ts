import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SdqError } from '@sdq/quant';

/** The optimum ONNX layout a Stable Diffusion model dir has (optimum-cli export onnx --task text-to-image). */
export const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'scheduler'] as const;
/** SDXL adds a second tokenizer and text encoder (OpenCLIP bigG with a projection). */
export const SDXL_COMPONENTS = [...COMPONENTS, 'text_encoder_2', 'tokenizer_2'] as const;
export type Component = (typeof SDXL_COMPONENTS)[number];

/** Model families with their own prompt encoding: SD 1.x/2.x (one CLIP encoder) and SDXL (two, plus added conditioning). */
export type ModelFamily = 'sd' | 'sdxl';

/** What model_index.json says about a dir: its family and SDXL's force_zeros_for_empty_prompt (diffusers' default true). */
export interface ModelIndex {
  family: ModelFamily;
  className: string | null;
  forceZerosForEmptyPrompt: boolean;
}

/**
 * Reads the family from model_index.json: an SDXL pipeline class (`StableDiffusionXLPipeline`,
 * `ORTStableDiffusionXLPipeline`) or a `text_encoder_2` entry; without model_index.json, a text_encoder_2/ folder.
 */
export function readModelIndex(dir: string): ModelIndex {
  const index = readOptionalJson(join(dir, 'model_index.json'));
  const className = typeof index['_class_name'] === 'string' ? index['_class_name'] : null;
  const listed = Object.keys(index).length > 0;
  const sdxl = listed ? /XL/.test(className ?? '') || Array.isArray(index['text_encoder_2']) : existsSync(join(dir, 'text_encoder_2'));
  const force = index['force_zeros_for_empty_prompt'];
  return { family: sdxl ? 'sdxl' : 'sd', className, forceZerosForEmptyPrompt: typeof force === 'boolean' ? force : true };
}

/** Throws a NOT_FOUND naming what is missing unless `dir` has every component folder of its family. */
export function checkModelDir(dir: string, family: ModelFamily = 'sd'): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SdqError('NOT_FOUND', `model dir ${dir} does not exist; pass a Stable Diffusion ONNX export (optimum layout)`);
  }
  const components: readonly Component[] = family === 'sdxl' ? SDXL_COMPONENTS : COMPONENTS;
  const missing = components.filter((c) => !existsSync(join(dir, c)));
  if (missing.length > 0) {
    throw new SdqError(
      'NOT_FOUND',
      `model dir ${dir} has no ${missing.map((m) => `${m}/`).join(', ')} folder; expected the optimum layout ` +
        `(${components.join('/, ')}/${family === 'sdxl' ? ', as model_index.json names an SDXL pipeline' : ''}), ` +
        `e.g. from \`optimum-cli export onnx --model <id> --task text-to-image <dir>\``,
    );
  }
}

/** Path of a component's ONNX file (`model.onnx` unless `file` names another one inside the folder). */
export function componentModelPath(dir: string, component: Component, file = 'model.onnx'): string {
  const path = join(dir, component, file);
  if (!existsSync(path)) {
    throw new SdqError('NOT_FOUND', `${path} is missing; the ${component}/ folder of ${dir} must hold ${file}`);
  }
  return path;
}

/** Reads a JSON file that must exist. */
export function readJsonFile(path: string, what: string): Record<string, unknown> {
  if (!existsSync(path)) throw new SdqError('NOT_FOUND', `${path} is missing (${what})`);
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new SdqError('BAD_FORMAT', `${path} is not a valid JSON object (${what}): ${(e as Error).message}`);
  }
}

/** Reads a JSON file if present. */
export function readOptionalJson(path: string): Record<string, unknown> {
  return existsSync(path) ? readJsonFile(path, 'optional config') : {};
}
