// sdq bench --sweep: one benchmark cell per (precision, INT8 recipe, scheduler, steps, size), each run alone by
// runSweepCell (in this process, or by a worker: the same function), then compared with the FP32 cell of the same
// scheduler, steps and size, and written as one report.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import type { Device } from '@sdq/diffusion';
import type { BenchmarkReport, Precision, PrecisionResult, SweepCellAxes } from './types.js';
import type { ProgressListener } from './progress.js';
import type { RgbImage } from './image.js';
import type { Int8Recipe } from './int8.js';
import type { ImageSize, SweepRecipe, SweepSpec } from './sweep-file.js';
import { benchmark, reportSettings } from './benchmark.js';
import { compareImages } from './compare.js';
import { encodePng } from './image.js';
import { machineInfo } from './machine.js';
import { checkModelDir, defaultImageSide, imageSizeProblem, type ModelDirInfo } from './model-dir.js';
import { readPromptFile } from './prompts.js';
import { prepareModelDirs, quantizeModelDir } from './quantize-model-dir.js';
import { openDiffusionGenerator, onnxruntimeVersion } from './runtime/diffusion-generator.js';
import { writeReport } from './report/index.js';
import { rowLabel } from './report/rows.js';

/** A sweep with every default filled in (the settings of `sdq bench` where sweep.json is silent). */
export interface ResolvedSweep {
  readonly file: string;
  readonly modelDir: string;
  readonly modelName: string;
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly seed: number;
  readonly guidance: number;
  readonly runs: number;
  readonly warmup: number;
  readonly threads: number;
  readonly device: Device;
  readonly calibrationPrompts?: readonly string[];
  readonly precisions: readonly Precision[];
  /** Empty when the sweep has no INT8; the default recipe (`default`) when it has INT8 and lists none. */
  readonly recipes: readonly SweepRecipe[];
  readonly schedulers: readonly string[];
  readonly steps: readonly number[];
  readonly sizes: readonly ImageSize[];
}

/** The defaults a sweep takes from the command (those of `sdq bench` for the model). */
export interface SweepDefaults {
  readonly prompt: string;
  readonly guidance: number;
  readonly steps: number;
  readonly threads: number;
}

/** Fill in the defaults and check the sizes against the model (errors name the sweep file and the key). */
export async function resolveSweep(spec: SweepSpec, modelDir: string, defaults: SweepDefaults): Promise<ResolvedSweep> {
  const info: ModelDirInfo = await checkModelDir(modelDir);
  const side = defaultImageSide(info);
  const sizes = spec.sizes ?? [{ width: side, height: side }];
  sizes.forEach((s, i) => {
    const problem = imageSizeProblem(info, s.width, s.height);
    if (problem) throw new SdqError('INVALID_ARGUMENT', `${spec.file}: "sizes[${i}]" ${problem}`);
  });
  const precisions = spec.precisions ?? ['fp32', 'fp16', 'int8'];
  return {
    file: spec.file,
    modelDir,
    modelName: info.name,
    prompt: spec.prompt ?? defaults.prompt,
    ...(spec.negativePrompt !== undefined && { negativePrompt: spec.negativePrompt }),
    seed: spec.seed ?? 42,
    guidance: spec.guidance ?? defaults.guidance,
    runs: spec.runs ?? 10,
    warmup: spec.warmup ?? 1,
    threads: spec.threads ?? defaults.threads,
    device: spec.device ?? 'cpu',
    ...(spec.calibrationPrompts !== undefined && { calibrationPrompts: await readPromptFile(spec.calibrationPrompts) }),
    precisions,
    recipes: precisions.includes('int8') ? (spec.recipes ?? [{ name: 'default' }]) : [],
    schedulers: spec.schedulers ?? ['ddim'],
    steps: spec.steps ?? [defaults.steps],
    sizes,
  };
}

/** One cell of the sweep: a precision (an INT8 recipe for INT8) at one scheduler, step count and size. */
export interface SweepCell extends SweepCellAxes {
  readonly precision: Precision;
}

