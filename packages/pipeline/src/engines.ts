// buildEngines: TensorRT engine plans for a model dir, delegated to @sdq/tensorrt. Every dir sdq makes says what it
// holds (its stamp), so the ONNX each component and precision needs is found from any of them: the dir given, bench's
// sibling dirs, and the dirs it was made from back to the FP32 export.
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { readModel } from '@sdq/onnx';
import {
  planEngines, formatPlan, buildEngines as trtBuildEngines, modelInputsFromModel, onnxPrecisionFor, defaultTyping,
  resolveTrtexec, detectTrtexecVersion, formatTrtVersion, toTrtVersion, ENGINE_COMPONENTS,
  type ComponentModels, type EnginePlan, type BuiltEngine, type Typing,
} from '@sdq/tensorrt';
import type { Precision } from './types.js';
import type { ProgressListener } from './progress.js';
import { checkModelDir } from './model-dir.js';
import { readMadeFrom, type MadeComponent, type MadeFrom } from './freshness.js';
import { exists } from './fs-atomic.js';
import { onnxComponents, int8Unet, FUSED_ATTENTION } from './quantize-model-dir.js';

export interface BuildEnginesOptions {
  precision: Precision;
  /** Engines, timing cache and manifest go here (default <model dir>/engines-<precision>). */
  outDir?: string;
  trtexec?: string;
  /** Only plan: return the trtexec commands without running them. */
  dryRun?: boolean;
  /** TensorRT version to plan for in a dry run without trtexec (default 10.16). */
  trtVersion?: string;
  onProgress?: ProgressListener;
}

export interface BuildEnginesSummary {
  dryRun: boolean;
  /** The TensorRT version planned for (detected from trtexec in a real run). */
  trtVersion: string;
  plans: readonly EnginePlan[];
  /** The commands as a shell script (dry run) or as run. */
  script: string;
  /** The engines built or reused, in plan order (real runs). */
  engines?: readonly BuiltEngine[];
  manifestPath?: string;
}

/** A dir in the search and what each of its ONNX components is. */
export interface KnownModelDir {
  dir: string;
  stamp?: MadeFrom;
  components: Record<string, MadeComponent>;
}

/** Stamps written before layout 3 carry no contents: what their recipe implies. */
function componentFromRecipe(stamp: MadeFrom | undefined, component: string): MadeComponent {
  const recipe = stamp?.recipe as { fp16?: { fuseAttention?: boolean }; int8?: { policy?: { activationType?: string } } } | undefined;
  if (recipe?.fp16) return recipe.fp16.fuseAttention ? { precision: 'fp16', onnxruntimeOnly: FUSED_ATTENTION } : { precision: 'fp16' };
  if (recipe?.int8 && component === 'unet') return int8Unet(recipe.int8.policy?.activationType === 'int8' ? 'int8' : 'uint8');
  return { precision: 'fp32' };
}

export async function describeModelDir(dir: string): Promise<KnownModelDir> {
  const stamp = await readMadeFrom(dir);
  const components: Record<string, MadeComponent> = {};
  for (const c of await onnxComponents(dir)) components[c] = stamp?.contents?.components[c] ?? componentFromRecipe(stamp, c);
  return { dir, ...(stamp ? { stamp } : {}), components };
}

/** "made by sdq quantize from /x" or "an FP32 export" (a dir sdq did not make). */
function describe(d: KnownModelDir): string {
  if (!d.stamp) return 'an export sdq did not make, read as FP32';
  return `made by ${d.stamp.contents?.madeBy ?? 'sdq'} from ${d.stamp.source}`;
}

/**
 * The dirs whose models `build` may use for `modelDir`, in order of preference: the dir itself; bench's sibling
 * <cache>/fp16 and <cache>/int8 made from the same export; then each dir it was made from, back to the export.
 * `missingSource` is the first source named by a stamp that no longer exists.
 */
