import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { formatShapes, profileForComponent, type InputProfile, type ModelInputs, type ProfileTarget } from './profiles.js';
import { formatTrtVersion, toTrtVersion, trtexecCapabilities, type TrtVersion } from './version.js';

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

/**
 * How precision reaches TensorRT:
 * - `weak` (8.6-10.x, the classic recipe): the FP32 model plus builder flags (`--fp16`; `--int8` with a QDQ model
 *   or with a calibration cache via `--calib`).
 * - `strong` (10.x with `--stronglyTyped`, the only mode of 11.x): the model's own types decide, so FP16 needs the
 *   FP16 ONNX model and INT8 the QDQ ONNX model.
 */
export type Typing = 'weak' | 'strong';

/** Where INT8 comes from under weak typing: Q/DQ nodes in the model, or a TensorRT calibration cache for the FP32 model. */
export type Int8Source = 'qdq' | 'calibration-cache';

/** One component (text_encoder, unet, vae_decoder, ...) with the ONNX file of each precision the caller has. */
export interface ComponentModels {
  readonly component: string;
  /** Graph inputs (names, types, dims) of the component; profiles are derived from them. */
  readonly inputs: ModelInputs;
  /** ONNX path per precision: fp32 = exported model, fp16 = converted model, int8 = QDQ model. */
  readonly onnx: Readonly<Partial<Record<Precision, string>>>;
  /** TensorRT calibration cache for `--calib` (int8 with int8Source 'calibration-cache'). */
  readonly calibrationCache?: string;
}

export interface PlanOptions {
  /** TensorRT release the commands are for: `10.16`, `11.1`, or a version object. */
  readonly trtVersion: TrtVersion | string;
  readonly components: readonly ComponentModels[];
  readonly precisions: readonly Precision[];
  /** Directory the engines, the timing cache and the manifest go to. */
  readonly outDir: string;
  readonly target?: Partial<ProfileTarget>;
  /** 8.6-10.x only (default `weak`); 11.x is always strong. */
  readonly typing?: Typing;
  /** Default `qdq`. */
  readonly int8Source?: Int8Source;
  /** `--builderOptimizationLevel` 0-5 (TensorRT's default is 3). */
  readonly builderOptimizationLevel?: number;
  /** `--memPoolSize=workspace:<n>M`, default 4096 MiB. */
  readonly workspaceMiB?: number;
  /** Shared `--timingCacheFile`, default `<outDir>/timing.cache`. */
  readonly timingCacheFile?: string;
  /** Add `--skipInference` (no benchmark run after the build, so no performance summary). Default false. */
  readonly skipInference?: boolean;
  /** Extra trtexec arguments appended to every command, e.g. `['--verbose']`. */
  readonly extraArgs?: readonly string[];
}

/** One trtexec build: everything needed to run it, show it, and record it in the manifest. */
export interface EnginePlan {
  readonly component: string;
  readonly precision: Precision;
  readonly trtVersion: string;
  readonly typing: Typing;
  /** The ONNX file trtexec reads (FP32, FP16 or QDQ, as the version and typing need). */
  readonly onnx: string;
  readonly engine: string;
  readonly calibrationCache?: string;
  readonly profiles: readonly InputProfile[];
  /** Arguments for trtexec, without the executable. */
  readonly argv: readonly string[];
  readonly notes: readonly string[];
}

export const DEFAULT_WORKSPACE_MIB = 4096;
export const DEFAULT_BUILDER_OPTIMIZATION_LEVEL = 3;

/** `<outDir>/<component>.<precision>.plan`: one engine per component and precision. */
export function enginePathFor(outDir: string, component: string, precision: Precision): string {
  return path.join(outDir, `${component}.${precision}.plan`);
}

/**
 * Which ONNX model (by its own precision) an engine of `precision` is built from: under strong typing the model's
 * types are the precision; under weak typing FP32 and FP16 build from the FP32 model (`--fp16`), INT8 from the QDQ
 * model, or from the FP32 model with a calibration cache.
 */
export function onnxPrecisionFor(precision: Precision, typing: Typing, int8Source: Int8Source = 'qdq'): Precision {
  if (typing === 'strong') return precision;
  return precision === 'int8' && int8Source === 'qdq' ? 'int8' : 'fp32';
}

