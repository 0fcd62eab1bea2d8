// The generator the benchmark and calibration use: @sdq/diffusion's StableDiffusionPipeline (diffusers-exact
// schedulers, CLIP tokenizer, CFG, VAE decode, per-stage timings), adapted to this package's Generator seam.
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SdqError, isSdqError } from '@sdq/quant';
import { type Device, StableDiffusionPipeline, SCHEDULER_ALIASES } from '@sdq/diffusion';
import type { GenerateParams, Generation, Generator, OpenGenerator } from '../generator.js';
import { inspectModelFile } from '@sdq/onnx';
import { ONNX_COMPONENTS, OPTIONAL_ONNX_COMPONENTS } from '../model-dir.js';

/** --scheduler names (@sdq/diffusion's aliases). */
export const SCHEDULERS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SCHEDULER_ALIASES).map(([k, v]) => [k, v.className]));

type FeedTensor = { data: Float32Array; dims: number[] };

/** UNet inputs of one denoising step (CFG batch) by the UNet's input names, handed to calibration capture. */
export interface UnetFeeds {
  sample: FeedTensor;
  timestep: FeedTensor;
  encoder_hidden_states: FeedTensor;
  /** SDXL's added conditions (text_embeds, time_ids). */
  [input: string]: FeedTensor;
}

/** A copy: the pipeline reuses its buffers for the next step. */
const copyOf = (t: FeedTensor): FeedTensor => ({ data: new Float32Array(t.data), dims: [...t.dims] });

export function onnxruntimeVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}

export interface DiffusionGeneratorOptions {
  /** A SCHEDULERS name; default: the model's scheduler/scheduler_config.json. */
  scheduler?: string;
  threads: number;
  /** Where the sessions run (default cpu). */
  device?: Device;
  /** Called with (copies of) the UNet inputs of every step, for calibration capture. */
  onUnetInputs?: (feeds: UnetFeeds) => void;
}

/** Which component a load error is about, from the path onnxruntime or @sdq/diffusion put in the message. */
function componentOf(message: string, dir: string): string | undefined {
  // text_encoder_2 first: text_encoder's path is a prefix of it
  return [...OPTIONAL_ONNX_COMPONENTS, ...ONNX_COMPONENTS].find((c) => message.includes(path.join(dir, c)) || message.includes(`${c}/`) || message.includes(`${c}\\`));
}

/**
 * True when the dir's ONNX components hold weight-only quantization (DequantizeLinear of weights) and no activation
 * quantization (no QuantizeLinear anywhere): then onnxruntime may fold each weight's DequantizeLinear into a float
 * weight at load (session.disable_quant_qdq), which on an H200 through WebGPU takes the SD 1.5 UNet step of
 * `sdq convert --to int8-weights` from 135 to 115 ms (= FP16). With QuantizeLinear present the option would turn
 * the activation Q/DQ into float math, so it is never set there.
 */
export async function holdsWeightOnlyQuantization(modelDir: string): Promise<boolean> {
  let dequantize = false;
  for (const c of [...ONNX_COMPONENTS, ...OPTIONAL_ONNX_COMPONENTS]) {
    const file = path.join(modelDir, c, 'model.onnx');
    let ops: Record<string, number>;
    try {
      ops = (await inspectModelFile(file)).ops;
    } catch {
      continue; // an absent optional component; a broken one fails at load with its own message
    }
    if ((ops['QuantizeLinear'] ?? 0) > 0 || (ops['DynamicQuantizeLinear'] ?? 0) > 0) return false;
    if ((ops['DequantizeLinear'] ?? 0) > 0) dequantize = true;
  }
  return dequantize;
}

export async function openPipelineGenerator(modelDir: string, options: DiffusionGeneratorOptions): Promise<Generator> {
  if (options.scheduler !== undefined && !(options.scheduler in SCHEDULER_ALIASES)) {
    throw new SdqError('INVALID_ARGUMENT', `unknown scheduler "${options.scheduler}"; use one of ${Object.keys(SCHEDULER_ALIASES).join(', ')}`);
  }
  // On a GPU, weight-only INT8 runs at FP16 speed once its weights are dequantized at load (the dir stays half the size
  // on disk); on the CPU onnxruntime's kernels for dequantized-per-run weights are the faster ones, so it is left alone.
  const foldWeights = options.device !== undefined && options.device !== 'cpu' && (await holdsWeightOnlyQuantization(modelDir));
  let pipeline: StableDiffusionPipeline;
  try {
    pipeline = await StableDiffusionPipeline.fromDir(modelDir, {
      scheduler: options.scheduler,
      intraOpNumThreads: options.threads,
      ...(options.device !== undefined && { device: options.device }),
      interOpNumThreads: 1,
      // onnxruntime's own log lines (level error) would print before sdq's one-line error: fatal only.
      sessionOptions: { logSeverityLevel: 4, ...(foldWeights && { extra: { session: { disable_quant_qdq: '1' } } }) },
      logger: () => undefined,
    });
  } catch (err) {
    const message = String((err as Error)?.message ?? err).split('\n')[0];
    const component = componentOf(message, modelDir);
    // Errors about one component's files get one short line naming it and the fix; others pass through as they are.
    if (isSdqError(err) && !component) throw err;
    const cause = (err as { cause?: unknown })?.cause;
    const detail = cause instanceof Error ? cause.message.split('\n')[0] : message;
    const reason = detail.replace(/^.*\[ONNXRuntimeError\] : \d+ : \w+ : \S+ /, '').slice(0, 140);
    throw new SdqError('BAD_FORMAT', `${component ?? 'a component'} of ${modelDir} cannot be loaded (${reason}); its model.onnx or external data is corrupt or truncated: re-export or re-copy the ${component ?? 'component'} folder`, { cause: err });
  }

  async function generate(p: GenerateParams): Promise<Generation> {
    const r = await pipeline.generate({
      prompt: p.prompt,
      negativePrompt: p.negativePrompt,
      steps: p.steps,
      guidanceScale: p.guidance,
      seed: p.seed,
      width: p.width,
      height: p.height,
      ...p.sizeConditioning,
      onStep: p.onStep ? (s) => p.onStep!(s.step + 1, s.totalSteps) : undefined,
      onUnetInput: options.onUnetInputs
        ? (u) =>
            options.onUnetInputs!({
              ...Object.fromEntries(Object.entries(u.added).map(([name, t]) => [name, copyOf(t)])),
              sample: copyOf(u.sample),
              timestep: copyOf(u.timestep),
              encoder_hidden_states: copyOf(u.encoderHiddenStates),
            })
        : undefined,
    });
    const t = r.timings;
    const img = r.images[0];
    return {
      image: { width: img.width, height: img.height, data: img.data },
      timings: {
        totalMs: t.totalMs,
        tokenizerMs: t.tokenizerMs,
        textEncoderMs: t.textEncoderMs,
        unetMs: t.unetMs,
        schedulerMs: t.schedulerMs,
        vaeDecoderMs: t.vaeDecoderMs,
        unetCalls: t.unetCalls,
      },
    };
  }

  return { modelDir, scheduler: options.scheduler ?? String(pipeline.schedulerConfig._class_name), generate, dispose: () => pipeline.dispose() };
}

export const openDiffusionGenerator: OpenGenerator = (dir, o) => openPipelineGenerator(dir, o);
