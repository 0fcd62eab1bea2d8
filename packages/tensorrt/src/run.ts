import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';
import { parseTrtexecLog, type LogSeverity, type TrtexecLog } from './log.js';
import type { TrtVersion } from './version.js';

export const TRTEXEC_MISSING_HELP =
  'Install TensorRT 10.x or 11.x (the tar/zip or deb/rpm packages put trtexec in <TensorRT>/bin; ' +
  'the NGC container nvcr.io/nvidia/tensorrt has it on PATH), then pass --trtexec /path/to/trtexec, ' +
  'set TRTEXEC=/path/to/trtexec, or put it on PATH. To see the exact commands without TensorRT, use --dry-run.';

/** One line trtexec printed, as it arrives. */
export interface TrtexecLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** `[E]`, `[W]`, ... when the line has trtexec's prefix. */
  readonly severity?: LogSeverity;
}

export interface RunTrtexecOptions {
  /** Explicit trtexec path (the CLI's --trtexec); else env TRTEXEC; else PATH. */
  readonly trtexec?: string;
  /** Environment for the lookup and the child process (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Called for every output line while trtexec runs (progress). */
  readonly onLine?: (line: TrtexecLine) => void;
  /** Names what is being built in error messages, e.g. `unet FP16`. */
  readonly label?: string;
  readonly signal?: AbortSignal;
}

export interface TrtexecRunResult {
  readonly executable: string;
  readonly argv: readonly string[];
  readonly exitCode: number;
  /**
   * stdout and stderr, interleaved line by line in arrival order. `[V]` lines (--verbose, often 100+ MB for a UNet)
   * are streamed to onLine but not kept here.
   */
  readonly output: string;
  readonly log: TrtexecLog;
}

/** A failed trtexec run: SdqError('TOOL_FAILED') that also carries the parsed log. */
export class TrtexecError extends SdqError {
  readonly log: TrtexecLog;
  readonly exitCode: number | null;
  constructor(message: string, log: TrtexecLog, exitCode: number | null) {
    super('TOOL_FAILED', message);
    this.name = 'TrtexecError';
    this.log = log;
    this.exitCode = exitCode;
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return false;
    await access(file, process.platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds trtexec: the explicit path, then env TRTEXEC, then PATH. Throws SdqError('TOOL_MISSING') saying what to do. */
export async function resolveTrtexec(explicit?: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  for (const [given, how] of [[explicit, '--trtexec'], [env.TRTEXEC, 'TRTEXEC']] as const) {
    if (given === undefined || given === '') continue;
    if (await isExecutableFile(given)) return path.resolve(given);
    throw new SdqError('TOOL_MISSING', `trtexec given by ${how} (${given}) is not an executable file. ${TRTEXEC_MISSING_HELP}`);
  }
  const names = process.platform === 'win32' ? ['trtexec.exe', 'trtexec'] : ['trtexec'];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  throw new SdqError('TOOL_MISSING', `trtexec (TensorRT's command-line builder) was not found (no --trtexec, no TRTEXEC, not on PATH). ${TRTEXEC_MISSING_HELP}`);
}

const MAX_ERROR_LINES = 12;
const MAX_ERROR_CHARS = 400;

/** What to try next, judged from the [E] lines. */
function failureHint(errors: readonly string[], version?: TrtVersion): string {
  const all = errors.join('\n');
  const unknown = /Unknown option: (\S+)/.exec(all);
  if (unknown) {
    const v = version ? `TensorRT ${version.major}.${version.minor}` : 'this TensorRT';
    return `${v}'s trtexec does not take ${unknown[1]}: plan for the installed version (--trt-version ${version ? `${version.major}.${version.minor}` : '<major.minor>'}, or let sdq detect it).`;
  }
  if (/out of memory|OutOfMemory/i.test(all)) {
    return 'The GPU ran out of memory while building: lower the max shapes (batch, image size), the workspace (--memPoolSize) or builderOptimizationLevel, or free GPU memory used by other processes.';
  }
  if (/Failed to parse onnx file|Parsing model failed/.test(all)) {
    return 'TensorRT could not parse the ONNX model: run lintForTensorRT (sdq build reports its findings) and fix the node the parser names.';
  }
  return 'See the full trtexec log (rerun with --verbose for more).';
}

/** The [E]/[F] lines worth showing: deduplicated, each clipped, at most a dozen. */
export function relevantErrorLines(log: TrtexecLog): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of log.errors) {
    const line = e.length > MAX_ERROR_CHARS ? `${e.slice(0, MAX_ERROR_CHARS)}...` : e;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  return out.length > MAX_ERROR_LINES ? [...out.slice(0, MAX_ERROR_LINES - 1), `... (${out.length - MAX_ERROR_LINES + 1} more)`] : out;
}

function lineSplitter(onLine: (text: string) => void): { push(chunk: Buffer): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString('utf8');
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
      }
    },
    end() {
      if (rest !== '') onLine(rest);
      rest = '';
    },
  };
}

