import { DataType, SdqError } from '@sdq/quant';
import type { TypedArray } from '@sdq/quant';
import { NpzWriter } from './npz.js';
import type { CalibTensor } from './tensor.js';

/** One tensor as pipelines hand it over (onnxruntime-like): values and dims; float32 unless `type` says otherwise. */
export interface StepTensor {
  readonly data: TypedArray;
  readonly dims: readonly number[];
  readonly type?: DataType | string;
}

/** The UNet inputs of one denoising step: both classifier-free-guidance halves in one batch, as the UNet runs them. */
export interface UnetStepInputs {
  readonly sample: StepTensor;
  readonly timestep: StepTensor;
  readonly encoder_hidden_states: StepTensor;
  /** Any other UNet input by its name, e.g. SDXL's added conditions text_embeds and time_ids. */
  readonly [input: string]: StepTensor;
}

/**
 * Runs one generation for `prompt` and calls `onUnetInputs` before every UNet call. Adapt any pipeline to this
 * (@sdq/diffusion's StableDiffusionPipeline per-step callback, @sdq/pipeline's generator hook); @sdq/calib does not
 * depend on them (module boundaries), the caller passes the adapter in.
 */
export type GenerateWithUnetHook = (
  prompt: string,
  generation: { index: number; seed: number },
  onUnetInputs: (inputs: UnetStepInputs) => void,
) => Promise<void>;

export interface CaptureProgress {
  readonly generation: number;
  readonly generations: number;
  readonly prompt: string;
  /** UNet input sets written so far. */
  readonly sets: number;
}

export interface CaptureOptions {
  /** Seed of generation i is `seed + i` (default 0). */
  readonly seed?: number;
  readonly onProgress?: (p: CaptureProgress) => void;
}

export interface CaptureResult {
  readonly path: string;
  readonly sets: number;
  readonly generations: number;
}

const INPUT_NAMES = ['sample', 'timestep', 'encoder_hidden_states'] as const;

function toCalibTensor(t: StepTensor, name: string): CalibTensor {
  const type = t.type === undefined ? DataType.FLOAT : typeof t.type === 'string' ? ({ float32: DataType.FLOAT, float16: DataType.FLOAT16, int64: DataType.INT64, int32: DataType.INT32 } as Record<string, DataType>)[t.type] : t.type;
  if (type === undefined) throw new SdqError('UNSUPPORTED_TYPE', `UNet input '${name}' has type ${String(t.type)}; expected float32, float16, int64 or int32`);
  // Copy: pipelines may reuse their buffers for the next step.
  const data = t.data.slice() as TypedArray;
  return { type, dims: [...t.dims], data };
}

/**
 * Run the FP32 pipeline over prompts and save the UNet inputs of every step to a stored .npz as
 * sample_i / timestep_i / encoder_hidden_states_i, plus the UNet's other inputs (SDXL: text_embeds_i, time_ids_i) by
 * name (the layout onnxruntime's and sdq's readers use). Steps are written
 * as they come, so memory holds one step; the file appears (atomically) only when every generation succeeded.
 */
export async function captureUnetInputs(
  outPath: string,
  prompts: readonly string[],
  generate: GenerateWithUnetHook,
  options: CaptureOptions = {},
): Promise<CaptureResult> {
  if (prompts.length === 0) throw new SdqError('EMPTY_INPUT', `captureUnetInputs: no prompts given for ${outPath}`);
  const writer = await NpzWriter.create(outPath);
  let sets = 0;
  let pending: Promise<void> = Promise.resolve();
  try {
    for (let g = 0; g < prompts.length; g++) {
      const prompt = prompts[g];
      await generate(prompt, { index: g, seed: (options.seed ?? 0) + g }, (inputs) => {
        const index = sets++;
        const names = [...INPUT_NAMES, ...Object.keys(inputs).filter((k) => !(INPUT_NAMES as readonly string[]).includes(k))];
        const tensors = names.map((name) => {
          const t = inputs[name];
          if (!t) throw new SdqError('NOT_FOUND', `captureUnetInputs: the pipeline handed no '${name}' for step ${index} of "${prompt}"`);
          return [name, toCalibTensor(t, name)] as const;
        });
        pending = pending.then(async () => {
          for (const [name, t] of tensors) await writer.add(`${name}_${index}`, t);
        });
      });
      await pending;
      options.onProgress?.({ generation: g + 1, generations: prompts.length, prompt, sets });
    }
    await pending;
  } catch (e) {
    await pending.catch(() => undefined);
    await writer.abort();
    throw e;
  }
  await writer.close();
  return { path: outPath, sets, generations: prompts.length };
}
