/** A Stable Diffusion model folder in the layout optimum exports (model_index.json + one folder per component). */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SdqError } from '@sdq/quant';
import { readModel, type ReadModelOptions } from './io.js';
import type { ModelProto } from './proto/types.js';

export interface ModelDirComponent {
  /** Folder name: 'text_encoder', 'unet', 'vae_decoder', 'vae_encoder', ... */
  name: string;
  dir: string;
  /** Path of the component's model.onnx. */
  path: string;
  /** Parsed config.json of the component, if present. */
  config: Record<string, unknown> | undefined;
  /** Reads the component's model (each call reads the file again; keep the result). */
  load(options?: ReadModelOptions): Promise<ModelProto>;
}

export interface ModelDir {
  dir: string;
  /** Parsed model_index.json, if present. */
  index: Record<string, unknown> | undefined;
  /** Components with a model.onnx, by folder name, in alphabetical order. */
  components: Record<string, ModelDirComponent>;
  /** Folders without a model.onnx (tokenizer, scheduler, ...). */
  otherFolders: string[];
}

/** The conventional component order of an SD pipeline (others follow alphabetically). */
export const SD_COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'] as const;

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch (e) {
    throw new SdqError('BAD_FORMAT', `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

export async function isModelDir(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Lists a model folder's components; models load lazily through `component.load()`. */
export async function readModelDir(dir: string): Promise<ModelDir> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SdqError('NOT_FOUND', `model folder ${dir} not found`, { cause: e });
    if (code === 'ENOTDIR') throw new SdqError('INVALID_ARGUMENT', `${dir} is a file, not a model folder; use readModel for a single .onnx file`, { cause: e });
    throw new SdqError('IO_ERROR', `reading ${dir} failed: ${(e as Error).message}`, { cause: e });
  }
  const index = await readJson(join(dir, 'model_index.json'));
  const components: Record<string, ModelDirComponent> = {};
  const otherFolders: string[] = [];
  const order = (n: string): number => {
    const i = (SD_COMPONENTS as readonly string[]).indexOf(n);
    return i < 0 ? SD_COMPONENTS.length : i;
  };
  for (const name of entries.sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const cdir = join(dir, name);
    const path = join(cdir, 'model.onnx');
    const isFile = await stat(path).then((s) => s.isFile(), () => false);
    if (!isFile) {
      otherFolders.push(name);
      continue;
    }
    components[name] = {
      name,
      dir: cdir,
      path,
      config: await readJson(join(cdir, 'config.json')),
      load: (options?: ReadModelOptions) => readModel(path, options),
    };
  }
  if (Object.keys(components).length === 0) {
    throw new SdqError('NOT_FOUND', `${dir} has no component folders with a model.onnx (expected the optimum layout: unet/model.onnx, text_encoder/model.onnx, ...)`);
  }
  return { dir, index, components, otherFolders };
}