export async function modelDirsFor(modelDir: string): Promise<{ dirs: KnownModelDir[]; missingSource?: string }> {
  const first = await describeModelDir(path.resolve(modelDir));
  const dirs = [first];
  const seen = new Set([first.dir]);
  if (first.stamp) {
    for (const sibling of ['fp16', 'int8'].map((p) => path.join(path.dirname(first.dir), p))) {
      if (!seen.has(sibling) && (await readMadeFrom(sibling))?.source === first.stamp.source) {
        seen.add(sibling);
        dirs.push(await describeModelDir(sibling));
      }
    }
  }
  for (let stamp = first.stamp; stamp && !seen.has(stamp.source); ) {
    if (!(await exists(stamp.source))) return { dirs, missingSource: stamp.source };
    seen.add(stamp.source);
    const d = await describeModelDir(stamp.source);
    dirs.push(d);
    stamp = d.stamp;
  }
  return { dirs };
}

/** Per component: the first TensorRT-usable ONNX of each precision, and the models passed over with why. */
interface ComponentSources {
  onnx: Partial<Record<Precision, string>>;
  passedOver: Partial<Record<Precision, string[]>>;
}

function componentSources(dirs: readonly KnownModelDir[], component: string): ComponentSources {
  const out: ComponentSources = { onnx: {}, passedOver: {} };
  for (const d of dirs) {
    const c = d.components[component];
    if (!c || out.onnx[c.precision]) continue;
    const file = path.join(d.dir, component, 'model.onnx');
    if (c.onnxruntimeOnly) (out.passedOver[c.precision] ??= []).push(`${file} is for onnxruntime only (${c.onnxruntimeOnly})`);
    else out.onnx[c.precision] = file;
  }
  return out;
}

/** What to run to get a `precision` model TensorRT can build from `source` (the FP32 export). */
function howToMake(precision: Precision, source: string): string {
  if (precision === 'fp16') return `run "sdq convert ${source} <fp16 dir> --to fp16", then "sdq build <fp16 dir> --precision fp16"`;
  if (precision === 'int8') {
    return `run "sdq calibrate ${source} --out <calib dir>" and "sdq quantize ${source} <int8 dir> --calibration <calib dir> --activations int8", then "sdq build <int8 dir> --precision int8"`;
  }
  return `pass the FP32 export`;
}

/**
 * The precision each component's engine gets when `requested` is asked for, and the ONNX it is built from. An INT8
 * engine set quantizes the UNet only (sdq quantize makes a QDQ UNet): the text encoder and VAE decoder are built FP16
 * where this TensorRT can, else FP32, never with `--int8` on a model without Q/DQ (trtexec would calibrate it on random
 * data). A precision no dir can give stops with the dir, why, and what to run.
 */
