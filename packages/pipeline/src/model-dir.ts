// The optimum model-dir layout: checks with one-line errors that name the missing piece and the fix.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { type ModelFamily, readModelIndex } from '@sdq/diffusion';
import { sizeOnDisk } from './fs-atomic.js';

/** ONNX components a text-to-image run needs. */
export const ONNX_COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;
export type OnnxComponent = (typeof ONNX_COMPONENTS)[number];
/** ONNX components of some families (SDXL's text_encoder_2) or unused by text-to-image (vae_encoder): converted along when present. */
export const OPTIONAL_ONNX_COMPONENTS = ['text_encoder_2', 'vae_encoder'] as const;
/** Non-ONNX folders copied verbatim between model dirs. */
export const CONFIG_FOLDERS = ['tokenizer', 'scheduler'] as const;

const LAYOUT_HINT =
  'a Stable Diffusion ONNX export in optimum layout (model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/)';

export interface ModelDirInfo {
  dir: string;
  name: string;
  /** model.onnx path per required component */
  models: Record<OnnxComponent, string>;
  /** UNet sample_size from unet/config.json (latent side), when present. */
  sampleSize: number | undefined;
  /** SD 1.x/2.x or SDXL (model_index.json); SDXL dirs also have text_encoder_2/ and tokenizer_2/. */
  family: ModelFamily;
}

async function statOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

/** Verify `dir` is a usable model dir; throws SdqError NOT_FOUND/BAD_FORMAT naming what is missing. */
export async function checkModelDir(dir: string): Promise<ModelDirInfo> {
  const st = await statOrUndefined(dir);
  if (!st) throw new SdqError('NOT_FOUND', `model dir ${dir} does not exist; pass ${LAYOUT_HINT}`);
  if (!st.isDirectory()) {
    throw new SdqError('BAD_FORMAT', `${dir} is a file, not a model dir; pass ${LAYOUT_HINT}`);
  }
  const models = {} as Record<OnnxComponent, string>;
  for (const component of ONNX_COMPONENTS) {
    const modelPath = path.join(dir, component, 'model.onnx');
    const mst = await statOrUndefined(modelPath);
    if (!mst?.isFile()) {
      throw new SdqError('NOT_FOUND', `model dir ${dir} has no ${component}/model.onnx; re-export the model (optimum-cli export onnx) or copy the ${component} folder in`);
    }
    if (mst.size === 0) {
      throw new SdqError('BAD_FORMAT', `${modelPath} is empty; re-export or re-copy the ${component} component`);
    }
    models[component] = modelPath;
  }
  const { family } = readModelIndex(dir);
  if (family === 'sdxl' && !(await statOrUndefined(path.join(dir, 'text_encoder_2', 'model.onnx')))?.isFile()) {
    throw new SdqError('NOT_FOUND', `model dir ${dir} has no text_encoder_2/model.onnx, which its model_index.json (an SDXL pipeline) needs; copy the text_encoder_2 folder in`);
  }
  const configFiles = [['tokenizer', ['vocab.json', 'merges.txt']], ['scheduler', ['scheduler_config.json']], ...(family === 'sdxl' ? [['tokenizer_2', ['vocab.json', 'merges.txt']] as const] : [])] as const;
  for (const [folder, files] of configFiles) {
    for (const f of files) {
      if (!(await statOrUndefined(path.join(dir, folder, f)))?.isFile()) {
        throw new SdqError('NOT_FOUND', `model dir ${dir} has no ${folder}/${f}; copy the ${folder} folder from the original model`);
      }
    }
  }
  let sampleSize: number | undefined;
  try {
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'unet', 'config.json'), 'utf8')) as { sample_size?: number };
    if (typeof cfg.sample_size === 'number') sampleSize = cfg.sample_size;
  } catch {
    sampleSize = undefined;
  }
  return { dir, name: path.basename(path.resolve(dir)), models, sampleSize, family };
}

/** Bytes on disk of the ONNX components (model.onnx + external data) a generation loads. */
export async function modelBytes(dir: string): Promise<number> {
  let total = 0;
  for (const component of [...ONNX_COMPONENTS, 'text_encoder_2']) {
    if (await statOrUndefined(path.join(dir, component))) total += await sizeOnDisk(path.join(dir, component));
  }
  // Configs are in the component folders too, but they are a few KB; count the folder as a user sees it on disk.
  return total;
}