const SEVERITY = /^(?:\[\d\d\/\d\d\/\d{4}-\d\d:\d\d:\d\d\] )?\[([FEWIV])\] /;

/**
 * Runs trtexec with `argv`, streams its lines to `onLine`, parses the log. Resolves on exit code 0; otherwise
 * throws TrtexecError (SdqError 'TOOL_FAILED') naming `label` with the relevant [E] lines only.
 * A missing executable throws SdqError('TOOL_MISSING').
 */
export async function runTrtexec(argv: readonly string[], options: RunTrtexecOptions = {}): Promise<TrtexecRunResult> {
  const env = options.env ?? process.env;
  const executable = await resolveTrtexec(options.trtexec, env);
  const lines: string[] = [];
  const byStream: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
  const onnx = argv.find((a) => a.startsWith('--onnx='))?.slice('--onnx='.length);
  const label = options.label ?? (onnx ? `the engine for ${onnx}` : 'the engine');
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(executable, [...argv], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const take = (stream: 'stdout' | 'stderr') => (text: string) => {
      const sev = SEVERITY.exec(text);
      if (sev?.[1] !== 'V') {
        lines.push(text);
        byStream[stream].push(text);
      }
      options.onLine?.({ stream, text, ...(sev ? { severity: sev[1] as LogSeverity } : {}) });
    };
    const out = lineSplitter(take('stdout'));
    const err = lineSplitter(take('stderr'));
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') {
        reject(new SdqError('TOOL_MISSING', `trtexec at ${executable} could not be started (${e.code}). ${TRTEXEC_MISSING_HELP}`, { cause: e }));
      } else if (e.name === 'AbortError') {
        reject(new SdqError('RUNTIME_ERROR', `building ${label} was cancelled.`, { cause: e }));
      } else {
        reject(new SdqError('TOOL_FAILED', `trtexec at ${executable} failed to start for ${label}: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      resolve({ code, signal });
    });
  });
  const output = lines.join('\n') + (lines.length ? '\n' : '');
  // Parsed per stream: [E]/[W] go to stderr and [I] to stdout, and the two pipes interleave arbitrarily, so a
  // multi-line error's continuation lines are only looked for on its own stream.
  const log = parseTrtexecLog([...byStream.stdout, ...byStream.stderr].join('\n') + '\n');
  if (exit.code !== 0) {
    const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const errors = relevantErrorLines(log);
    const shown = errors.length ? `\n${errors.map((e) => `  [E] ${e.replace(/\n/g, '\n      ')}`).join('\n')}` : ' (it printed no [E] lines)';
    throw new TrtexecError(`trtexec failed building ${label}: it ${how}.${shown}\n${failureHint(log.errors, log.version)}`, log, exit.code);
  }
  return { executable, argv: [...argv], exitCode: 0, output, log };
}

/** Asks trtexec which TensorRT it is (`trtexec --help` prints `[TensorRT v...]` first). */
export async function detectTrtexecVersion(options: RunTrtexecOptions = {}): Promise<TrtVersion> {
  let run: TrtexecRunResult;
  try {
    run = await runTrtexec(['--help'], { ...options, onLine: undefined });
  } catch (e) {
    if (!(e instanceof TrtexecError)) throw e;
    throw new SdqError('TOOL_FAILED', `trtexec --help failed (exit code ${e.exitCode}), so its TensorRT version is unknown: check the installation (library path, CUDA driver) or pass --trt-version <major.minor>.`, { cause: e });
  }
  if (!run.log.version) {
    throw new SdqError('TOOL_FAILED', `${run.executable} --help printed no "[TensorRT v...]" tag, so its version is unknown: pass --trt-version <major.minor>.`);
  }
  return run.log.version;
}