/** The typing a plan for `version` gets by default: strong where TensorRT has nothing else (11.x), else weak. */
export function defaultTyping(version: TrtVersion | string): Typing {
  return trtexecCapabilities(toTrtVersion(version)).stronglyTypedOnly ? 'strong' : 'weak';
}

function needOnnx(c: ComponentModels, precision: Precision, why: string): string {
  const file = c.onnx[precision];
  if (!file) {
    const hint = precision === 'fp16' ? 'convert it with `sdq convert <in> <out> --to fp16`' : precision === 'int8' ? 'quantize it with `sdq quantize ... --activations int8` (QDQ, int8)' : 'export the FP32 model';
    throw new SdqError('NOT_FOUND', `${c.component}: no ${precision.toUpperCase()} ONNX model given, and ${why}: ${hint} and pass its path.`);
  }
  return file;
}

interface PrecisionChoice {
  readonly onnx: string;
  readonly flags: string[];
  readonly calibrationCache?: string;
  readonly notes: string[];
}

function choosePrecision(c: ComponentModels, precision: Precision, version: TrtVersion, typing: Typing, int8Source: Int8Source): PrecisionChoice {
  const v = formatTrtVersion(version);
  const source = (why: string): string => needOnnx(c, onnxPrecisionFor(precision, typing, int8Source), why);
  if (typing === 'strong') {
    if (int8Source === 'calibration-cache' && precision === 'int8') {
      throw new SdqError('UNSUPPORTED', `${c.component}: TensorRT ${v} builds strongly typed networks, which take no calibration cache (--calib): build INT8 from a QDQ model (sdq quantize) instead.`);
    }
    const caps = trtexecCapabilities(version);
    const flags = caps.stronglyTypedFlag ? ['--stronglyTyped'] : [];
    const why = caps.stronglyTypedOnly ? `TensorRT ${v} takes precision only from the model's types` : 'strongly typed builds take precision from the model\'s types';
    return { onnx: source(why), flags, notes: [] };
  }
  switch (precision) {
    case 'fp32':
      return { onnx: source('weak typing builds from the FP32 model'), flags: [], notes: [] };
    case 'fp16':
      return { onnx: source(`TensorRT ${v} --fp16 builds from the FP32 model`), flags: ['--fp16'], notes: [] };
    case 'int8':
      if (int8Source === 'calibration-cache') {
        const cache = c.calibrationCache;
        if (!cache) {
          throw new SdqError('NOT_FOUND', `${c.component}: INT8 from a calibration cache needs the cache path (trtexec would otherwise calibrate on random data): write one with writeCalibrationCache / calibrationCacheFromRanges and pass it as calibrationCache.`);
        }
        return {
          onnx: source('calibration-cache INT8 builds from the FP32 model'),
          flags: ['--fp16', '--int8', `--calib=${cache}`],
          calibrationCache: cache,
          notes: ['--fp16 lets layers the cache does not cover run in FP16 instead of FP32.'],
        };
      }
      return {
        onnx: source('QDQ INT8 builds from the quantized model'),
        flags: ['--fp16', '--int8'],
        notes: ['QDQ model: the Q/DQ scales decide INT8; --fp16 lets the unquantized layers run in FP16.'],
      };
  }
}

