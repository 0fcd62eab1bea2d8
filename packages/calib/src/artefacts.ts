import { readFile } from 'node:fs/promises';
import { SdqError } from '@sdq/quant';
import { writeFileAtomic } from './files.js';
import type { Range, RangesFile } from './stats.js';

/** TensorRT-oriented calibration ranges: amax = max(|min|, |max|), scale = amax / 127 (symmetric int8). */
export interface CalibrationJson {
  readonly format: 'sdq-calibration';
  readonly version: 1;
  readonly method: string;
  readonly tensors: Record<string, { min: number; max: number; amax: number; scale: number }>;
}

/** ranges.json -> calibration.json content (what @sdq/pipeline turns into a TensorRT calibration cache). */
export function toCalibrationJson(ranges: RangesFile): CalibrationJson {
  const tensors: CalibrationJson['tensors'] = {};
  for (const [name, [min, max]] of Object.entries(ranges.ranges)) {
    const amax = Math.max(Math.abs(min), Math.abs(max));
    tensors[name] = { min, max, amax, scale: Math.fround(amax / 127) };
  }
  return { format: 'sdq-calibration', version: 1, method: ranges.method, tensors };
}

export async function writeRangesJson(path: string, ranges: RangesFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(ranges, null, 1)}\n`);
}

export async function writeCalibrationJson(path: string, ranges: RangesFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(toCalibrationJson(ranges), null, 1)}\n`);
}

function isRange(v: unknown): v is Range {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] <= v[1];
}

/**
 * Read per-tensor ranges from sdq's ranges.json, sdq's calibration.json, or a plain `{ tensor: [min, max] }` object
 * (e.g. onnxruntime ranges dumped to JSON). Throws naming the file and the bad entry.
 */
export async function readRanges(path: string): Promise<Record<string, Range>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new SdqError('BAD_FORMAT', `${path}: cannot read ranges (${(e as Error).message}); pass a ranges.json written by sdq calibrate`, { cause: e });
  }
  const obj = doc as Record<string, unknown>;
  const out: Record<string, Range> = {};
  if (obj && obj.format === 'sdq-calibration' && typeof obj.tensors === 'object' && obj.tensors) {
    for (const [k, v] of Object.entries(obj.tensors as Record<string, { min?: unknown; max?: unknown }>)) {
      const r = [v.min, v.max];
      if (!isRange(r)) throw new SdqError('BAD_FORMAT', `${path}: tensor '${k}' has no valid min/max`);
      out[k] = r;
    }
    return out;
  }
  const table = obj && typeof obj.ranges === 'object' && obj.ranges ? (obj.ranges as Record<string, unknown>) : obj;
  if (!table || typeof table !== 'object') throw new SdqError('BAD_FORMAT', `${path}: expected an object of tensor ranges`);
  for (const [k, v] of Object.entries(table)) {
    const r = Array.isArray(v) ? v : [(v as { min?: unknown })?.min, (v as { max?: unknown })?.max];
    if (!isRange(r)) throw new SdqError('BAD_FORMAT', `${path}: tensor '${k}' has no valid [min, max] range (got ${JSON.stringify(v)})`);
    out[k] = r;
  }
  if (Object.keys(out).length === 0) throw new SdqError('EMPTY_INPUT', `${path}: no tensor ranges`);
  return out;
}
