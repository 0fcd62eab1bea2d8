/**
 * SD-shaped synthetic models: build the three components in memory, or write a full optimum-layout model dir
 * (weights streamed to the UNet's external data file, so even the sd15 preset never sits in the JS heap).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError } from '@sdq/quant';
import { encodeModel } from '../../proto/model.js';
import type { ModelProto } from '../../proto/types.js';
import { ExternalDataWriter } from '../external-data-writer.js';
import { type SdConfig, type SdPresetName, resolveSdConfig } from './config.js';
import { familyJson, textEncoderConfigJson, unetConfigJson, vaeDecoderConfigJson, MODEL_FACTS_FILE, type ModelFacts } from './config-json.js';
import type { SdBuildOptions } from './options.js';
import { buildTextEncoder } from './text-encoder.js';
import { buildUnet } from './unet.js';
import { buildVaeDecoder } from './vae-decoder.js';

export interface SdComponents {
  textEncoder: ModelProto;
  /** SDXL's text_encoder_2 (configs with textEncoder2). */
  textEncoder2?: ModelProto;
  unet: ModelProto;
  vaeDecoder: ModelProto;
}

/** Weights are inline in each model (use writeSdModelDir for big presets). `weights: 'shape-only'` for structure only. */
export function buildSdComponents(presetOrConfig: SdPresetName | SdConfig, options: Omit<SdBuildOptions, 'externalData'> = {}): SdComponents {
  const config = resolveSdConfig(presetOrConfig);
  return {
    textEncoder: buildTextEncoder(config.textEncoder, options),
    ...(config.textEncoder2 && { textEncoder2: buildTextEncoder(config.textEncoder2, textEncoder2Options(options)) }),
    unet: buildUnet(config.unet, options),
    vaeDecoder: buildVaeDecoder(config.vaeDecoder, options),
  };
}

/** SDXL's second text encoder: its own graph name, and its own weights where both encoders have one shape (tiny-sdxl). */
function textEncoder2Options<T extends SdBuildOptions>(options: T): T {
  return { ...options, graphName: 'text_encoder_2', seed: (options.seed ?? 0) + 1 };
}

export interface WriteSdModelDirOptions extends Omit<SdBuildOptions, 'externalData' | 'weights'> {
  /** Folder with vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json. Default: the repo's
   *  fixtures/models/tiny-sd/tokenizer (found by walking up from this module and from the working directory). */
  tokenizerDir?: string;
  /** Components whose weights reach this many bytes are written with external data (the UNet always is, as in the
   *  fixtures). Default 256 MiB. */
  externalDataThreshold?: number;
  /** Replace an existing folder. Default false (error if it exists). */
  overwrite?: boolean;
  /**
   * Progress in weight bytes: `done` of `total` (all three components' parameters x 4), `component` the one being
   * built (undefined once all are written). Called as each component starts, per 4 MiB of external weights
   * streamed, and at the end: the build is synchronous, so this is the only sign of life of a multi-GB one.
   */
  onProgress?: (done: number, total: number, component: string | undefined) => void;
}

/** Summary of a written model dir. */
export interface SdModelDirSummary {
  dir: string;
  parameters: { textEncoder: number; textEncoder2?: number; unet: number; vaeDecoder: number };
  files: string[];
}

const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

/**
 * Write model_index.json, text_encoder/, unet/ (model.onnx + weights.pb), vae_decoder/, tokenizer/, scheduler/ (SDXL:
 * also text_encoder_2/ and tokenizer_2/, which pads with `!`). Components go one at a time, their weights streamed to
 * external data when large, so memory stays bounded by the biggest graph (without weights). Everything goes to
 * `<dir>.tmp-<pid>` first and is renamed at the end.
 */
