// benchmark(): FP32 / FP16 / INT8 side by side — latency (interleaved runs, fixed seed), per-stage times,
// quality against the FP32 image, prompt fidelity over a prompt set.
import { SdqError } from '@sdq/quant';
import type { Device } from '@sdq/diffusion';
import type { RgbImage } from './image.js';
import type { BenchmarkReport, FidelityResult, Precision, PrecisionResult, StageTimes } from './types.js';
import type { Generation, Generator, OpenGenerator } from './generator.js';
import type { ProgressListener } from './progress.js';
import { judgeFidelity, type PromptLanguage } from './fidelity.js';
import { compareImages } from './compare.js';
import { latencyStats, mean } from './stats.js';
import { modelBytes } from './model-dir.js';
import { machineInfo } from './machine.js';

export interface BenchmarkModel {
  precision: Precision;
  dir: string;
}

export interface BenchmarkOptions {
  /** One model dir per precision; FP32 (when present) is the quality reference. */
  models: readonly BenchmarkModel[];
  modelName: string;
  prompt: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  scheduler?: string;
  guidance?: number;
  width: number;
  height: number;
  warmup?: number;
  runs?: number;
  threads?: number;
  /** Where every precision runs (default cpu); the report names it and the GPU. */
  device?: Device;
  /** Judge prompt fidelity over these prompts (models with a prompt language, e.g. shapes-sd). */
  fidelity?: { prompts: readonly string[]; steps: number; language: PromptLanguage };
  /**
   * Keep every precision loaded and alternate their runs (fairer on a noisy machine: drift hits all alike).
   * Set false for models too large to hold several copies in memory.
   */
  interleave?: boolean;
  onProgress?: ProgressListener;
  openGenerator: OpenGenerator;
  onnxruntimeVersion: string;
  notes?: readonly string[];
}

export interface BenchmarkOutcome {
  report: BenchmarkReport;
  /** The timed-run image per precision (identical across runs: fixed seed). */
  images: Map<Precision, RgbImage>;
  /** Fidelity images per precision, in prompt order. */
  fidelityImages: Map<Precision, RgbImage[]>;
}

interface PrecisionState {
  model: BenchmarkModel;
  generator?: Generator;
  loadMs: number;
  timed: Generation[];
  fidelityImages: RgbImage[];
  fidelity: FidelityResult | null;
}

function stagesOf(gens: readonly Generation[]): { stages: StageTimes; overhead: number; unetPerStep: number } {
  const t = gens.map((g) => g.timings);
  const stages: StageTimes = {
    tokenizerMs: mean(t.map((x) => x.tokenizerMs)),
    textEncoderMs: mean(t.map((x) => x.textEncoderMs)),
    unetMs: mean(t.map((x) => x.unetMs)),
    schedulerMs: mean(t.map((x) => x.schedulerMs)),
    vaeDecoderMs: mean(t.map((x) => x.vaeDecoderMs)),
    otherMs: 0,
  };
  const total = mean(t.map((x) => x.totalMs));
  stages.otherMs = Math.max(0, total - stages.tokenizerMs - stages.textEncoderMs - stages.unetMs - stages.schedulerMs - stages.vaeDecoderMs);
  // Overhead = everything except the three model runs (tokenizer, scheduler math, glue).
  const overhead = total > 0 ? (total - stages.textEncoderMs - stages.unetMs - stages.vaeDecoderMs) / total : 0;
  return { stages, overhead, unetPerStep: mean(t.map((x) => x.unetMs / Math.max(1, x.unetCalls))) };
}

/** The settings a benchmark ran with, as the report's header fields (stamped now). */
export type RunSettings = Pick<BenchmarkReport, 'prompt' | 'seed' | 'steps' | 'scheduler' | 'guidance' | 'width' | 'height' | 'warmup' | 'runs' | 'threads'> & {
  modelName: string;
  negativePrompt?: string;
};

export function reportSettings(s: RunSettings): Omit<BenchmarkReport, 'machine' | 'totalMs' | 'precisions' | 'notes' | 'sweep'> {
  // Field by field: callers pass larger objects (a whole sweep), whose other fields are no report settings.
  return {
    tool: 'sdq bench', createdAt: new Date().toISOString(), model: s.modelName, prompt: s.prompt, negativePrompt: s.negativePrompt ?? '', seed: s.seed,
    steps: s.steps, scheduler: s.scheduler, guidance: s.guidance, width: s.width, height: s.height, warmup: s.warmup, runs: s.runs, threads: s.threads,
  };
}