/** The cells in report order: size, then steps, then scheduler, then precision (INT8 once per recipe). */
export function planSweep(sweep: Pick<ResolvedSweep, 'precisions' | 'recipes' | 'schedulers' | 'steps' | 'sizes'>): SweepCell[] {
  const cells: SweepCell[] = [];
  for (const { width, height } of sweep.sizes) {
    for (const steps of sweep.steps) {
      for (const scheduler of sweep.schedulers) {
        for (const precision of sweep.precisions) {
          const recipes = precision === 'int8' ? sweep.recipes.map((r) => r.name) : [null];
          for (const recipe of recipes) cells.push({ precision, recipe, scheduler, steps, width, height });
        }
      }
    }
  }
  return cells;
}

/** The INT8 recipe a sweep recipe makes its model dir with (calibrated at the sweep's first size). */
export function sweepInt8Recipe(recipe: SweepRecipe, sweep: Pick<ResolvedSweep, 'sizes' | 'calibrationPrompts'>): Partial<Int8Recipe> {
  // Built in one key order: its JSON names the made dir (sweepInt8Folder).
  return {
    ...(sweep.calibrationPrompts && { prompts: [...sweep.calibrationPrompts] }),
    ...(recipe.method !== undefined && { method: recipe.method }),
    ...(recipe.percentile !== undefined && { percentile: recipe.percentile }),
    ...(recipe.keepFloat !== undefined && { exclude: [...recipe.keepFloat] }),
    ...(recipe.activations !== undefined && { policy: { activationType: recipe.activations } }),
    ...(recipe.samples !== undefined && { samples: recipe.samples }),
    ...(recipe.calibrationSteps !== undefined && { steps: recipe.calibrationSteps }),
    size: { width: sweep.sizes[0].width, height: sweep.sizes[0].height },
  };
}

/** A recipe's INT8 dir under the cache: named by the hash of what it is made with, so equal recipes share one dir. */
export function sweepInt8Folder(int8: Partial<Int8Recipe>): string {
  return `int8-${createHash('sha256').update(JSON.stringify(int8)).digest('hex').slice(0, 12)}`;
}

export interface SweepDirs {
  /** The model dir of each precision (`int8:<recipe name>` for INT8). */
  readonly dirs: ReadonlyMap<string, string>;
  readonly notes: string[];
}

const dirKey = (precision: Precision, recipe: string | null): string => (precision === 'int8' ? `int8:${recipe}` : precision);

/**
 * Make (or reuse, while fresh: the made-dir stamps of quantizeModelDir) the model dirs of a sweep under `cacheDir`:
 * FP16 once, INT8 once per distinct recipe. On a GPU device, the GPU recipe's dirs (prepareModelDirs).
 */
export async function prepareSweepDirs(sweep: ResolvedSweep, cacheDir: string, onProgress?: ProgressListener): Promise<SweepDirs> {
  const dirs = new Map<string, string>([['fp32', sweep.modelDir]]);
  const notes: string[] = [];
  if (sweep.device !== 'cpu') {
    const made = await prepareModelDirs({ modelDir: sweep.modelDir, outDir: cacheDir, precisions: sweep.precisions, threads: sweep.threads, device: sweep.device, onProgress });
    for (const p of sweep.precisions) dirs.set(dirKey(p, sweep.recipes[0]?.name ?? null), made[p]);
    return { dirs, notes: made.notes };
  }
  const withFp16 = sweep.precisions.includes('fp16');
  if (withFp16 && sweep.recipes.length === 0) {
    const r = await quantizeModelDir(sweep.modelDir, cacheDir, { precisions: ['fp16'], threads: sweep.threads, onProgress });
    dirs.set('fp16', r.fp16!);
    notes.push(...r.notes);
  }
  for (const recipe of sweep.recipes) {
    const int8 = sweepInt8Recipe(recipe, sweep);
    const r = await quantizeModelDir(sweep.modelDir, cacheDir, {
      // With FP16 in the sweep, the INT8 dir takes FP16 text encoder / VAE where they measure faster, as bench's does.
      precisions: withFp16 ? ['fp16', 'int8'] : ['int8'],
      int8,
      int8Folder: sweepInt8Folder(int8),
      threads: sweep.threads,
      onProgress,
    });
    if (r.fp16) dirs.set('fp16', r.fp16);
    dirs.set(dirKey('int8', recipe.name), r.int8!);
    notes.push(...r.notes.filter((n) => !notes.includes(n)).map((n) => (n.startsWith('INT8') ? `recipe ${recipe.name}: ${n}` : n)));
  }
  return { dirs, notes };
}

