// buildEngines: TensorRT engine plans for a model dir, with the ONNX each precision needs (FP32 export,
// FP16 model dir, QDQ INT8 model dir), delegated to @sdq/tensorrt.
import * as path from 'node:path';
import {
  componentModelsFromDirs, planEngines, formatPlan, buildEngines as trtBuildEngines,
  type EnginePlan, type BuildEnginesResult,
} from '@sdq/tensorrt';
import type { Precision } from './types.js';
import type { ProgressListener } from './progress.js';
import { checkModelDir } from './model-dir.js';
import { readMadeFrom } from './freshness.js';
import { exists } from './fs-atomic.js';

export interface BuildEnginesOptions {
  precision: Precision;
  /** Engines, timing cache and manifest go here (default <model dir>/engines-<precision>). */
  outDir?: string;
  trtexec?: string;
  /** Only plan: return the trtexec commands without running them. */
  dryRun?: boolean;
  /** TensorRT version to plan for in a dry run without trtexec (default 10.16). */
  trtVersion?: string;
  /** Made FP16/INT8 model dirs; default: found next to the model (sdq's <cache>/fp16, <cache>/int8). */
  precisionDirs?: Partial<Record<Precision, string>>;
  onProgress?: ProgressListener;
}

export interface BuildEnginesSummary {
  dryRun: boolean;
  plans: readonly EnginePlan[];
  /** The commands as a shell script (dry run) or as run. */
  script: string;
  result?: BuildEnginesResult;
}

/** FP32 source and made precision dirs for `modelDir` (which may itself be a made FP16/INT8 dir). */
export async function resolvePrecisionDirs(modelDir: string, given: Partial<Record<Precision, string>> = {}): Promise<Partial<Record<Precision, string>> & { fp32: string }> {
  const stamp = await readMadeFrom(modelDir);
  const recipe = stamp?.recipe as Record<string, unknown> | undefined;
  const fp32 = stamp ? stamp.source : modelDir;
  const dirs: Partial<Record<Precision, string>> & { fp32: string } = { fp32 };
  if (recipe && 'fp16' in recipe) dirs.fp16 = modelDir;
  if (recipe && 'int8' in recipe) dirs.int8 = modelDir;
  const sibling = path.dirname(path.resolve(modelDir));
  for (const p of ['fp16', 'int8'] as const) {
    if (given[p]) dirs[p] = given[p];
    else if (!dirs[p] && stamp && (await exists(path.join(sibling, p, 'unet', 'model.onnx')))) dirs[p] = path.join(sibling, p);
  }
  return dirs;
}

export async function buildEngines(modelDir: string, options: BuildEnginesOptions): Promise<BuildEnginesSummary> {
  await checkModelDir(modelDir);
  const dirs = await resolvePrecisionDirs(modelDir, options.precisionDirs);
  const components = await componentModelsFromDirs(dirs);
  const outDir = options.outDir ?? path.join(modelDir, `engines-${options.precision}`);
  if (options.dryRun) {
    const plans = planEngines({ trtVersion: options.trtVersion ?? '10.16', components, precisions: [options.precision], outDir });
    return { dryRun: true, plans, script: formatPlan(plans, { trtexec: options.trtexec }) };
  }
  let done = 0;
  const total = components.length;
  const result = await trtBuildEngines({
    components,
    precisions: [options.precision],
    outDir,
    trtexec: options.trtexec,
    trtVersion: options.trtVersion,
    onEngine: (e) => {
      if (e.status !== 'building') options.onProgress?.({ task: `build ${options.precision.toUpperCase()} engines`, done: ++done, total, detail: `${e.plan.component} ${e.status}` });
    },
  });
  const plans = result.engines.map((e) => e.plan);
  return { dryRun: false, plans, script: formatPlan(plans, { trtexec: result.trtexec }), result };
}
