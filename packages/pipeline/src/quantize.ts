// quantizePath: INT8 QDQ UNet from calibration data (sdq quantize); a model dir in gives a model dir out.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { inspectModelFile } from '@sdq/onnx';
import { quantizeUnet, type ModelInputSpec, type QuantizeUnetOptions } from '@sdq/calib';
import type { ProgressListener } from './progress.js';
import { writeDirAtomic, ensureWritableFile, ensureWritableParent, exists, sizeOnDisk, tempSibling } from './fs-atomic.js';
import { checkModelDir, onnxFileBytes } from './model-dir.js';
import { expectFileKind } from './file-kind.js';
import { madeFromNow, writeMadeFrom, type MadeComponent } from './freshness.js';
import { onnxComponents, int8Unet, copiedComponent, copyNonOnnx } from './quantize-model-dir.js';
import { readCalibratedFor, sha256File, int8PolicyForModel, policyExcluding, RECIPE_METHOD_OPTIONS, DEFAULT_INT8_RECIPE, type CalibratedFor, type Int8Target } from './int8.js';

export interface QuantizeOptions {
  /** A calibration dir (from sdq calibrate: unet_inputs.npz, ranges.json), an .npz of UNet inputs, or a ranges .json. */
  calibration: string;
  /** Per-channel weight scales (default: the policy's, on). */
  perChannel?: boolean;
  /** Node names or op types (Conv, MatMul, Gemm) to keep in float, on top of the default sensitive layers. */
  exclude?: readonly string[];
  /** 'int8' activations with zero point 0 for TensorRT, 'uint8' (default policy) for onnxruntime CPU. */
  activationType?: 'int8' | 'uint8';
  /** Recalibrate from the UNet inputs with this method (RECIPE_METHOD_OPTIONS); default: the ranges sdq calibrate computed. */
  method?: 'minmax' | 'percentile' | 'entropy';
  threads?: number;
  onProgress?: ProgressListener;
}

export interface QuantizeResult {
  input: string;
  output: string;
  kind: 'model' | 'dir';
  quantizedNodes: number;
  skippedNodes: number;
  bytesIn: number;
  bytesOut: number;
  ms: number;
}

/** The calibration source inside a dir argument: ranges.json (unet_inputs.npz when recalibrating), or the path itself. */
async function resolveCalibration(arg: string, recalibrate: boolean): Promise<{ file: string; isDir: boolean }> {
  let st;
  try {
    st = await fs.stat(arg);
  } catch {
    throw new SdqError('NOT_FOUND', `calibration ${arg} does not exist; run "sdq calibrate <model dir> --prompts <file> --out <dir>" first and pass that dir`);
  }
  if (!st.isDirectory()) {
    const expected = arg.toLowerCase().endsWith('.json') ? 'text' : arg.toLowerCase().endsWith('.npy') ? 'npy' : 'npz';
    await expectFileKind(arg, expected, 'calibration', 'pass the --out dir of "sdq calibrate", its unet_inputs.npz or its ranges.json');
    return { file: arg, isDir: false };
  }
  // Ranges already computed are used as they are, unless another --method asks to recalibrate from the inputs.
  for (const f of recalibrate ? ['unet_inputs.npz'] : ['ranges.json', 'unet_inputs.npz']) if (await exists(path.join(arg, f))) return { file: path.join(arg, f), isDir: true };
  throw new SdqError('NOT_FOUND', `calibration dir ${arg} has neither unet_inputs.npz nor ranges.json; pass the --out dir of "sdq calibrate"`);
}

/**
 * What sdq calibrate recorded next to the calibration (the dir given, or the dir of a file given). A dir given is
 * checked against the UNet: ranges of another model are refused, not silently applied (a lone file meets the
 * calibration reader's input checks instead).
 */
async function checkCalibratedFor(calibrationArg: string, isDir: boolean, unetModel: string): Promise<CalibratedFor | undefined> {
  const recorded = await readCalibratedFor(isDir ? calibrationArg : path.dirname(calibrationArg));
  if (recorded && isDir && recorded.sha256 !== (await sha256File(unetModel))) {
    throw new SdqError('SHAPE_MISMATCH', `calibration ${calibrationArg} was made for ${recorded.unet}, not for ${unetModel}; run "sdq calibrate" on this model and pass that dir`);
  }
  return recorded;
}

async function inputSpecs(model: string): Promise<ModelInputSpec[]> {
  const r = await inspectModelFile(model);
  return r.inputs.map((i) => ({ name: i.name, type: i.type, shape: (i.shape ?? []).map((d) => d ?? '?') }));
}

