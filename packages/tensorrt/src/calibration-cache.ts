import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { SdqError } from '@sdq/quant';
import { checkTrtVersion, parseTrtVersion, trtVersionToNumber, type TrtVersion } from './version.js';

/**
 * TensorRT's INT8 calibration cache, the text file IInt8Calibrator::writeCalibrationCache produces:
 *
 *   TRT-<NV_TENSORRT_VERSION>-<algorithm>          e.g. TRT-8601-EntropyCalibration2
 *   <tensor name>: <8 hex digits>                  the float32 scale's bits, most significant first
 *
 * TensorRT's dynamic range for a tensor is +-127 * scale (trtexec's setTensorScalesFromCalibration), so scale = amax/127.
 * TensorRT reads the name as everything before the last ':' and the scale as the 8 characters after ': '.
 */
export type CalibrationAlgorithm = 'EntropyCalibration2' | 'EntropyCalibration' | 'MinMaxCalibration' | 'LegacyCalibration';

export interface CalibrationCacheEntry {
  readonly name: string;
  /** float32 scale (amax / 127). */
  readonly scale: number;
}

export interface CalibrationCache {
  /** The number in the header as written: NV_TENSORRT_VERSION (101600) or a placeholder such as `8XXX`. */
  readonly version: string;
  readonly algorithm: CalibrationAlgorithm;
  readonly entries: readonly CalibrationCacheEntry[];
  /** Line ending found in the file ('\n' unless it used '\r\n'), kept for an exact round trip. */
  readonly lineEnding?: '\n' | '\r\n';
  /** Whether the last line ended with a line break (TensorRT writes one). Default true. */
  readonly finalNewline?: boolean;
}

const ALGORITHMS: readonly CalibrationAlgorithm[] = ['EntropyCalibration2', 'EntropyCalibration', 'MinMaxCalibration', 'LegacyCalibration'];
const HEADER = /^TRT-([0-9A-Za-z]+)-([A-Za-z0-9]+)$/;
const ENTRY = /^(.*): ([0-9a-fA-F]{8})$/;

/** float32 bits, big-endian hex: the scale as TensorRT prints it. */
export function scaleToHex(scale: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, scale, false);
  return view.getUint32(0, false).toString(16).padStart(8, '0');
}

export function hexToScale(hex: string): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, parseInt(hex, 16), false);
  return view.getFloat32(0, false);
}

/** Parses cache text/bytes. `file` only names the source in error messages. */
export function parseCalibrationCache(data: string | Uint8Array, file = 'calibration cache'): CalibrationCache {
  let text: string;
  try {
    text = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new SdqError('BAD_FORMAT', `${file}: not UTF-8 text, so not a TensorRT calibration cache.`);
  }
  const lineEnding = text.includes('\r\n') ? '\r\n' : '\n';
  const finalNewline = text.endsWith('\n');
  const lines = text.split(lineEnding);
  if (finalNewline) lines.pop();
  const header = HEADER.exec(lines[0] ?? '');
  if (!header) {
    throw new SdqError('BAD_FORMAT', `${file}: first line "${(lines[0] ?? '').slice(0, 60)}" is not a TensorRT calibration cache header like TRT-8601-EntropyCalibration2.`);
  }
  const algorithm = header[2] as CalibrationAlgorithm;
  if (!ALGORITHMS.includes(algorithm)) {
    throw new SdqError('BAD_FORMAT', `${file}: calibration algorithm "${header[2]}" is not one of ${ALGORITHMS.join(', ')}.`);
  }
  const entries: CalibrationCacheEntry[] = [];
  lines.slice(1).forEach((line, i) => {
    const m = ENTRY.exec(line);
    if (!m || m[1] === '') {
      throw new SdqError('BAD_FORMAT', `${file}: line ${i + 2} "${line.slice(0, 80)}" is not "<tensor name>: <8 hex digits>".`);
    }
    if (m[2] !== m[2].toLowerCase()) {
      throw new SdqError('BAD_FORMAT', `${file}: line ${i + 2} has upper-case hex "${m[2]}"; TensorRT writes lower case, so this file was edited by hand: lower-case it.`);
    }
    const scale = hexToScale(m[2]);
    if (Number.isNaN(scale)) {
      throw new SdqError('BAD_FORMAT', `${file}: tensor "${m[1]}" has a NaN scale (${m[2]}): recalibrate it.`);
    }
    entries.push({ name: m[1], scale });
  });
  return { version: header[1], algorithm, entries, lineEnding, finalNewline };
}