export function writeSdModelDir(dir: string, presetOrConfig: SdPresetName | SdConfig, options: WriteSdModelDirOptions = {}): SdModelDirSummary {
  const config = resolveSdConfig(presetOrConfig);
  const target = resolve(dir);
  if (existsSync(target) && !options.overwrite) {
    throw new SdqError('INVALID_ARGUMENT', `${target} already exists; pass overwrite: true or choose a new folder`);
  }
  const tokenizerDir = options.tokenizerDir ?? findFixtureTokenizer();
  for (const f of TOKENIZER_FILES) {
    if (!existsSync(join(tokenizerDir, f))) throw new SdqError('NOT_FOUND', `tokenizer file ${join(tokenizerDir, f)} is missing; pass tokenizerDir`);
  }
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const threshold = options.externalDataThreshold ?? 256 * 1024 * 1024;
  const files: string[] = [];
  try {
    const sub = (name: string): string => {
      mkdirSync(join(tmp, name), { recursive: true });
      return join(tmp, name);
    };
    const writeJson = (rel: string, value: unknown): void => {
      writeFileSync(join(tmp, rel), `${JSON.stringify(value, null, 2)}\n`);
      files.push(rel);
    };
    const build = { ...options };
    const parameters: SdModelDirSummary['parameters'] = { textEncoder: 0, unet: 0, vaeDecoder: 0 };
    const te2 = config.textEncoder2;
    // Cheap structural builds size every component (and decide inline vs external) before any weight is generated.
    const makers: Record<string, (o: SdBuildOptions) => ModelProto> = {
      text_encoder: (o) => buildTextEncoder(config.textEncoder, o),
      ...(te2 ? { text_encoder_2: (o: SdBuildOptions) => buildTextEncoder(te2, textEncoder2Options(o)) } : {}),
      unet: (o) => buildUnet(config.unet, o),
      vae_decoder: (o) => buildVaeDecoder(config.vaeDecoder, o),
    };
    const counts: Record<string, number> = Object.fromEntries(Object.entries(makers).map(([name, make]) => [name, parameterCount(make({ ...build, weights: 'shape-only' }))]));
    const totalBytes = Object.values(counts).reduce((a, b) => a + b, 0) * 4;
    let doneBytes = 0;
    const component = (name: string, forceExternal: boolean): number => {
      const make = makers[name]!;
      options.onProgress?.(doneBytes, totalBytes, name);
      const folder = sub(name);
      const count = counts[name] ?? 0;
      const external = forceExternal || count * 4 >= threshold;
      let model: ModelProto;
      if (external) {
        const base = doneBytes;
        const writer = new ExternalDataWriter(folder, 'weights.pb', { onWrite: (written) => options.onProgress?.(base + Math.min(written, count * 4), totalBytes, name) });
        try {
          model = make({ ...build, externalData: writer });
          writer.commit();
        } catch (e) {
          writer.abort();
          throw e;
        }
        files.push(`${name}/weights.pb`);
      } else {
        model = make(build);
      }
      writeFileSync(join(folder, 'model.onnx'), encodeModel(model));
      files.push(`${name}/model.onnx`);
      doneBytes += count * 4;
      return count;
    };
    parameters.textEncoder = component('text_encoder', false);
    writeJson('text_encoder/config.json', textEncoderConfigJson(config.textEncoder));
    if (te2) {
      parameters.textEncoder2 = component('text_encoder_2', false);
      writeJson('text_encoder_2/config.json', textEncoderConfigJson(te2));
    }
    parameters.unet = component('unet', true);
    writeJson('unet/config.json', unetConfigJson(config.unet));
    parameters.vaeDecoder = component('vae_decoder', false);
    writeJson('vae_decoder/config.json', vaeDecoderConfigJson(config.vaeDecoder));
    sub('tokenizer');
    for (const f of TOKENIZER_FILES) {
      copyFileSync(join(tokenizerDir, f), join(tmp, 'tokenizer', f));
      files.push(`tokenizer/${f}`);
    }
    if (te2) {
      // SDXL's tokenizer_2 is CLIP's with `!` (id 0) as the pad token
      sub('tokenizer_2');
      for (const f of TOKENIZER_FILES) {
        if (f.endsWith('.json') && f !== 'vocab.json') writeJson(`tokenizer_2/${f}`, { ...(JSON.parse(readFileSync(join(tokenizerDir, f), 'utf8')) as object), pad_token: '!' });
        else {
          copyFileSync(join(tokenizerDir, f), join(tmp, 'tokenizer_2', f));
          files.push(`tokenizer_2/${f}`);
        }
      }
    }
    const family = familyJson(config);
    sub('scheduler');
    writeJson('scheduler/scheduler_config.json', family.scheduler);
    writeJson('model_index.json', family.modelIndex);
    writeJson(MODEL_FACTS_FILE, { weights: 'random', note: 'seeded random weights from sdq\'s graph builder: images are noise whatever the prompt' } satisfies ModelFacts);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    options.onProgress?.(totalBytes, totalBytes, undefined);
    return { dir: target, parameters, files: files.sort() };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Parameter count of a model: sum of its initializers' element counts. */
export function parameterCount(model: ModelProto): number {
  let n = 0;
  for (const t of model.graph?.initializer ?? []) n += t.dims.reduce((a, d) => a * d, 1);
  return n;
}

function findFixtureTokenizer(): string {
  const rel = join('fixtures', 'models', 'tiny-sd', 'tokenizer');
  const starts = [process.cwd()];
  try {
    starts.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // not a file URL (bundled); the working directory is still searched
  }
  for (const start of starts) {
    for (let d = start; ; d = dirname(d)) {
      if (existsSync(join(d, rel, 'vocab.json'))) return join(d, rel);
      if (dirname(d) === d) break;
    }
  }
  throw new SdqError('NOT_FOUND', `cannot find ${rel} above ${starts.join(' or ')}; pass tokenizerDir (a CLIP tokenizer folder)`);
}