export async function quantizePath(input: string, output: string, options: QuantizeOptions): Promise<QuantizeResult> {
  const t0 = performance.now();
  let st;
  try {
    st = await fs.stat(input);
  } catch {
    throw new SdqError('NOT_FOUND', `${input} does not exist; pass a UNet .onnx file or a model dir`);
  }
  const isDir = st.isDirectory();
  // The recipe is chosen per family (model_index.json); a lone UNet file gets the SD 1.x/2.x one.
  const target: Int8Target = isDir ? await checkModelDir(input) : { family: 'sd' };
  const srcModel = isDir ? path.join(input, 'unet', 'model.onnx') : input;
  if (!isDir) await expectFileKind(srcModel, 'onnx', 'UNet', 'pass a UNet .onnx file or a model dir');
  const { file: calibration, isDir: calibrationIsDir } = await resolveCalibration(options.calibration, options.method !== undefined);
  const recorded = await checkCalibratedFor(options.calibration, calibrationIsDir, srcModel);
  await (isDir ? ensureWritableParent(output) : ensureWritableFile(output, 'model.onnx'));
  // The recipe's layout for the size the calibration generations had, or for SDXL its own (sdq bench's INT8 dir gets the same).
  const side = recorded?.width && recorded.height ? Math.min(recorded.width, recorded.height) / 8 : 0;
  const policy: NonNullable<QuantizeUnetOptions['policy']> = {
    ...policyExcluding(int8PolicyForModel(target, side), options.exclude ?? [], '--exclude'),
    ...(options.perChannel === undefined ? {} : { perChannel: options.perChannel }),
    ...(options.activationType ? { activationType: options.activationType } : {}),
  };
  const method = options.method ?? DEFAULT_INT8_RECIPE.method;
  const specs = calibration.endsWith('.json') ? undefined : await inputSpecs(srcModel);
  const run = async (dst: string): Promise<{ quantized: number; skipped: number }> => {
    const r = await quantizeUnet(srcModel, dst, {
      calibration,
      method,
      methodOptions: RECIPE_METHOD_OPTIONS[method],
      policy,
      reader: specs ? { inputs: specs } : undefined,
      threads: options.threads ?? 2,
      onProgress: (p) => options.onProgress?.({ task: `quantize ${p.phase}`, done: p.done, total: p.total }),
    });
    return { quantized: r.report.quantizedNodes.length, skipped: r.report.skippedNodes.length };
  };
  let counts: { quantized: number; skipped: number };
  if (isDir) {
    // The dir says what it is (sdq build reads it): made from <in> by sdq quantize, the UNet INT8 in this layout.
    const recipe = { int8: { calibration: path.resolve(options.calibration), method: options.method ?? 'ranges', activationType: policy.activationType, perChannel: policy.perChannel, exclude: options.exclude ?? [], family: target.family } };
    const stamp = await madeFromNow(input, recipe);
    const made: Record<string, MadeComponent> = {};
    for (const c of await onnxComponents(input)) made[c] = c === 'unet' ? int8Unet(policy.activationType ?? 'uint8') : await copiedComponent(input, c);
    counts = await writeDirAtomic(output, async (tmp) => {
      await copyNonOnnx(input, tmp, new Set(['unet'])); // the UNet's configs, not its FP32 weights (any data file naming)
      const c = await run(path.join(tmp, 'unet', 'model.onnx'));
      await writeMadeFrom(tmp, { ...stamp, contents: { madeBy: 'sdq quantize', precision: 'int8', components: made } });
      return c;
    });
  } else {
    // The model and its external data appear together: build them in a temp dir, then move into place.
    const tmpDir = tempSibling(output, 'dir');
    counts = await writeDirAtomic(tmpDir, async (tmp) => {
      const c = await run(path.join(tmp, path.basename(output)));
      for (const f of await fs.readdir(tmp)) if (f !== path.basename(output)) await fs.rename(path.join(tmp, f), path.join(path.dirname(output), f));
      await fs.rename(path.join(tmp, path.basename(output)), output);
      return c;
    });
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
  return {
    input, output, kind: isDir ? 'dir' : 'model', quantizedNodes: counts.quantized, skippedNodes: counts.skipped,
    // A single model counts with its external data, in and out.
    bytesIn: isDir ? await sizeOnDisk(input) : await onnxFileBytes(srcModel), bytesOut: isDir ? await sizeOnDisk(output) : await onnxFileBytes(output), ms: performance.now() - t0,
  };
}