export async function benchmark(options: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const started = performance.now();
  const seed = options.seed ?? 42;
  const steps = options.steps ?? 25;
  const scheduler = options.scheduler ?? 'ddim';
  const guidance = options.guidance ?? 7.5;
  const warmup = options.warmup ?? 1;
  const runs = options.runs ?? 10;
  const threads = options.threads ?? 2;
  const interleave = options.interleave ?? true;
  const progress = options.onProgress ?? (() => undefined);
  if (options.models.length === 0) throw new SdqError('INVALID_ARGUMENT', 'benchmark needs at least one model; pass --precisions fp32,fp16,int8');
  if (runs < 1) throw new SdqError('INVALID_ARGUMENT', `--runs must be at least 1, got ${runs}`);
  const seen = new Set<Precision>();
  for (const m of options.models) {
    if (seen.has(m.precision)) throw new SdqError('INVALID_ARGUMENT', `precision ${m.precision} is listed twice; list each precision once`);
    seen.add(m.precision);
  }
  const params = {
    prompt: options.prompt,
    negativePrompt: options.negativePrompt,
    steps,
    guidance,
    seed,
    width: options.width,
    height: options.height,
  };

  const states: PrecisionState[] = options.models.map((model) => ({ model, loadMs: 0, timed: [], fidelityImages: [], fidelity: null }));
  const open = async (s: PrecisionState): Promise<Generator> => {
    const t0 = performance.now();
    s.generator = await options.openGenerator(s.model.dir, { scheduler, threads, ...(options.device !== undefined && { device: options.device }) });
    s.loadMs = performance.now() - t0;
    return s.generator;
  };
  const close = async (s: PrecisionState): Promise<void> => {
    await s.generator?.dispose();
    s.generator = undefined;
  };

  try {
    const totalTimed = states.length * (warmup + runs);
    let doneTimed = 0;
    const tick = (label: string): void => progress({ task: 'bench runs', done: ++doneTimed, total: totalTimed, detail: label });
    const runOne = async (s: PrecisionState, timed: boolean): Promise<void> => {
      const g = await s.generator!.generate(params);
      if (timed) s.timed.push(g);
      tick(`${s.model.precision.toUpperCase()} ${(g.timings.totalMs / 1000).toFixed(2)}s`);
    };
    progress({ task: 'bench runs', done: 0, total: totalTimed });
    if (interleave) {
      for (const s of states) await open(s);
      for (let i = 0; i < warmup; i++) for (const s of states) await runOne(s, false);
      for (let i = 0; i < runs; i++) for (const s of states) await runOne(s, true);
    } else {
      for (const s of states) {
        await open(s);
        for (let i = 0; i < warmup; i++) await runOne(s, false);
        for (let i = 0; i < runs; i++) await runOne(s, true);
        if (options.fidelity) await runFidelity(s);
        await close(s);
      }
    }

    async function runFidelity(s: PrecisionState): Promise<void> {
      const f = options.fidelity!;
      const generator = s.generator ?? (await open(s));
      const verdicts = [];
      let i = 0;
      for (const prompt of f.prompts) {
        const g = await generator.generate({ ...params, prompt, steps: f.steps });
        s.fidelityImages.push(g.image);
        const v = judgeFidelity(g.image, prompt, f.language);
        if (!v) throw new SdqError('INVALID_ARGUMENT', `fidelity prompt "${prompt}" is not in the model's prompt language ("a COLOUR SHAPE on a COLOUR background"); fix the prompt list`);
        verdicts.push(v);
        progress({ task: `fidelity ${s.model.precision.toUpperCase()}`, done: ++i, total: f.prompts.length, detail: v.faithful ? 'ok' : v.colourFaithful ? `MISS shape reads as ${v.shape ?? 'no shape'}` : 'MISS colours' });
      }
      s.fidelity = { faithful: verdicts.filter((v) => v.faithful).length, colourFaithful: verdicts.filter((v) => v.colourFaithful).length, total: verdicts.length, steps: f.steps, verdicts };
    }
    if (interleave && options.fidelity) for (const s of states) await runFidelity(s);
  } finally {
    for (const s of states) await close(s);
  }

  const reference = states.find((s) => s.model.precision === 'fp32');
  const refImage = reference?.timed.at(-1)?.image;
  const images = new Map<Precision, RgbImage>();
  const fidelityImages = new Map<Precision, RgbImage[]>();
  const results: PrecisionResult[] = [];
  for (const s of states) {
    const runsMs = s.timed.map((g) => g.timings.totalMs);
    const latency = latencyStats(runsMs);
    const { stages, overhead, unetPerStep } = stagesOf(s.timed);
    const image = s.timed.at(-1)!.image;
    images.set(s.model.precision, image);
    if (s.fidelityImages.length) fidelityImages.set(s.model.precision, s.fidelityImages);
    results.push({
      precision: s.model.precision,
      modelDir: s.model.dir,
      modelBytes: await modelBytes(s.model.dir),
      loadMs: s.loadMs,
      runsMs,
      latency,
      speedup: reference ? latencyStats(reference.timed.map((g) => g.timings.totalMs)).meanMs / latency.meanMs : null,
      unetMsPerStep: unetPerStep,
      stages,
      overheadFraction: overhead,
      quality: refImage && s !== reference ? compareImages(image, refImage) : null,
      fidelity: s.fidelity,
    });
  }
  const report: BenchmarkReport = {
    ...reportSettings({ modelName: options.modelName, prompt: params.prompt, negativePrompt: params.negativePrompt, seed, steps, scheduler, guidance, width: options.width, height: options.height, warmup, runs, threads }),
    machine: machineInfo(options.onnxruntimeVersion, options.device ?? 'cpu'),
    totalMs: performance.now() - started,
    precisions: results,
    notes: [...(options.notes ?? [])],
  };
  return { report, images, fidelityImages };
}
