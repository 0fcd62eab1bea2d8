import { trtVersionFromLog, trtVersionToNumber, type TrtVersion } from './version.js';

/** trtexec's severity prefixes (samples/common/logging.h): [F] internal error, [E], [W], [I], [V]. */
export type LogSeverity = 'F' | 'E' | 'W' | 'I' | 'V';

export interface LogEntry {
  readonly severity: LogSeverity;
  /** `trt` for messages from the TensorRT library (`[I] [TRT] ...`), `trtexec` for the tool's own. */
  readonly source: 'trt' | 'trtexec';
  /** The message without timestamp and prefixes; continuation lines joined with `\n`. */
  readonly message: string;
  readonly timestamp?: string;
}

/** One line of trtexec's `=== Performance summary ===`, in ms: `min = ..., max = ..., mean = ..., median = ..., percentile(90%) = ...`. */
export interface TimingStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly median: number;
  /** Keyed by the percentile as trtexec prints it: `90`, `95`, `99`. */
  readonly percentiles: Readonly<Record<string, number>>;
}

export interface PerformanceSummary {
  readonly throughputQps?: number;
  readonly latencyMs?: TimingStats;
  readonly enqueueTimeMs?: TimingStats;
  readonly h2dLatencyMs?: TimingStats;
  readonly gpuComputeTimeMs?: TimingStats;
  readonly d2hLatencyMs?: TimingStats;
  readonly totalHostWalltimeSec?: number;
  readonly totalGpuComputeTimeSec?: number;
}

export interface GpuInfo {
  readonly name: string;
  readonly computeCapability?: string;
  readonly memoryMiB?: number;
}

export interface TrtexecLog {
  readonly version?: TrtVersion;
  /** NV_TENSORRT_VERSION as printed, e.g. 101600. */
  readonly versionNumber?: number;
  /** From the `&&&& PASSED|FAILED TensorRT.trtexec` line; undefined when the run printed none. */
  readonly result?: 'PASSED' | 'FAILED' | 'WAIVED';
  /** The command line trtexec echoes after `#`. */
  readonly command?: string;
  readonly gpu?: GpuInfo;
  /** `Precision: FP32+FP16` or `Strongly Typed` from the build options dump. */
  readonly precision?: string;
  readonly buildTimeSec?: number;
  readonly engineSizeMiB?: number;
  readonly performance?: PerformanceSummary;
  readonly warnings: readonly string[];
  /** [E] and [F] messages, in order. */
  readonly errors: readonly string[];
  readonly entries: readonly LogEntry[];
}

const LINE = /^(?:\[(\d\d\/\d\d\/\d{4}-\d\d:\d\d:\d\d)\] )?\[([FEWIV])\] (\[TRT\] )?(.*)$/;
const RESULT = /^&&&& (RUNNING|PASSED|FAILED|WAIVED) TensorRT\.trtexec .*?# (.*)$/;
/** A message continues on unprefixed lines (the ONNX parser's multi-line errors); cap so a stray dump stays out. */
const MAX_CONTINUATION_LINES = 12;

const num = String.raw`([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan)`;

function toNumber(s: string): number {
  if (/^[-+]?inf$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  return Number(s);
}

/** Parses `min = 1.23 ms, max = ..., mean = ..., median = ..., percentile(90%) = ... ms, ...`. */
export function parseTimingStats(text: string): TimingStats | undefined {
  const get = (key: string): number | undefined => {
    const m = new RegExp(`\\b${key} = ${num} ms`).exec(text);
    return m ? toNumber(m[1]) : undefined;
  };
  const min = get('min');
  const max = get('max');
  const mean = get('mean');
  const median = get('median');
  if (min === undefined || max === undefined || mean === undefined || median === undefined) return undefined;
  const percentiles: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`percentile\\(([\\d.]+)%\\) = ${num} ms`, 'g'))) {
    percentiles[m[1]] = toNumber(m[2]);
  }
  return { min, max, mean, median, percentiles };
}

