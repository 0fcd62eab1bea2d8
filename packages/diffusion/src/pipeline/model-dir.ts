import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SdqError } from '@sdq/quant';

/** The optimum ONNX layout a Stable Diffusion model dir has (optimum-cli export onnx --task text-to-image). */
export const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Throws a NOT_FOUND naming what is missing unless `dir` has every component folder. */
export function checkModelDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SdqError('NOT_FOUND', `model dir ${dir} does not exist; pass a Stable Diffusion ONNX export (optimum layout)`);
  }
  const missing = COMPONENTS.filter((c) => !existsSync(join(dir, c)));
  if (missing.length > 0) {
    throw new SdqError(
      'NOT_FOUND',
      `model dir ${dir} has no ${missing.map((m) => `${m}/`).join(', ')} folder; expected the optimum layout ` +
        `(${COMPONENTS.join('/, ')}/), e.g. from \`optimum-cli export onnx --model <id> --task text-to-image <dir>\``,
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
