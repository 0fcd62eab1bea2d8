// Prompt encoding per model family: each turns a request's prompts into the UNet's conditioning inputs (by role:
// encoder_hidden_states, and for SDXL text_embeds and time_ids), in the classifier-free-guidance batch order the
// denoising loop runs ([uncond x n, cond x n], or [cond x n] without guidance).
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { SdqError } from '@sdq/quant';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.js';
import type { TextEncoderIO, ValueInfo } from './components.js';
import type { ModelFamily } from './model-dir.js';
import { outputAsFloat32 } from './tensors.js';

/** A float32 tensor, batch first. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** Image size in pixels (SDXL's size conditioning). */
export interface ImageSize {
  width: number;
  height: number;
}

/** The top-left corner of SDXL's crop conditioning, in pixels. */
export interface CropTopLeft {
  top: number;
  left: number;
}

/**
 * SDXL's micro-conditioning: diffusers' original_size / crops_coords_top_left / target_size (default: the image size,
 * (0, 0), the image size), and its negative_* counterparts for the unconditional half of the guidance batch.
 */
export interface SizeConditioning {
  originalSize?: ImageSize;
  cropsCoordsTopLeft?: CropTopLeft;
  targetSize?: ImageSize;
  /**
   * negativeOriginalSize and negativeTargetSize come together (diffusers uses negative time_ids only when both are
   * given; one alone is an error here, not ignored); the negative crop then defaults to (0, 0). Left out, the
   * unconditional half takes the conditional time_ids. No effect without guidance.
   */
  negativeOriginalSize?: ImageSize;
  negativeCropsCoordsTopLeft?: CropTopLeft;
  negativeTargetSize?: ImageSize;
}

/** The SizeConditioning keys, which only SDXL dirs take. */
export const SIZE_CONDITIONING_KEYS = [
  'originalSize', 'cropsCoordsTopLeft', 'targetSize', 'negativeOriginalSize', 'negativeCropsCoordsTopLeft', 'negativeTargetSize',
] as const satisfies readonly (keyof SizeConditioning)[];

/** The prompt side of one generation. */
export interface PromptRequest extends SizeConditioning {
  prompt: string;
  /** SDXL: the prompt for tokenizer_2/text_encoder_2; default `prompt`. */
  prompt2?: string;
  /** Undefined (not "") lets SDXL's force_zeros_for_empty_prompt zero the unconditional embeddings, as diffusers does. */
  negativePrompt?: string;
  negativePrompt2?: string;
  guidance: boolean;
  numImages: number;
  width: number;
  height: number;
}

/** The UNet's conditioning inputs by role, and what producing them cost. */
export interface Conditioning {
  tensors: Record<string, FloatTensor>;
  tokenizerMs: number;
  textEncoderMs: number;
}

export interface PromptEncoding {
  readonly family: ModelFamily;
  /** The conditioning roles `encode` produces: the UNet must take exactly these. */
  readonly roles: readonly string[];
  encode(request: PromptRequest): Promise<Conditioning>;
}

/** A CLIP tokenizer with its text encoder session. */
export class ClipTextEncoder {
  constructor(
    readonly tokenizer: ClipTokenizer,
    private readonly session: ort.InferenceSession,
    readonly io: TextEncoderIO,
  ) {}

  tokenize(text: string): number[] {
    return this.tokenizer.call(text).inputIds;
  }

  /** Runs the encoder on one prompt's ids and returns the named outputs as float32 copies. */
  async run(ids: number[], outputs: readonly ValueInfo[]): Promise<Float32Array[]> {
    const type = this.io.inputIds.type;
    const data = type === 'int64' ? BigInt64Array.from(ids, (v) => BigInt(v)) : Int32Array.from(ids);
    const out = await this.session.run({ [this.io.inputIds.name]: new ort.Tensor(type, data, [1, ids.length]) });
    return outputs.map((o) => Float32Array.from(outputAsFloat32(out[o.name], o.name)));
  }
}

/** [uncond x n, cond x n] (or [cond x n] without uncond), each item of dims `itemDims`. */
function guidanceBatch(uncond: Float32Array | null, cond: Float32Array, n: number, itemDims: number[]): FloatTensor {
  const items = uncond === null ? [cond] : [uncond, cond];
  const data = new Float32Array(items.length * n * cond.length);
  items.forEach((item, k) => {
    for (let i = 0; i < n; i++) data.set(item, (k * n + i) * cond.length);
  });
  return { data, dims: [items.length * n, ...itemDims] };
}

function timed<T>(run: () => T): [T, number] {
  const t0 = performance.now();
  return [run(), performance.now() - t0];
}

