// FP32 UNet of a model dir with @sdq/onnx's fuseAttention applied (what quantizeUnet does before Q/DQ for
// onnxruntime), written to <out dir>/unet/model.onnx with external weights: the FP32 reference with the same
// attention kernel, so benchmarks can tell the fusion's share from the quantization's.
// Usage: node tools/bench/pipeline/fuse-unet.mjs <model dir> <out dir>   (build first: cd packages/onnx && npx tsup)
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseAttention, readModel, writeModel } from '../../../packages/onnx/dist/index.js';

/** Writes <out>/unet/model.onnx; returns its path and the fusion counts. */
export async function writeFusedUnet(dir, out) {
  const src = path.join(dir, 'unet', 'model.onnx');
  const baseDir = path.dirname(src);
  const { model, report } = fuseAttention(await readModel(src, { externalData: 'lazy' }), { baseDir });
  const file = path.join(out, 'unet', 'model.onnx');
  mkdirSync(path.dirname(file), { recursive: true });
  await writeModel(model, file, { externalData: true, sourceDir: baseDir });
  return { file, fused: report.fused.length, skipped: report.skipped.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) throw new Error('usage: fuse-unet.mjs <model dir> <out dir>');
  console.log(JSON.stringify(await writeFusedUnet(dir, out)));
}
