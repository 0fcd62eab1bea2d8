// Result contracts of benchmark() and the report writers (report.json is exactly BenchmarkReport).
import type { LatencyStats } from './stats.js';
import type { FidelityVerdict } from './fidelity.js';

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

/** Mean wall time per generation spent in each stage, in ms. `other` = total - model stages (pipeline overhead). */
export interface StageTimes {
  tokenizerMs: number;
  textEncoderMs: number;
  unetMs: number;
  schedulerMs: number;
  vaeDecoderMs: number;
  otherMs: number;
}

export interface ImageQuality {
  /** dB over RGB in [0,1]; null when the images are identical (infinite PSNR). */
  psnr: number | null;
  ssim: number;
  /** Largest |a - b| over all RGB values in [0,1]. */
  maxAbsDiff: number;
  meanAbsDiff: number;
}

export interface FidelityResult {
  /** Images with the right colours and the right shape. */
  faithful: number;
  /** Images with the right colours (the colour-only judge), shape aside. */
  colourFaithful: number;
  total: number;
  steps: number;
  verdicts: FidelityVerdict[];
}

export interface PrecisionResult {
  precision: Precision;
  modelDir: string;
  /** Bytes on disk of the ONNX components (text encoder, UNet, VAE decoder) incl. external data. */
  modelBytes: number;
  loadMs: number;
  runsMs: number[];
  latency: LatencyStats;
  /** latency.meanMs of FP32 / this precision's mean; null without an FP32 run. */
  speedup: number | null;
  unetMsPerStep: number;
  stages: StageTimes;
  /** Pipeline overhead: share of generation time outside the model runs (tokenizer, scheduler, glue). */
  overheadFraction: number;
  /** Against the FP32 image of the same prompt and seed; null for FP32 itself or without FP32. */
  quality: ImageQuality | null;
  fidelity: FidelityResult | null;
  /** File name of the generated image inside the report dir (PNG), when a report dir was written. */
  image?: string;
  /** In a sweep's report: the row's place on the sweep's axes (the report's steps/scheduler/size are the first cell's). */
  cell?: SweepCellAxes;
}

/** One cell of `sdq bench --sweep` besides its precision: INT8 recipe (null for FP32/FP16), scheduler, steps, size. */
export interface SweepCellAxes {
  recipe: string | null;
  scheduler: string;
  steps: number;
  width: number;
  height: number;
}

/** What a sweep's report was made from: its sweep.json and axes. */
export interface SweepSummary {
  file: string;
  cells: number;
  axes: { precisions: Precision[]; recipes: string[]; schedulers: string[]; steps: number[]; sizes: string[] };
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryGiB: number;
  platform: string;
  node: string;
  onnxruntime: string;
  /** Where the sessions ran: cpu, webgpu or cuda. */
  device: string;
  /** The GPU's name for a GPU device (as its driver reports it), else null. */
  gpu: string | null;
}

export interface BenchmarkReport {
  tool: 'sdq bench';
  createdAt: string;
  model: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  scheduler: string;
  guidance: number;
  width: number;
  height: number;
  warmup: number;
  runs: number;
  threads: number;
  machine: MachineInfo;
  totalMs: number;
  precisions: PrecisionResult[];
  notes: string[];
  /** Set in the report of `sdq bench --sweep`: one row per cell, each with its `cell` axes. */
  sweep?: SweepSummary;
}
