// The seam between the benchmark and @sdq/diffusion: one text-to-image call with per-stage timings.
import type { Device, SizeConditioning } from '@sdq/diffusion';
import type { RgbImage } from './image.js';

/** One text-to-image call; what is left out takes @sdq/diffusion's defaults. */
export interface GenerateParams {
  prompt: string;
  /** Left out: "" for SD 1.x/2.x, zero embeddings for SDXL (force_zeros_for_empty_prompt), as in diffusers. */
  negativePrompt?: string;
  /** Default 25. */
  steps?: number;
  /** Classifier-free guidance scale; default 7.5. */
  guidance?: number;
  /** Default 0. */
  seed?: number;
  /** Default: the UNet's sample size x 8 (512 for SD 1.x). */
  width?: number;
  height?: number;
  /** SDXL's size conditioning (original/target size, crop, and the negative ones); an error on SD 1.x/2.x dirs. */
  sizeConditioning?: SizeConditioning;
  /** Called after each denoising step (1-based). */
  onStep?: (step: number, total: number) => void;
}

/** Wall time of one generation per stage, ms. */
export interface GenerationTimings {
  totalMs: number;
  tokenizerMs: number;
  textEncoderMs: number;
  /** Sum over steps of the UNet session runs. */
  unetMs: number;
  /** Sum over steps of scheduler.step (and scale_model_input). */
  schedulerMs: number;
  vaeDecoderMs: number;
  /** Number of UNet calls (one per step with CFG batched). */
  unetCalls: number;
}

export interface Generation {
  image: RgbImage;
  timings: GenerationTimings;
}

export interface Generator {
  readonly modelDir: string;
  readonly scheduler: string;
  generate(params: GenerateParams): Promise<Generation>;
  dispose(): Promise<void>;
}

/** `device`: where the sessions run (default cpu); see @sdq/diffusion's Device. */
export type OpenGenerator = (modelDir: string, options: { scheduler: string; threads: number; device?: Device }) => Promise<Generator>;