/** Serializes a cache; parse(format(c)) gives c back and format(parse(bytes)) gives the bytes back. */
export function formatCalibrationCache(cache: CalibrationCache): string {
  const eol = cache.lineEnding ?? '\n';
  const lines = [`TRT-${cache.version}-${cache.algorithm}`];
  for (const e of cache.entries) {
    if (e.name === '' || /[\r\n]/.test(e.name)) {
      throw new SdqError('INVALID_ARGUMENT', `calibration cache tensor name ${JSON.stringify(e.name)} must be non-empty and on one line.`);
    }
    lines.push(`${e.name}: ${scaleToHex(e.scale)}`);
  }
  return lines.join(eol) + ((cache.finalNewline ?? true) ? eol : '');
}

export async function readCalibrationCache(file: string): Promise<CalibrationCache> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read calibration cache ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseCalibrationCache(bytes, file);
}

/** Writes atomically (temp file, then rename), so a failed write never leaves half a cache. */
export async function writeCalibrationCache(file: string, cache: CalibrationCache): Promise<void> {
  const text = formatCalibrationCache(cache);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SdqError('IO_ERROR', `cannot write calibration cache ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Activation range of one tensor, as @sdq/calib's ranges.json holds it. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/** tensor name -> range: a Map, or a plain object with {min, max} or [min, max] values (the `ranges` of ranges.json). */
export type RangesInput = ReadonlyMap<string, TensorRange> | Readonly<Record<string, TensorRange | readonly [number, number]>>;

export interface CacheFromRangesOptions {
  /**
   * TensorRT the cache is for, as `'10.16'` (parseTrtVersion's forms) or a TrtVersion; the header must match the
   * builder's version or TensorRT ignores/rejects it.
   */
  readonly trtVersion: TrtVersion | string;
  /**
   * Header algorithm. trtexec's own calibrator is an IInt8EntropyCalibrator2, and TensorRT checks the header against
   * the calibrator's algorithm, so keep the default EntropyCalibration2 for `--calib` even if the ranges came from MinMax.
   */
  readonly algorithm?: CalibrationAlgorithm;
  /**
   * A tensor whose range is [0, 0] (a constant zero) has no usable scale. Default 'skip': it is left out of the cache
   * (TensorRT then keeps it out of INT8) and reported through onSkip; 'error' throws.
   */
  readonly zeroRange?: 'skip' | 'error';
  readonly onSkip?: (tensor: string, reason: string) => void;
}

/** Symmetric int8 scale for TensorRT: amax / 127, amax = max(|min|, |max|). */
export function trtScaleFromRange(r: TensorRange): number {
  return Math.max(Math.abs(r.min), Math.abs(r.max)) / 127;
}

function rangeEntries(ranges: RangesInput): [string, TensorRange][] {
  const list: [string, TensorRange | readonly [number, number]][] = ranges instanceof Map ? [...ranges.entries()] : Object.entries(ranges);
  return list.map(([name, r]) => [name, Array.isArray(r) ? { min: (r as readonly number[])[0], max: (r as readonly number[])[1] } : (r as TensorRange)]);
}

/** A cache from activation ranges ({ name: { min, max } } or ranges.json's `ranges`), in the input's order. */
export function calibrationCacheFromRanges(ranges: RangesInput, options: CacheFromRangesOptions): CalibrationCache {
  const entries: CalibrationCacheEntry[] = [];
  for (const [name, r] of rangeEntries(ranges)) {
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min > r.max) {
      throw new SdqError('INVALID_RANGE', `range of tensor "${name}" is [${r.min}, ${r.max}]: it must be finite with min <= max (recalibrate that tensor).`);
    }
    const scale = Math.fround(trtScaleFromRange(r));
    if (scale === 0) {
      if (options.zeroRange === 'error') {
        throw new SdqError('INVALID_RANGE', `range of tensor "${name}" is [0, 0]: TensorRT needs a positive scale; drop the tensor from the ranges or recalibrate with data that reaches it.`);
      }
      options.onSkip?.(name, 'range [0, 0] has no positive scale');
      continue;
    }
    entries.push({ name, scale });
  }
  const trt = typeof options.trtVersion === 'string' ? parseTrtVersion(options.trtVersion) : checkTrtVersion(options.trtVersion);
  return { version: String(trtVersionToNumber(trt)), algorithm: options.algorithm ?? 'EntropyCalibration2', entries };
}
