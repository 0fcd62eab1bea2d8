import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SdqError } from '@sdq/quant';
import { fuseAttention, insertQdqWithReport, readModel, writeModel } from '@sdq/onnx';
import type { NodeProto, QdqPolicy, QdqReport } from '@sdq/onnx';
import { openCalibrationData } from './reader.js';
import type { CalibrationDataReader, ReaderOptions } from './reader.js';
import { collectRanges } from './stats.js';
import type { CalibrationMethod, CollectRangesOptions, RangesFile } from './stats.js';
import { readRanges, writeCalibrationJson, writeRangesJson } from './artefacts.js';
import { modelInputSpecs } from './model-io.js';

/** Layers a UNet's quality depends on most: the first and last convolutions and the timestep embedding MLP. */
export const UNET_SENSITIVE_LAYERS: readonly RegExp[] = [/(^|\/)conv_in(\/|$)/, /(^|\/)conv_out(\/|$)/, /(^|\/)time_embedding(\/|$)/];

/**
 * The INT8 UNet layout measured best on onnxruntime CPU (docs/calibration.md): Conv and weight MatMuls (attention's
 * activation x activation MatMuls stay float), Q/DQ on their outputs too so onnxruntime fuses QLinearConv, uint8
 * asymmetric activations, int8 symmetric per-channel weights, int32 biases, conv_in/conv_out/time embedding in float.
 */
export const DEFAULT_UNET_INT8_POLICY: Readonly<QdqPolicy> = Object.freeze({
  opTypes: ['Conv', 'MatMul'],
  activationMatMuls: false,
  skipNodes: UNET_SENSITIVE_LAYERS,
  activationType: 'uint8',
  perChannel: true,
  quantizeOutputs: true,
  bias: 'int32',
  missingRange: 'skip-node',
});

/**
 * The quantized nodes FAST_UNET_INT8_POLICY leaves with float outputs: every MatMul. Each consumer of a UNet MatMul is
 * a float op (bias/residual Add, GEGLU, attention), so an output Q/DQ only makes onnxruntime write uint8
 * (QLinearMatMul) and then expand it again (a DequantizeLinear pass); without it the MatMul becomes
 * MatMulIntegerToFloat, which writes float directly. Conv keeps its output Q/DQ: QLinearConv needs it.
 */
export function isMatMulNode(node: NodeProto): boolean {
  return node.opType === 'MatMul';
}

/**
 * DEFAULT_UNET_INT8_POLICY with MatMul outputs left float (isMatMulNode). Measured on the `small` preset at 64x64
 * latents: 0.58-0.70 of FP32 against 0.60-0.74 with float outputs on attention's to_q/to_k only (the previous FAST
 * layout), and 0.1-0.2 dB better SQNR; a tie on shapes-sd's 16x16 latents (docs/calibration.md).
 */
export const FAST_UNET_INT8_POLICY: Readonly<QdqPolicy> = Object.freeze({ ...DEFAULT_UNET_INT8_POLICY, floatOutputNodes: isMatMulNode });

/** The same layout with int8 symmetric activations (zero point 0), as TensorRT requires. */
export const TENSORRT_UNET_INT8_POLICY: Readonly<QdqPolicy> = Object.freeze({ ...DEFAULT_UNET_INT8_POLICY, activationType: 'int8' });

/**
 * Calibration used when none is given: asymmetric 99.999th percentile (2048-bin histograms over all the data), which
 * measured 0.6 dB above MinMax on shapes-sd's UNet with the default layout (docs/calibration.md).
 */
export const DEFAULT_UNET_CALIBRATION_METHOD: CalibrationMethod = 'percentile';
export const DEFAULT_UNET_METHOD_OPTIONS: Readonly<NonNullable<QuantizeUnetOptions['methodOptions']>> = Object.freeze({ symmetric: false, percentile: 99.999, numBins: 2048 });

export interface QuantizeUnetProgress {
  readonly phase: 'read' | 'calibrate' | 'quantize' | 'write';
  readonly done: number;
  readonly total: number;
}