async function timedAsync<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  return [await run(), performance.now() - t0];
}

function rejectSizeConditioning(request: PromptRequest): void {
  const given = ([...SIZE_CONDITIONING_KEYS, 'prompt2', 'negativePrompt2'] as const).filter((k) => request[k] !== undefined);
  if (given.length > 0) {
    throw new SdqError('INVALID_ARGUMENT', `${given.join(', ')} apply to SDXL models only; this model dir is SD 1.x/2.x (one text encoder, no added conditioning)`);
  }
}

/** SD 1.x/2.x: the last hidden state of the one CLIP text encoder; the negative prompt defaults to "". */
export class ClipPromptEncoding implements PromptEncoding {
  readonly family = 'sd';
  readonly roles = ['encoder_hidden_states'];
  constructor(private readonly encoder: ClipTextEncoder) {}

  async encode(request: PromptRequest): Promise<Conditioning> {
    rejectSizeConditioning(request);
    const [ids, tokenizerMs] = timed(() => [request.prompt, ...(request.guidance ? [request.negativePrompt ?? ''] : [])].map((p) => this.encoder.tokenize(p)));
    const hidden = this.encoder.io.hiddenStates;
    const [[cond, uncond], textEncoderMs] = await timedAsync(async () => {
      const states: Float32Array[] = [];
      for (const prompt of ids) states.push((await this.encoder.run(prompt, [hidden]))[0]);
      return states;
    });
    const tokens = this.encoder.tokenizer.modelMaxLength;
    const tensors = { encoder_hidden_states: guidanceBatch(uncond ?? null, cond, request.numImages, [tokens, cond.length / tokens]) };
    return { tensors, tokenizerMs, textEncoderMs };
  }
}

/** The output of an SDXL text encoder the pipeline reads, or a BAD_FORMAT naming the file and the export that has it. */
function sdxlOutputs(encoder: ClipTextEncoder, path: string, pooled: boolean): ValueInfo[] {
  const layers = encoder.io.layerHiddenStates;
  if (layers.length < 2) {
    throw new SdqError(
      'BAD_FORMAT',
      `${path} has no hidden_states.N outputs; SDXL conditions on the penultimate layer: export the text encoders with optimum (they output every hidden_states.N)`,
    );
  }
  // diffusers: text_encoder(ids, output_hidden_states=True).hidden_states[-2]
  const penultimate = layers[layers.length - 2];
  if (!pooled) return [penultimate];
  if (encoder.io.textEmbeds === null) {
    throw new SdqError('BAD_FORMAT', `${path} has no text_embeds output [batch, d]; SDXL's text_encoder_2 is a CLIPTextModelWithProjection whose projected pooled output is the UNet's text_embeds`);
  }
  return [penultimate, encoder.io.textEmbeds];
}

/**
 * SDXL, as diffusers' StableDiffusionXLPipeline.encode_prompt builds it: the penultimate hidden states of both text
 * encoders concatenated per token (768 + 1280 = 2048 wide on SDXL base), the pooled projection of text_encoder_2 as
 * `text_embeds`, and `time_ids` = original size + crop top-left + target size ((height, width) pairs).
 */
export class SdxlPromptEncoding implements PromptEncoding {
  readonly family = 'sdxl';
  readonly roles = ['encoder_hidden_states', 'text_embeds', 'time_ids'];
  private readonly outputs: [ValueInfo[], ValueInfo[]];
  constructor(
    private readonly encoders: [ClipTextEncoder, ClipTextEncoder],
    paths: [string, string],
    /** model_index.json force_zeros_for_empty_prompt: no negative prompt gives zero unconditional embeddings. */
    private readonly forceZerosForEmptyPrompt: boolean,
  ) {
    this.outputs = [sdxlOutputs(encoders[0], paths[0], false), sdxlOutputs(encoders[1], paths[1], true)];
  }

