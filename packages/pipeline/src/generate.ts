// generateImage: one text-to-image run to a PNG file (written atomically), with timings.
import * as path from 'node:path';
import type { Device } from '@sdq/diffusion';
import type { GenerateParams, GenerationTimings } from './generator.js';
import type { RgbImage } from './image.js';
import { encodePng } from './image.js';
import { SdqError } from '@sdq/quant';
import { checkModelDir, defaultImageSide, imageSizeProblem } from './model-dir.js';
import { ensureWritableFile, writeFileAtomic } from './fs-atomic.js';
import { openPipelineGenerator } from './runtime/diffusion-generator.js';

export interface GenerateImageOptions extends Omit<GenerateParams, 'onStep'> {
  /** A SCHEDULERS name (ddim, euler_a, ...); default: the model's scheduler/scheduler_config.json. */
  scheduler?: string;
  /** onnxruntime intra-op threads; default 2. */
  threads?: number;
  /** Where the sessions run (default cpu). */
  device?: Device;
  /** PNG path; nothing is written when omitted. */
  out?: string;
  onStep?: (step: number, total: number) => void;
}

export async function generateImage(modelDir: string, options: GenerateImageOptions): Promise<{ image: RgbImage; timings: GenerationTimings; out?: string }> {
  const info = await checkModelDir(modelDir);
  const side = defaultImageSide(info);
  const problem = imageSizeProblem(info, options.width ?? side, options.height ?? side);
  if (problem) throw new SdqError('INVALID_ARGUMENT', `size ${problem}`);
  if (options.out) await ensureWritableFile(options.out);
  const generator = await openPipelineGenerator(modelDir, { scheduler: options.scheduler, threads: options.threads ?? 2, ...(options.device !== undefined && { device: options.device }) });
  try {
    const { image, timings } = await generator.generate(options);
    if (options.out) await writeFileAtomic(path.resolve(options.out), encodePng(image));
    return { image, timings, out: options.out };
  } finally {
    await generator.dispose();
  }
}