function checkOptions(o: PlanOptions, version: TrtVersion): { typing: Typing; int8Source: Int8Source } {
  const caps = trtexecCapabilities(version);
  const v = formatTrtVersion(version);
  let typing: Typing = o.typing ?? defaultTyping(version);
  if (caps.stronglyTypedOnly && typing === 'weak') {
    throw new SdqError('UNSUPPORTED', `TensorRT ${v} has no --fp16/--int8/--calib (strongly typed only): plan with typing 'strong' from the FP16 and QDQ ONNX models, or target TensorRT 10.x.`);
  }
  if (typing === 'strong' && !caps.stronglyTypedFlag && !caps.stronglyTypedOnly) {
    throw new SdqError('UNSUPPORTED', `TensorRT ${v} has no --stronglyTyped (it came with 10.0): use typing 'weak' or TensorRT 10+.`);
  }
  if (caps.stronglyTypedOnly) typing = 'strong';
  const level = o.builderOptimizationLevel ?? DEFAULT_BUILDER_OPTIMIZATION_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 5) {
    throw new SdqError('INVALID_ARGUMENT', `builderOptimizationLevel ${level} must be an integer 0-5.`);
  }
  const ws = o.workspaceMiB ?? DEFAULT_WORKSPACE_MIB;
  if (!Number.isInteger(ws) || ws <= 0) {
    throw new SdqError('INVALID_ARGUMENT', `workspaceMiB ${ws} must be a positive integer (MiB).`);
  }
  if (o.precisions.length === 0) throw new SdqError('INVALID_ARGUMENT', 'no precision to plan: give fp32, fp16 and/or int8.');
  for (const p of o.precisions) {
    if (!PRECISIONS.includes(p)) throw new SdqError('INVALID_ARGUMENT', `precision "${p}" is not one of ${PRECISIONS.join(', ')}.`);
  }
  return { typing, int8Source: o.int8Source ?? 'qdq' };
}

/**
 * Engine plans, one per component x precision, each an exact trtexec argv using only the flags that TensorRT
 * release has. Pure: no file is read or written.
 */
export function planEngines(options: PlanOptions): EnginePlan[] {
  const version = toTrtVersion(options.trtVersion);
  const { typing, int8Source } = checkOptions(options, version);
  const timingCache = options.timingCacheFile ?? path.join(options.outDir, 'timing.cache');
  const level = options.builderOptimizationLevel ?? DEFAULT_BUILDER_OPTIMIZATION_LEVEL;
  const workspace = options.workspaceMiB ?? DEFAULT_WORKSPACE_MIB;
  const plans: EnginePlan[] = [];
  for (const c of options.components) {
    const profile = profileForComponent(c.component, c.inputs, options.target);
    for (const precision of options.precisions) {
      const choice = choosePrecision(c, precision, version, typing, int8Source);
      const engine = enginePathFor(options.outDir, c.component, precision);
      const argv = [`--onnx=${choice.onnx}`, `--saveEngine=${engine}`];
      if (profile.inputs.length > 0) {
        argv.push(
          `--minShapes=${formatShapes(profile.inputs, 'min')}`,
          `--optShapes=${formatShapes(profile.inputs, 'opt')}`,
          `--maxShapes=${formatShapes(profile.inputs, 'max')}`,
        );
      }
      argv.push(...choice.flags);
      argv.push(`--timingCacheFile=${timingCache}`, `--builderOptimizationLevel=${level}`, `--memPoolSize=workspace:${workspace}M`);
      if (options.skipInference) argv.push('--skipInference');
      argv.push(...(options.extraArgs ?? []));
      plans.push({
        component: c.component,
        precision,
        trtVersion: formatTrtVersion(version),
        typing,
        onnx: choice.onnx,
        engine,
        ...(choice.calibrationCache ? { calibrationCache: choice.calibrationCache } : {}),
        profiles: profile.inputs,
        argv,
        notes: [...profile.notes, ...choice.notes],
      });
    }
  }
  return plans;
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface FormatPlanOptions {
  /** Executable name or path shown in the commands, default `trtexec`. */
  readonly trtexec?: string;
  /** Break each command over lines with `\` continuations (default true). */
  readonly multiline?: boolean;
}

/** The plan as a shell script a user can read or paste: a comment per engine, then its exact command. */
export function formatPlan(plans: readonly EnginePlan[], options: FormatPlanOptions = {}): string {
  const exe = shellQuote(options.trtexec ?? 'trtexec');
  const multiline = options.multiline ?? true;
  const blocks = plans.map((p) => {
    const head = `# ${p.component} ${p.precision.toUpperCase()} (TensorRT ${p.trtVersion}, ${p.typing} typing)`;
    const notes = p.notes.map((n) => `# note: ${n}`);
    const args = p.argv.map(shellQuote);
    const cmd = multiline ? [exe, ...args].join(' \\\n    ') : [exe, ...args].join(' ');
    return [head, ...notes, cmd].join('\n');
  });
  return blocks.join('\n\n') + '\n';
}