/** Everything a cell's run depends on, as JSON (a worker gets exactly this). */
export interface SweepCellJob {
  readonly modelName: string;
  readonly precision: Precision;
  readonly dir: string;
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly seed: number;
  readonly steps: number;
  readonly scheduler: string;
  readonly guidance: number;
  readonly width: number;
  readonly height: number;
  readonly warmup: number;
  readonly runs: number;
  readonly threads: number;
  readonly device: Device;
}

/** A cell's measurements (speed-up and quality are filled in against its FP32 cell) and its image, as JSON. */
export interface SweepCellResult {
  readonly row: PrecisionResult;
  /** The image of the timed runs: width, height and the float32 RGB values, base64 (exact bits). */
  readonly image: { readonly width: number; readonly height: number; readonly rgb: string };
}

/** Run one cell: warm-up and timed generations of one model dir, as `sdq bench` runs each precision. */
export async function runSweepCell(job: SweepCellJob): Promise<SweepCellResult> {
  const outcome = await benchmark({
    models: [{ precision: job.precision, dir: job.dir }],
    modelName: job.modelName,
    prompt: job.prompt,
    ...(job.negativePrompt !== undefined && { negativePrompt: job.negativePrompt }),
    seed: job.seed,
    steps: job.steps,
    scheduler: job.scheduler,
    guidance: job.guidance,
    width: job.width,
    height: job.height,
    warmup: job.warmup,
    runs: job.runs,
    threads: job.threads,
    device: job.device,
    openGenerator: openDiffusionGenerator,
    onnxruntimeVersion: onnxruntimeVersion(),
  });
  const image = outcome.images.get(job.precision)!;
  const row = { ...outcome.report.precisions[0], speedup: null, quality: null };
  return { row, image: { width: image.width, height: image.height, rgb: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64') } };
}

export function decodeCellImage(image: SweepCellResult['image']): RgbImage {
  const bytes = Buffer.from(image.rgb, 'base64');
  if (bytes.byteLength !== image.width * image.height * 3 * 4) {
    throw new SdqError('BAD_FORMAT', `a sweep cell's image holds ${bytes.byteLength} bytes where ${image.width}x${image.height} RGB float32 needs ${image.width * image.height * 12}; the stored cell result is corrupt, delete it from the shard store`);
  }
  const data = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { width: image.width, height: image.height, data };
}

/** Runs the cells and returns their results in the same order (in this process, or on a queue's workers). */
export type SweepCellRunner = (jobs: readonly SweepCellJob[], onProgress?: ProgressListener) => Promise<SweepCellResult[]>;

/** Label of a cell in progress lines and reports, e.g. `INT8 minmax ddim 4 64x64`. */
export function cellLabel(job: Pick<SweepCellJob, 'precision' | 'scheduler' | 'steps' | 'width' | 'height'>, recipe: string | null = null): string {
  return [job.precision.toUpperCase(), ...(recipe ? [recipe] : []), job.scheduler, String(job.steps), `${job.width}x${job.height}`].join(' ');
}

export const runCellsInProcess: SweepCellRunner = async (jobs, onProgress) => {
  const results: SweepCellResult[] = [];
  onProgress?.({ task: 'sweep cells', done: 0, total: jobs.length });
  for (const job of jobs) {
    results.push(await runSweepCell(job));
    onProgress?.({ task: 'sweep cells', done: results.length, total: jobs.length, detail: cellLabel(job) });
  }
  return results;
};

export interface SweepOutcome {
  readonly report: BenchmarkReport;
  /** The image of each row of report.precisions, in order. */
  readonly images: readonly RgbImage[];
}

export interface RunSweepOptions {
  readonly cacheDir: string;
  /** Where the cells run (default: one after the other in this process). */
  readonly runCells?: SweepCellRunner;
  readonly onProgress?: ProgressListener;
  /** Extra report notes (e.g. model warnings). */
  readonly notes?: readonly string[];
}

/** The jobs of a sweep's cells (model dirs made first) and the cells themselves, in report order. */
export async function planSweepJobs(sweep: ResolvedSweep, cacheDir: string, onProgress?: ProgressListener): Promise<{ cells: SweepCell[]; jobs: SweepCellJob[]; notes: string[] }> {
  const { dirs, notes } = await prepareSweepDirs(sweep, cacheDir, onProgress);
  const cells = planSweep(sweep);
  const jobs = cells.map((c): SweepCellJob => ({
    modelName: sweep.modelName,
    precision: c.precision,
    dir: path.resolve(dirs.get(dirKey(c.precision, c.recipe))!),
    prompt: sweep.prompt,
    ...(sweep.negativePrompt !== undefined && { negativePrompt: sweep.negativePrompt }),
    seed: sweep.seed,
    steps: c.steps,
    scheduler: c.scheduler,
    guidance: sweep.guidance,
    width: c.width,
    height: c.height,
    warmup: sweep.warmup,
    runs: sweep.runs,
    threads: sweep.threads,
    device: sweep.device,
  }));
  return { cells, jobs, notes };
}

/**
 * The sweep's report: each cell's row with its axes, speed-up over and quality against the FP32 cell of the same
 * scheduler, steps and size (none without FP32 in the sweep).
 */
export function assembleSweepReport(sweep: ResolvedSweep, cells: readonly SweepCell[], results: readonly SweepCellResult[], extra: { totalMs: number; notes: readonly string[] }): SweepOutcome {
  const images = results.map((r) => decodeCellImage(r.image));
  const same = (a: SweepCell, b: SweepCell) => a.scheduler === b.scheduler && a.steps === b.steps && a.width === b.width && a.height === b.height;
  const rows = cells.map((cell, i): PrecisionResult => {
    const ref = cells.findIndex((c) => c.precision === 'fp32' && same(c, cell));
    const row = results[i].row;
    const { precision: _p, ...axes } = cell;
    return {
      ...row,
      speedup: ref < 0 ? null : results[ref].row.latency.meanMs / row.latency.meanMs,
      quality: ref < 0 || ref === i ? null : compareImages(images[i], images[ref]),
      cell: axes,
    };
  });
  const first = cells[0];
  const report: BenchmarkReport = {
    // The header's steps, scheduler and size are the first cell's; each row carries its own (`cell`).
    ...reportSettings({ ...sweep, steps: first.steps, scheduler: first.scheduler, width: first.width, height: first.height }),
    machine: machineInfo(onnxruntimeVersion(), sweep.device),
    totalMs: extra.totalMs,
    precisions: rows,
    notes: [...extra.notes],
    sweep: {
      file: sweep.file,
      cells: cells.length,
      axes: {
        precisions: [...sweep.precisions],
        recipes: sweep.recipes.map((r) => r.name),
        schedulers: [...sweep.schedulers],
        steps: [...sweep.steps],
        sizes: sweep.sizes.map((s) => `${s.width}x${s.height}`),
      },
    },
  };
  return { report, images };
}

/** Make the model dirs, run every cell (runCells), and assemble the one report. */
export async function runSweep(sweep: ResolvedSweep, options: RunSweepOptions): Promise<SweepOutcome> {
  const started = performance.now();
  const { cells, jobs, notes } = await planSweepJobs(sweep, options.cacheDir, options.onProgress);
  const results = await (options.runCells ?? runCellsInProcess)(jobs, options.onProgress);
  if (results.length !== jobs.length) throw new SdqError('RUNTIME_ERROR', `sweep: ${results.length} cell results for ${jobs.length} cells`);
  return assembleSweepReport(sweep, cells, results, { totalMs: performance.now() - started, notes: [...(options.notes ?? []), ...notes] });
}

/** report.json/.md/.html and one PNG per cell (`cell-00-fp32.png`, ...) into `dir`, all or nothing. */
export async function writeSweepReport(dir: string, outcome: SweepOutcome): Promise<{ json: string; markdown: string; html: string }> {
  const files = new Map<string, Uint8Array>();
  const rows = outcome.report.precisions.map((row, i) => {
    const image = `cell-${String(i).padStart(2, '0')}-${rowLabel(row).toLowerCase().replace(/[^a-z0-9.]+/g, '-')}.png`;
    files.set(image, encodePng(outcome.images[i]));
    return { ...row, image };
  });
  return writeReport(dir, { ...outcome.report, precisions: rows }, { files });
}