export interface QuantizeUnetOptions {
  /**
   * Calibration data: an .npz of `<input>_<i>` arrays or a test_data_set_N folder (read with `reader` options),
   * a CalibrationDataReader, or ranges already computed (a ranges.json/calibration.json path ending in .json).
   */
  readonly calibration: string | CalibrationDataReader;
  /** Default DEFAULT_UNET_CALIBRATION_METHOD with DEFAULT_UNET_METHOD_OPTIONS. */
  readonly method?: CalibrationMethod;
  /** Options of the method (symmetric, percentile, numBins, numQuantizedBins); onnxruntime's defaults otherwise. */
  readonly methodOptions?: Omit<CollectRangesOptions, 'method' | 'onProgress' | 'tensors' | 'opTypes' | 'policy'>;
  /** QDQ layout; merged over DEFAULT_UNET_INT8_POLICY. */
  readonly policy?: Partial<QdqPolicy>;
  /** Selection of calibration samples (seed, limit, indices, batchSize) when `calibration` is a path. */
  readonly reader?: ReaderOptions;
  /** Also write the ranges here (ranges.json) and the TensorRT-oriented calibration.json here. */
  readonly rangesPath?: string;
  readonly calibrationJsonPath?: string;
  readonly threads?: number;
  readonly onProgress?: (p: QuantizeUnetProgress) => void;
  /**
   * Replace each attention by onnxruntime's MultiHeadAttention (@sdq/onnx fuseAttention) before inserting Q/DQ.
   * Default: on for uint8 activations (the onnxruntime CPU layout) unless activationMatMuls quantizes attention;
   * off for int8 activations, the TensorRT layout (TensorRT fuses attention itself and cannot parse the contrib op).
   */
  readonly fuseAttention?: boolean;
}

export interface QuantizeUnetResult {
  readonly outPath: string;
  readonly ranges: RangesFile;
  readonly report: QdqReport;
  readonly policy: QdqPolicy;
  /** Attention blocks turned into MultiHeadAttention (0 when not fused). */
  readonly fusedAttention: number;
}

/**
 * Calibrate a UNet on real UNet inputs and write its QDQ INT8 model (weights in external data next to it when large).
 * Only the tensors insertQdq reads under the policy are calibrated (@sdq/onnx `qdqTensorsFor`: inputs of the nodes it
 * quantizes, their outputs when the policy quantizes outputs), so the statistics pass never holds attention scores.
 */
export async function quantizeUnet(inPath: string, outPath: string, options: QuantizeUnetOptions): Promise<QuantizeUnetResult> {
  const policy: QdqPolicy = { ...DEFAULT_UNET_INT8_POLICY, ...options.policy };
  const method = options.method ?? DEFAULT_UNET_CALIBRATION_METHOD;
  const progress = options.onProgress;
  let ranges: RangesFile;
  if (typeof options.calibration === 'string' && options.calibration.toLowerCase().endsWith('.json')) {
    ranges = { format: 'sdq-ranges', version: 1, model: inPath, method, options: {}, batches: 0, ranges: await readRanges(options.calibration) };
  } else {
    const owned =
      typeof options.calibration === 'string'
        ? await openCalibrationData(options.calibration, { inputs: await modelInputSpecs(inPath), ...options.reader })
        : undefined;
    const reader = owned ?? (options.calibration as CalibrationDataReader);
    try {
      ranges = await collectRanges(inPath, reader, {
        ...(options.method === undefined ? DEFAULT_UNET_METHOD_OPTIONS : {}),
        ...options.methodOptions,
        method,
        policy,
        threads: options.threads,
        onProgress: (done, total) => progress?.({ phase: 'calibrate', done, total }),
      });
    } finally {
      await owned?.close();
    }
  }
  progress?.({ phase: 'read', done: 0, total: 1 });
  // Weights stay in their external files until insertQdq reads the ones it quantizes (one at a time); the rest are
  // copied across by writeModel. SD 1.5's FP32 UNet is never held whole.
  const baseDir = dirname(inPath);
  const read = await readModel(inPath, { externalData: 'lazy' });
  const fuse = options.fuseAttention ?? (policy.activationType === 'uint8' && !policy.activationMatMuls);
  // Attention's internal tensors are never calibrated unless activationMatMuls, so the ranges fit the fused graph.
  const fused = fuse ? fuseAttention(read, { baseDir }) : undefined;
  const model = fused?.model ?? read;
  progress?.({ phase: 'quantize', done: 0, total: 1 });
  const { model: quantized, report } = insertQdqWithReport(model, ranges.ranges, { baseDir, ...policy });
  if (report.quantizedNodes.length === 0) {
    throw new SdqError('INVALID_ARGUMENT', `${inPath}: the policy quantized no node (op types ${(policy.opTypes ?? []).join(', ')}); check the policy's opTypes and skipNodes`);
  }
  progress?.({ phase: 'write', done: 0, total: 1 });
  await mkdir(dirname(outPath), { recursive: true });
  await writeModel(quantized, outPath, { externalData: 'auto', sourceDir: baseDir });
  if (options.rangesPath) await writeRangesJson(options.rangesPath, ranges);
  if (options.calibrationJsonPath) await writeCalibrationJson(options.calibrationJsonPath, ranges);
  progress?.({ phase: 'write', done: 1, total: 1 });
  return { outPath, ranges, report, policy, fusedAttention: fused?.report.fused.length ?? 0 };
}
