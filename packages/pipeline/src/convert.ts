// convertPath: FP16 conversion of one .onnx file or a whole model dir (sdq convert).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { writeDirAtomic, ensureWritableFile, ensureWritableParent, sizeOnDisk, tempSibling } from './fs-atomic.js';
import { convertComponent, convertModelDir, onnxComponents, quantizeModelDir, convertedComponents, INT8_WEIGHTS_OPTIONS } from './quantize-model-dir.js';
import { madeFromNow, writeMadeFrom } from './freshness.js';
import { onnxFileBytes } from './model-dir.js';

export interface ConvertOptions {
  /**
   * 'fp16'; 'fp32' for the attention fusion alone (needs fuseAttention); 'int8-weights' for weight-only INT8 over
   * FP16 activations (W8A16: the quantized form onnxruntime's WebGPU provider runs on the GPU), attention fused.
   */
  to: 'fp16' | 'fp32' | 'int8-weights';
  keepIoTypes?: boolean;
  /** Extra op types kept in float32 (added to the default block list). */
  blockOps?: readonly string[];
  /** Attention as onnxruntime's MultiHeadAttention (faster on onnxruntime; TensorRT cannot parse it). Default false. */
  fuseAttention?: boolean;
  onProgress?: import('./progress.js').ProgressListener;
}

export interface ConvertResult {
  input: string;
  output: string;
  kind: 'model' | 'dir';
  bytesIn: number;
  bytesOut: number;
  ms: number;
  /** Attention blocks fused into MultiHeadAttention (files, and dirs with --to fp32). */
  fusedAttention?: number;
}

export async function convertPath(input: string, output: string, options: ConvertOptions): Promise<ConvertResult> {
  if (options.to !== 'fp16' && options.to !== 'fp32' && options.to !== 'int8-weights') {
    throw new SdqError('INVALID_ARGUMENT', `--to ${String(options.to)} is not supported; use --to fp16, fp32 or int8-weights`);
  }
  if (options.to === 'fp32' && !options.fuseAttention) {
    throw new SdqError('INVALID_ARGUMENT', '--to fp32 changes nothing by itself; add --fuse-attention (the FP32 model with attention as onnxruntime\'s MultiHeadAttention)');
  }
  let st;
  try {
    st = await fs.stat(input);
  } catch {
    throw new SdqError('NOT_FOUND', `${input} does not exist; pass an .onnx file or a model dir`);
  }
  const t0 = performance.now();
  // A model file's output must not be an existing directory (a dir's output replaces one).
  await (st.isDirectory() ? ensureWritableParent(output) : ensureWritableFile(output, 'model.onnx'));
  const componentOptions =
    options.to === 'int8-weights'
      ? { ...INT8_WEIGHTS_OPTIONS, keepIoTypes: options.keepIoTypes ?? true, blockOps: options.blockOps }
      : { to: options.to, keepIoTypes: options.keepIoTypes ?? false, blockOps: options.blockOps, fuseAttention: options.fuseAttention ?? false };
  if (st.isDirectory() && options.to !== 'fp16') {
    // Every ONNX component converted (fp32: attention fused; int8-weights: FP16, attention fused, int8 weights), the
    // rest (tokenizer, scheduler, configs) copied.
    const components = await onnxComponents(input);
    const task = options.to === 'fp32' ? 'fuse attention' : 'int8 weights';
    const dirOptions = options.to === 'fp32' ? { to: 'fp32' as const, fuseAttention: true } : componentOptions;
    // The dir says what it is (sdq build reads it and passes over what only onnxruntime runs).
    const precision = options.to === 'fp32' ? 'fp32' : 'int8';
    const stamp = await madeFromNow(input, { [options.to]: { ...dirOptions, components } });
    const fused = await writeDirAtomic(output, async (tmp) => {
      const counts = await convertModelDir(input, tmp, components, dirOptions, task, (e) => options.onProgress?.(e));
      const made = convertedComponents(counts, precision, options.to === 'int8-weights');
      const madeBy = options.to === 'fp32' ? 'sdq convert --to fp32 --fuse-attention' : 'sdq convert --to int8-weights';
      await writeMadeFrom(tmp, { ...stamp, contents: { madeBy, precision, components: made } });
      return counts;
    });
    return { input, output, kind: 'dir', bytesIn: await sizeOnDisk(input), bytesOut: await sizeOnDisk(output), ms: performance.now() - t0, fusedAttention: [...fused.values()].reduce((a, b) => a + b, 0) };
  }
  if (st.isDirectory()) {
    const parent = tempSibling(output, 'convert');
    try {
      await quantizeModelDir(input, parent, { precisions: ['fp16'], reuse: false, madeBy: 'sdq convert --to fp16', onProgress: options.onProgress, fp16: { keepIoTypes: options.keepIoTypes ?? true, blockOps: options.blockOps, fuseAttention: options.fuseAttention ?? false } });
      await fs.rm(output, { recursive: true, force: true });
      await fs.rename(path.join(parent, 'fp16'), output);
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
    return { input, output, kind: 'dir', bytesIn: await sizeOnDisk(input), bytesOut: await sizeOnDisk(output), ms: performance.now() - t0 };
  }
  // External data files go next to the model: build both in a temp dir, then move them into place.
  const tmpDir = tempSibling(output, 'dir');
  let bytesOut = 0;
  let fusedCount = 0;
  await writeDirAtomic(tmpDir, async (tmp) => {
    fusedCount = await convertComponent(input, path.join(tmp, path.basename(output)), componentOptions);
    const files = await fs.readdir(tmp);
    for (const f of files) bytesOut += (await fs.stat(path.join(tmp, f))).size;
    for (const f of files) if (f !== path.basename(output)) await fs.rename(path.join(tmp, f), path.join(path.dirname(output), f));
    await fs.rename(path.join(tmp, path.basename(output)), output);
  });
  await fs.rm(tmpDir, { recursive: true, force: true });
  // Both sizes count the model with its external data (a 540 KB .onnx can carry 11 MB of weights next to it).
  return { input, output, kind: 'model', bytesIn: await onnxFileBytes(input), bytesOut, ms: performance.now() - t0, ...(componentOptions.fuseAttention ? { fusedAttention: fusedCount } : {}) };
}
