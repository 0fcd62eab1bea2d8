// Shard results as JSON for Redis and the shard store: every float as its exact float64 bits (base64), histogram
// counts as LEB128 varints, deflated, so what a worker computed is what the coordinator merges, bit for bit.
// Counts are small integers in float64 (mostly under 2^14: one or two varint bytes instead of eight), and a third of
// the bins are zero: varints then the fastest deflate level give a payload a quarter smaller than deflated float64
// and encode four times faster (tools/bench/queue, docs/results.md), which is CPU a worker shares with its shard.
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { SdqError } from '@sdq/quant';
import type { ExtremaPass, HistogramPass } from '@sdq/calib';

export interface EncodedExtrema {
  readonly batches: number;
  readonly names: string[];
  readonly types: string[];
  /** float64 [range lo, range hi, min, max, absMin, elements] per tensor, base64. */
  readonly numbers: string;
}

/** How EncodedHistograms.counts is written; results of another layout (older stored shards) are computed again. */
export const HISTOGRAM_COUNTS_ENCODING = 'leb128-deflate';

export interface EncodedHistograms {
  readonly batches: number;
  readonly names: string[];
  readonly bins: number[];
  readonly encoding: typeof HISTOGRAM_COUNTS_ENCODING;
  /** All counts concatenated as unsigned LEB128 varints, deflated, base64. */
  readonly counts: string;
}

const FIELDS = 6;

function corrupt(what: string, why: string): SdqError {
  return new SdqError('BAD_FORMAT', `${what}: ${why}; the shard result is corrupt, delete it from the shard store`);
}

function toBase64(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function fromBase64(text: string, length: number, what: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== length * 8) throw corrupt(what, `${bytes.byteLength} bytes where ${length} float64 values were expected`);
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Unsigned LEB128 of each value (7 bits a byte, low bits first, high bit = more); exact for safe integers. */
function toVarints(values: Float64Array, what: string): Uint8Array {
  const out = new Uint8Array(values.length * 8); // 2^53 - 1 takes 8 bytes
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new SdqError('INVALID_ARGUMENT', `${what}: count ${v} at ${i} is not a non-negative integer`);
    // Division, not shifts: counts may exceed 2^32 (a large shard of SD-sized activations).
    while (v >= 0x80) {
      out[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[at++] = v;
  }
  return out.subarray(0, at);
}

function fromVarints(bytes: Uint8Array, length: number, what: string): Float64Array {
  const out = new Float64Array(length);
  let at = 0;
  for (let i = 0; i < length; i++) {
    let v = 0;
    let scale = 1;
    let b: number;
    do {
      if (at >= bytes.length) throw corrupt(what, `the counts end inside value ${i} of ${length}`);
      if (scale > 2 ** 49) throw corrupt(what, `count ${i} is longer than 8 bytes`);
      b = bytes[at++];
      v += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    if (!Number.isSafeInteger(v)) throw corrupt(what, `count ${i} is past 2^53`);
    out[i] = v;
  }
  if (at !== bytes.length) throw corrupt(what, `${bytes.length - at} bytes after the ${length} counts`);
  return out;
}

export function encodeExtrema(pass: ExtremaPass): EncodedExtrema {
  const numbers = new Float64Array(pass.tensors.length * FIELDS);
  pass.tensors.forEach((t, i) => numbers.set([t.range[0], t.range[1], t.min, t.max, t.absMin, t.elements], i * FIELDS));
  return { batches: pass.batches, names: pass.tensors.map((t) => t.name), types: pass.tensors.map((t) => t.type), numbers: toBase64(numbers) };
}

export function decodeExtrema(e: EncodedExtrema): ExtremaPass {
  const n = fromBase64(e.numbers, e.names.length * FIELDS, 'calibration extrema');
  return {
    batches: e.batches,
    tensors: e.names.map((name, i) => {
      const [lo, hi, min, max, absMin, elements] = n.subarray(i * FIELDS, (i + 1) * FIELDS);
      return { name, type: e.types[i], range: [lo, hi] as const, min, max, absMin, elements };
    }),
  };
}

export function encodeHistograms(pass: HistogramPass): EncodedHistograms {
  const names = [...pass.counts.keys()];
  const bins = names.map((n) => pass.counts.get(n)?.length ?? 0);
  const all = new Float64Array(bins.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const n of names) {
    const c = pass.counts.get(n) ?? new Float64Array(0);
    all.set(c, at);
    at += c.length;
  }
  const varints = toVarints(all, 'calibration histograms');
  return { batches: pass.batches, names, bins, encoding: HISTOGRAM_COUNTS_ENCODING, counts: deflateRawSync(varints, { level: zlibConstants.Z_BEST_SPEED }).toString('base64') };
}

export function decodeHistograms(e: EncodedHistograms): HistogramPass {
  const what = 'calibration histograms';
  if (e.encoding !== HISTOGRAM_COUNTS_ENCODING) throw corrupt(what, `counts encoded as ${String(e.encoding)}, not ${HISTOGRAM_COUNTS_ENCODING}`);
  let varints: Uint8Array;
  try {
    varints = inflateRawSync(Buffer.from(e.counts, 'base64'));
  } catch (cause) {
    throw corrupt(what, `the counts do not inflate (${(cause as Error).message})`);
  }
  const all = fromVarints(varints, e.bins.reduce((a, b) => a + b, 0), what);
  const counts = new Map<string, Float64Array>();
  let at = 0;
  e.names.forEach((name, i) => {
    counts.set(name, all.slice(at, at + e.bins[i]));
    at += e.bins[i];
  });
  return { batches: e.batches, counts };
}
