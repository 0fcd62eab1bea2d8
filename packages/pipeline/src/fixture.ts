// createFixture: SD-shaped synthetic model dirs (tiny, small, sd15) in the optimum layout, from @sdq/onnx's presets.
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { writeSdModelDir, SD_PRESETS, type SdModelDirSummary, type SdPresetName } from '@sdq/onnx';
import { ensureWritableParent, exists, sizeOnDisk } from './fs-atomic.js';
import type { ProgressListener } from './progress.js';

export const FIXTURE_PRESETS = Object.keys(SD_PRESETS) as SdPresetName[];

export async function createFixture(
  preset: string,
  out: string,
  options: { tokenizerDir?: string; seed?: number; overwrite?: boolean; onProgress?: ProgressListener } = {},
): Promise<SdModelDirSummary & { bytes: number; ms: number }> {
  if (!(FIXTURE_PRESETS as string[]).includes(preset)) {
    throw new SdqError('INVALID_ARGUMENT', `unknown preset "${preset}"; use one of ${FIXTURE_PRESETS.join(', ')}`);
  }
  if (!options.overwrite && (await exists(out))) {
    throw new SdqError('INVALID_ARGUMENT', `${out} already exists; choose a new --out or pass --force to replace it`);
  }
  await ensureWritableParent(out);
  const t0 = performance.now();
  const task = `fixture ${preset}`;
  const summary = writeSdModelDir(path.resolve(out), preset as SdPresetName, {
    tokenizerDir: options.tokenizerDir,
    seed: options.seed,
    overwrite: options.overwrite,
    // In MiB of weights: the UNet's stream moves the bar during the minutes an sd15 build holds the event loop.
    // The bar is full only once everything is written (rounding must not finish it early).
    onProgress: (done, total, component) => {
      const totalMiB = Math.max(1, Math.ceil(total / 2 ** 20));
      const doneMiB = done >= total ? totalMiB : Math.min(Math.floor(done / 2 ** 20), totalMiB - 1);
      options.onProgress?.({ task, done: doneMiB, total: totalMiB, detail: `MiB of weights${component ? `, writing ${component}` : ''}` });
    },
  });
  return { ...summary, bytes: await sizeOnDisk(summary.dir), ms: performance.now() - t0 };
}