export function engineChoice(
  component: string,
  sources: ComponentSources,
  requested: Precision,
  typing: Typing,
  trtVersion: string,
  context: { modelDir: KnownModelDir; searched: readonly KnownModelDir[]; fp32Source: string; missingSource?: string },
): { precision: Precision; onnx: Partial<Record<Precision, string>> } {
  const has = (p: Precision): boolean => sources.onnx[onnxPrecisionFor(p, typing)] !== undefined;
  let precision = requested;
  if (requested === 'int8' && component !== 'unet' && !has('int8')) precision = has('fp16') ? 'fp16' : 'fp32';
  const needed = onnxPrecisionFor(precision, typing);
  if (sources.onnx[needed] !== undefined) return { precision, onnx: sources.onnx };
  const why =
    typing === 'strong' && needed !== 'fp32'
      ? `TensorRT ${trtVersion} takes precision only from the model's types, so an ${precision.toUpperCase()} engine needs an ${needed.toUpperCase()} ONNX model`
      : needed === 'int8'
        ? `an ${precision.toUpperCase()} engine builds from a QDQ (INT8) ONNX model`
        : `an ${precision.toUpperCase()} engine on TensorRT ${trtVersion} builds from the FP32 model`;
  const others = context.searched.filter((d) => d !== context.modelDir).map((d) => d.dir);
  const named = [`${context.modelDir.dir} (${describe(context.modelDir)})`, ...others];
  const where = named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}` : named[0];
  const passed = sources.passedOver[needed]?.length ? `; ${sources.passedOver[needed]!.join('; ')}` : '';
  const gone = context.missingSource && needed === 'fp32' ? `; the dir it was made from, ${context.missingSource}, no longer exists` : '';
  const hint = needed === 'fp32' && context.missingSource ? `restore ${context.missingSource} or pass the FP32 export` : howToMake(needed, context.fp32Source);
  throw new SdqError('NOT_FOUND', `${component}: ${why}, and ${where} hold${others.length ? '' : 's'} no ${needed.toUpperCase()} ${component} model TensorRT can parse${passed}${gone}: ${hint}.`);
}

/** The ComponentModels of an engine set for `requested`, each with the precision its engine gets. */
async function engineComponents(modelDir: string, requested: Precision, trtVersion: string): Promise<{ component: ComponentModels; precision: Precision }[]> {
  const { dirs, missingSource } = await modelDirsFor(modelDir);
  const typing = defaultTyping(trtVersion);
  const fp32Source = [...dirs].reverse().find((d) => !d.stamp)?.dir ?? missingSource ?? dirs[0]!.dir;
  const out: { component: ComponentModels; precision: Precision }[] = [];
  for (const name of ENGINE_COMPONENTS) {
    if (!dirs.some((d) => d.components[name])) continue;
    const sources = componentSources(dirs, name);
    const { precision, onnx } = engineChoice(name, sources, requested, typing, trtVersion, { modelDir: dirs[0]!, searched: dirs, fp32Source, missingSource });
    // Inputs (names, dims) are the same in every precision (FP16 dirs keep float32 IO): read the model to be built.
    const file = onnx[onnxPrecisionFor(precision, typing)]!;
    const model = await readModel(file, { externalData: 'lazy' });
    out.push({ component: { component: name, inputs: modelInputsFromModel(model, file), onnx }, precision });
  }
  if (out.length === 0) throw new SdqError('NOT_FOUND', `${modelDir} has none of ${ENGINE_COMPONENTS.join(', ')} (each as <component>/model.onnx): pass an optimum-layout model folder.`);
  return out;
}

/** The components grouped by engine precision, in the order the precisions first appear. */
function byPrecision(choices: readonly { component: ComponentModels; precision: Precision }[]): [Precision, ComponentModels[]][] {
  const groups = new Map<Precision, ComponentModels[]>();
  for (const c of choices) groups.set(c.precision, [...(groups.get(c.precision) ?? []), c.component]);
  return [...groups];
}

const componentOrder = (component: string): number => (ENGINE_COMPONENTS as readonly string[]).indexOf(component);

export async function buildEngines(modelDir: string, options: BuildEnginesOptions): Promise<BuildEnginesSummary> {
  await checkModelDir(modelDir);
  const outDir = options.outDir ?? path.join(modelDir, `engines-${options.precision}`);
  if (options.dryRun) {
    const trtVersion = formatTrtVersion(toTrtVersion(options.trtVersion ?? '10.16'));
    const choices = await engineComponents(modelDir, options.precision, trtVersion);
    const plans = byPrecision(choices)
      .flatMap(([p, components]) => planEngines({ trtVersion, components, precisions: [p], outDir }))
      .sort((a, b) => componentOrder(a.component) - componentOrder(b.component));
    return { dryRun: true, trtVersion, plans, script: formatPlan(plans, { trtexec: options.trtexec }) };
  }
  // The version decides which ONNX each engine needs, so it is known before planning.
  const trtexec = await resolveTrtexec(options.trtexec);
  const trtVersion = formatTrtVersion(await detectTrtexecVersion({ trtexec }));
  const choices = await engineComponents(modelDir, options.precision, trtVersion);
  let done = 0;
  const engines: BuiltEngine[] = [];
  let manifestPath = '';
  for (const [precision, components] of byPrecision(choices)) {
    const result = await trtBuildEngines({
      components,
      precisions: [precision],
      outDir,
      trtexec,
      trtVersion: options.trtVersion,
      onEngine: (e) => {
        if (e.status !== 'building') {
          options.onProgress?.({ task: `build ${options.precision.toUpperCase()} engines`, done: ++done, total: choices.length, detail: `${e.plan.component} ${e.status}` });
        }
      },
    });
    engines.push(...result.engines);
    manifestPath = result.manifestPath;
  }
  engines.sort((a, b) => componentOrder(a.plan.component) - componentOrder(b.plan.component));
  const plans = engines.map((e) => e.plan);
  return { dryRun: false, trtVersion, plans, script: formatPlan(plans, { trtexec }), engines, manifestPath };
}