function parseEntries(text: string): { entries: LogEntry[]; result?: TrtexecLog['result']; command?: string } {
  const entries: LogEntry[] = [];
  let result: TrtexecLog['result'];
  let command: string | undefined;
  let continuation = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    const r = RESULT.exec(line);
    if (r) {
      if (r[1] !== 'RUNNING') result = r[1] as TrtexecLog['result'];
      command ??= r[2];
      continuation = MAX_CONTINUATION_LINES;
      continue;
    }
    const m = LINE.exec(line);
    if (m) {
      entries.push({ severity: m[2] as LogSeverity, source: m[3] ? 'trt' : 'trtexec', message: m[4], ...(m[1] ? { timestamp: m[1] } : {}) });
      continuation = 0;
      continue;
    }
    const last = entries[entries.length - 1];
    if (line !== '' && last && (last.severity === 'E' || last.severity === 'F' || last.severity === 'W') && continuation < MAX_CONTINUATION_LINES) {
      entries[entries.length - 1] = { ...last, message: `${last.message}\n${line}` };
      continuation++;
    } else {
      continuation = MAX_CONTINUATION_LINES;
    }
  }
  return { entries, result, command };
}

function lastMatch(entries: readonly LogEntry[], re: RegExp): RegExpExecArray | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const m = re.exec(entries[i].message);
    if (m) return m;
  }
  return undefined;
}

function parsePerformance(entries: readonly LogEntry[]): PerformanceSummary | undefined {
  const start = entries.findIndex((e) => e.message === '=== Performance summary ===');
  if (start < 0) return undefined;
  const perf: Record<string, unknown> = {};
  const statLines: Record<string, string> = {
    'Latency: ': 'latencyMs',
    'Enqueue Time: ': 'enqueueTimeMs',
    'H2D Latency: ': 'h2dLatencyMs',
    'GPU Compute Time: ': 'gpuComputeTimeMs',
    'D2H Latency: ': 'd2hLatencyMs',
  };
  for (const e of entries.slice(start + 1)) {
    if (e.message.startsWith('===')) break;
    const tp = new RegExp(`^Throughput: ${num} qps`).exec(e.message);
    if (tp) perf.throughputQps = toNumber(tp[1]);
    const wall = new RegExp(`^Total Host Walltime: ${num} s`).exec(e.message);
    if (wall) perf.totalHostWalltimeSec = toNumber(wall[1]);
    const gpu = new RegExp(`^Total GPU Compute Time: ${num} s`).exec(e.message);
    if (gpu) perf.totalGpuComputeTimeSec = toNumber(gpu[1]);
    for (const [prefix, key] of Object.entries(statLines)) {
      if (e.message.startsWith(prefix)) {
        const s = parseTimingStats(e.message.slice(prefix.length));
        if (s) perf[key] = s;
      }
    }
  }
  return perf as PerformanceSummary;
}

/**
 * Structured view of a trtexec run's output (stdout and stderr together): version, GPU, build time, engine size,
 * the performance summary, warnings and errors. Pure; tolerates partial logs (a crashed or failed run).
 */
export function parseTrtexecLog(text: string): TrtexecLog {
  const { entries, result, command } = parseEntries(text);
  const version = trtVersionFromLog(text);
  const gpuName = lastMatch(entries, /^Selected Device: (.+)$/);
  const cc = lastMatch(entries, /^Compute Capability: (\S+)$/);
  const mem = lastMatch(entries, /^Device Global Memory: (\d+) MiB$/);
  const built = lastMatch(entries, new RegExp(`^Engine built in ${num} sec\\.`));
  const size = lastMatch(entries, new RegExp(`^Created engine with size: ${num} MiB`));
  const precision = lastMatch(entries, /^Precision: (.+)$/);
  const performance = parsePerformance(entries);
  return {
    ...(version ? { version, versionNumber: trtVersionToNumber(version) } : {}),
    ...(result ? { result } : {}),
    ...(command !== undefined ? { command } : {}),
    ...(gpuName
      ? { gpu: { name: gpuName[1].trim(), ...(cc ? { computeCapability: cc[1] } : {}), ...(mem ? { memoryMiB: Number(mem[1]) } : {}) } }
      : {}),
    ...(precision ? { precision: precision[1].trim() } : {}),
    ...(built ? { buildTimeSec: toNumber(built[1]) } : {}),
    ...(size ? { engineSizeMiB: toNumber(size[1]) } : {}),
    ...(performance ? { performance } : {}),
    warnings: entries.filter((e) => e.severity === 'W').map((e) => e.message),
    errors: entries.filter((e) => e.severity === 'E' || e.severity === 'F').map((e) => e.message),
    entries,
  };
}
