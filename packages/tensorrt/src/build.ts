import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { decodeModel, forEachTensor, isExternalTensor, readModel, resolveExternalData } from '@sdq/onnx';
import { lintForTensorRT, type LintFinding } from './lint.js';
import { SdqError } from '@sdq/quant';
import type { PerformanceSummary, TrtexecLog } from './log.js';
import { planEngines, type EnginePlan, type PlanOptions, type Precision, type Typing } from './plan.js';
import type { InputProfile } from './profiles.js';
import { detectTrtexecVersion, resolveTrtexec, runTrtexec, type TrtexecLine } from './run.js';
import { formatTrtVersion, toTrtVersion, trtVersionToNumber, type TrtVersion } from './version.js';

export interface HashedFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** A model's identity: its .onnx and every external data file it names, each hashed, plus one digest over all. */
export interface SourceHash {
  readonly sha256: string;
  readonly files: readonly HashedFile[];
}

export async function sha256File(file: string): Promise<HashedFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SdqError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `cannot read ${file} to hash it: ${(e as Error).message}`, { cause: e });
  }
  return { path: file, sha256: hash.digest('hex'), bytes };
}

/**
 * Stream-hashes an ONNX file and its external data files (found from the tensors' `location` entries), so an
 * engine is rebuilt when any weight changes. The .onnx is decoded once to find the locations (it is < 2 GB).
 */
export async function hashOnnxSource(onnxFile: string): Promise<SourceHash> {
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SdqError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `cannot read ONNX model ${onnxFile}: ${(e as Error).message}`, { cause: e });
  }
  const model = decodeModel(bytes, { source: onnxFile });
  const baseDir = path.dirname(onnxFile);
  const dataFiles = new Set<string>();
  forEachTensor(model, (t) => {
    if (isExternalTensor(t)) dataFiles.add(resolveExternalData(t, baseDir).path);
  });
  const files = [await sha256File(onnxFile)];
  for (const f of [...dataFiles].sort()) files.push(await sha256File(f));
  const all = createHash('sha256');
  for (const f of files) all.update(`${path.relative(baseDir, f.path)}\0${f.sha256}\n`);
  return { sha256: all.digest('hex'), files };
}

async function hashCalibrationCache(plan: EnginePlan): Promise<HashedFile> {
  const file = plan.calibrationCache ?? '';
  if ((await fileSize(file)) === undefined) {
    throw new SdqError('NOT_FOUND', `${plan.component} INT8: calibration cache ${file} not found; without it trtexec would calibrate on random data. Write it first (calibrationCacheFromRanges + writeCalibrationCache) or build INT8 from a QDQ model.`);
  }
  return sha256File(file);
}

/** What was built, from what, with which TensorRT on which GPU: the basis for reusing an engine. */
export interface EngineManifestEntry {
  readonly component: string;
  readonly precision: Precision;
  readonly engine: string;
  readonly engineBytes: number;
  readonly trtVersion: string;
  readonly trtVersionNumber: number;
  readonly gpu?: string;
  readonly typing: Typing;
  readonly profiles: readonly InputProfile[];
  readonly argv: readonly string[];
  readonly source: SourceHash;
  readonly calibrationCache?: HashedFile;
  readonly buildTimeSec?: number;
  readonly engineSizeMiB?: number;
  readonly performance?: PerformanceSummary;
  readonly builtAt: string;
}

export interface EngineManifest {
  readonly format: 'sdq-tensorrt-engines';
  readonly version: 1;
  /** Keyed `<component>.<precision>`. */
  readonly engines: Readonly<Record<string, EngineManifestEntry>>;
}

export const MANIFEST_FILE = 'engines.json';

export function manifestKey(component: string, precision: Precision): string {
  return `${component}.${precision}`;
}