  async encode(request: PromptRequest): Promise<Conditioning> {
    const zeroNegative = request.negativePrompt === undefined && this.forceZerosForEmptyPrompt;
    const negative = request.negativePrompt ?? '';
    const prompts: [string, string][] = [[request.prompt, request.prompt2 ?? request.prompt]];
    if (request.guidance && !zeroNegative) prompts.push([negative, request.negativePrompt2 || negative]);
    const [ids, tokenizerMs] = timed(() => prompts.map((pair) => pair.map((p, k) => this.encoders[k].tokenize(p))));
    const [embeddings, textEncoderMs] = await timedAsync(async () => {
      const all: { hidden: Float32Array; pooled: Float32Array }[] = [];
      for (const pair of ids) all.push(await this.embed(pair));
      return all;
    });
    const cond = embeddings[0];
    const uncond = !request.guidance ? null : (embeddings[1] ?? { hidden: new Float32Array(cond.hidden.length), pooled: new Float32Array(cond.pooled.length) });
    const tokens = this.encoders[0].tokenizer.modelMaxLength;
    const timeIds = sdxlTimeIds(request);
    const negativeTimeIds = sdxlNegativeTimeIds(request) ?? timeIds;
    const n = request.numImages;
    const tensors = {
      encoder_hidden_states: guidanceBatch(uncond?.hidden ?? null, cond.hidden, n, [tokens, cond.hidden.length / tokens]),
      text_embeds: guidanceBatch(uncond?.pooled ?? null, cond.pooled, n, [cond.pooled.length]),
      // [negative x n, positive x n], row for row with the embeddings. diffusers repeats cat([negative, positive]) n
      // times instead ([neg, pos, neg, pos] at n = 2), which pairs an image's conditional half with the negative
      // time_ids once they differ; each image here gets what diffusers gives it at n = 1.
      time_ids: guidanceBatch(uncond === null ? null : negativeTimeIds, timeIds, n, [timeIds.length]),
    };
    return { tensors, tokenizerMs, textEncoderMs };
  }

  /** Both encoders on one prompt pair: per token [penultimate of text_encoder, penultimate of text_encoder_2]; pooled from text_encoder_2. */
  private async embed(ids: number[][]): Promise<{ hidden: Float32Array; pooled: Float32Array }> {
    const [[first], [second, pooled]] = [await this.encoders[0].run(ids[0], this.outputs[0]), await this.encoders[1].run(ids[1], this.outputs[1])];
    const tokens = this.encoders[0].tokenizer.modelMaxLength;
    return { hidden: concatLastDim(first, second, tokens), pooled };
  }
}

/** torch.cat([a, b], dim=-1) of two [rows, *] row-major tensors. */
export function concatLastDim(a: Float32Array, b: Float32Array, rows: number): Float32Array {
  const wa = a.length / rows;
  const wb = b.length / rows;
  const out = new Float32Array(a.length + b.length);
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * wa, (r + 1) * wa), r * (wa + wb));
    out.set(b.subarray(r * wb, (r + 1) * wb), r * (wa + wb) + wa);
  }
  return out;
}

/** diffusers' _get_add_time_ids: list(original_size + crops_coords_top_left + target_size), sizes as (height, width). */
function addTimeIds(original: ImageSize, crop: CropTopLeft, target: ImageSize): Float32Array {
  const values = [original.height, original.width, crop.top, crop.left, target.height, target.width];
  for (const v of values) {
    if (!Number.isFinite(v) || v < 0) throw new SdqError('INVALID_ARGUMENT', `SDXL size conditioning must be non-negative numbers, got (${values.join(', ')})`);
  }
  return Float32Array.from(values);
}

/** The conditional time_ids: diffusers' original_size or (height, width), crops_coords_top_left or (0, 0), target_size or (height, width). */
export function sdxlTimeIds(request: SizeConditioning & ImageSize): Float32Array {
  return addTimeIds(request.originalSize ?? request, request.cropsCoordsTopLeft ?? { top: 0, left: 0 }, request.targetSize ?? request);
}

/**
 * The unconditional time_ids, or null for "the conditional ones": diffusers' negative_add_time_ids =
 * _get_add_time_ids(negative_original_size, negative_crops_coords_top_left or (0, 0), negative_target_size) when both
 * sizes are given, else add_time_ids. A lone negative size or crop (which diffusers would silently drop) is an error.
 */
export function sdxlNegativeTimeIds(request: SizeConditioning): Float32Array | null {
  const { negativeOriginalSize: original, negativeCropsCoordsTopLeft: crop, negativeTargetSize: target } = request;
  if (original !== undefined && target !== undefined) return addTimeIds(original, crop ?? { top: 0, left: 0 }, target);
  if (original === undefined && target === undefined && crop === undefined) return null;
  const given = (['negativeOriginalSize', 'negativeCropsCoordsTopLeft', 'negativeTargetSize'] as const).filter((k) => request[k] !== undefined);
  throw new SdqError(
    'INVALID_ARGUMENT',
    `${given.join(' and ')} without ${original === undefined ? 'negativeOriginalSize' : 'negativeTargetSize'}: SDXL's negative size conditioning needs both negativeOriginalSize and negativeTargetSize (diffusers ignores either alone); the usual negativeTargetSize is the image size`,
  );
}