/** Reads `<outDir>/engines.json`; a missing or unreadable manifest is an empty one (everything gets rebuilt). */
export async function readEngineManifest(outDir: string): Promise<EngineManifest> {
  const empty: EngineManifest = { format: 'sdq-tensorrt-engines', version: 1, engines: {} };
  let text: string;
  try {
    text = await readFile(path.join(outDir, MANIFEST_FILE), 'utf8');
  } catch {
    return empty;
  }
  try {
    const m = JSON.parse(text) as EngineManifest;
    return m.format === 'sdq-tensorrt-engines' && m.version === 1 && typeof m.engines === 'object' ? m : empty;
  } catch {
    return empty;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SdqError('IO_ERROR', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

/** Why an engine must be (re)built, or undefined when the manifest entry still matches plan, source and TensorRT. */
export async function staleReason(entry: EngineManifestEntry | undefined, plan: EnginePlan, source: SourceHash, version: TrtVersion, calib?: HashedFile): Promise<string | undefined> {
  if (!entry) return 'not built yet';
  if (entry.trtVersion !== formatTrtVersion(version, true)) return `built with TensorRT ${entry.trtVersion}, now ${formatTrtVersion(version, true)}`;
  if (entry.source.sha256 !== source.sha256) return `${plan.onnx} (or its external data) changed`;
  if (JSON.stringify(entry.argv) !== JSON.stringify(plan.argv)) return 'build options changed';
  if ((entry.calibrationCache?.sha256 ?? '') !== (calib?.sha256 ?? '')) return 'calibration cache changed';
  const size = await fileSize(plan.engine);
  if (size === undefined) return `${plan.engine} is missing`;
  if (size !== entry.engineBytes) return `${plan.engine} is not the file that was built (size differs)`;
  return undefined;
}

export interface BuildEnginesOptions extends Omit<PlanOptions, 'trtVersion'> {
  /** Expected TensorRT (`--trt-version`); must agree with the trtexec found. Default: whatever trtexec reports. */
  readonly trtVersion?: TrtVersion | string;
  readonly trtexec?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Rebuild even when the manifest says an engine is fresh. */
  readonly force?: boolean;
  readonly onLine?: (plan: EnginePlan, line: TrtexecLine) => void;
  readonly onEngine?: (event: { readonly plan: EnginePlan; readonly status: 'reused' | 'building' | 'built'; readonly reason?: string }) => void;
  readonly signal?: AbortSignal;
  /**
   * lintForTensorRT on each ONNX model before it is built: 'error' (default) stops before trtexec runs when the lint
   * finds errors, 'warn' only reports them through onLint, 'off' skips the lint.
   */
  readonly lint?: 'error' | 'warn' | 'off';
  readonly onLint?: (plan: EnginePlan, findings: readonly LintFinding[]) => void;
}

/** Lints the plan's model with the plan's profiles; throws under 'error' when TensorRT would reject the model. */
async function lintPlan(plan: EnginePlan, mode: 'error' | 'warn', onLint?: BuildEnginesOptions['onLint']): Promise<readonly LintFinding[]> {
  const model = await readModel(plan.onnx, { externalData: 'lazy' });
  const findings = lintForTensorRT(model, { profiledInputs: plan.profiles.map((p) => p.name), baseDir: path.dirname(plan.onnx) });
  onLint?.(plan, findings);
  const errors = findings.filter((f) => f.severity === 'error');
  if (mode === 'error' && errors.length > 0) {
    const shown = errors.slice(0, 10).map((f) => `  ${f.code}${f.node ? ` [${f.node}]` : ''}: ${f.message}`);
    if (errors.length > 10) shown.push(`  ... (${errors.length - 10} more)`);
    throw new SdqError('UNSUPPORTED', `${plan.component} ${plan.precision.toUpperCase()}: ${plan.onnx} has ${errors.length} TensorRT compatibility error(s); fix them before building (or pass lint: 'warn' to try anyway):\n${shown.join('\n')}`);
  }
  return findings;
}

export interface BuiltEngine {
  readonly plan: EnginePlan;
  readonly status: 'built' | 'reused';
  readonly reason?: string;
  readonly log?: TrtexecLog;
  readonly entry: EngineManifestEntry;
  /** Lint findings of the model, when it was built (not when reused) and the lint was on. */
  readonly lint?: readonly LintFinding[];
}

export interface BuildEnginesResult {
  readonly trtVersion: TrtVersion;
  readonly trtexec: string;
  readonly manifestPath: string;
  readonly engines: readonly BuiltEngine[];
}

/**
 * Plans for the installed TensorRT, then builds each engine with trtexec (or reuses it when the manifest shows the
 * same ONNX bytes, options and TensorRT), writing `<outDir>/engines.json` after every engine. An engine is written
 * under a temporary name and renamed when trtexec succeeds, so a failed build never leaves a half engine behind.
 */
export async function buildEngines(options: BuildEnginesOptions): Promise<BuildEnginesResult> {
  const env = options.env ?? process.env;
  const trtexec = await resolveTrtexec(options.trtexec, env);
  const detected = await detectTrtexecVersion({ trtexec, env });
  if (options.trtVersion !== undefined) {
    const wanted = toTrtVersion(options.trtVersion);
    if (wanted.major !== detected.major || wanted.minor !== detected.minor) {
      throw new SdqError('INVALID_ARGUMENT', `--trt-version ${formatTrtVersion(wanted)} does not match the trtexec at ${trtexec}, which is TensorRT ${formatTrtVersion(detected, true)}: drop --trt-version (sdq detects it) or point --trtexec at a TensorRT ${formatTrtVersion(wanted)} install.`);
    }
  }
  const plans = planEngines({ ...options, trtVersion: detected });
  await mkdir(options.outDir, { recursive: true });
  const manifestPath = path.join(options.outDir, MANIFEST_FILE);
  const manifest = await readEngineManifest(options.outDir);
  const engines: Record<string, EngineManifestEntry> = { ...manifest.engines };
  const results: BuiltEngine[] = [];
  for (const plan of plans) {
    const key = manifestKey(plan.component, plan.precision);
    const calib = plan.calibrationCache ? await hashCalibrationCache(plan) : undefined;
    const source = await hashOnnxSource(plan.onnx);
    const reason = options.force ? 'forced' : await staleReason(engines[key], plan, source, detected, calib);
    if (reason === undefined) {
      options.onEngine?.({ plan, status: 'reused' });
      results.push({ plan, status: 'reused', entry: engines[key] });
      continue;
    }
    const lintMode = options.lint ?? 'error';
    const lint = lintMode === 'off' ? undefined : await lintPlan(plan, lintMode, options.onLint);
    options.onEngine?.({ plan, status: 'building', reason });
    await mkdir(path.dirname(plan.engine), { recursive: true });
    const tmpEngine = `${plan.engine}.tmp-${process.pid}`;
    const argv = plan.argv.map((a) => (a === `--saveEngine=${plan.engine}` ? `--saveEngine=${tmpEngine}` : a));
    let log: TrtexecLog;
    try {
      const run = await runTrtexec(argv, {
        trtexec,
        env,
        label: `${plan.component} ${plan.precision.toUpperCase()}`,
        onLine: options.onLine ? (line) => options.onLine?.(plan, line) : undefined,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      log = run.log;
      const bytes = await fileSize(tmpEngine);
      if (!bytes) {
        throw new SdqError('TOOL_FAILED', `trtexec reported success for ${plan.component} ${plan.precision.toUpperCase()} but wrote no engine at ${tmpEngine}: check disk space and the log.`);
      }
      await rename(tmpEngine, plan.engine);
    } finally {
      await rm(tmpEngine, { force: true });
    }
    const entry: EngineManifestEntry = {
      component: plan.component,
      precision: plan.precision,
      engine: plan.engine,
      engineBytes: (await fileSize(plan.engine)) ?? 0,
      trtVersion: formatTrtVersion(log.version ?? detected, true),
      trtVersionNumber: trtVersionToNumber(log.version ?? detected),
      ...(log.gpu ? { gpu: log.gpu.name } : {}),
      typing: plan.typing,
      profiles: plan.profiles,
      argv: plan.argv,
      source,
      ...(calib ? { calibrationCache: calib } : {}),
      ...(log.buildTimeSec !== undefined ? { buildTimeSec: log.buildTimeSec } : {}),
      ...(log.engineSizeMiB !== undefined ? { engineSizeMiB: log.engineSizeMiB } : {}),
      ...(log.performance ? { performance: log.performance } : {}),
      builtAt: new Date().toISOString(),
    };
    engines[key] = entry;
    await writeJsonAtomic(manifestPath, { format: 'sdq-tensorrt-engines', version: 1, engines } satisfies EngineManifest);
    options.onEngine?.({ plan, status: 'built', reason });
    results.push({ plan, status: 'built', reason, log, entry, ...(lint ? { lint } : {}) });
  }
  return { trtVersion: detected, trtexec, manifestPath, engines: results };
}
