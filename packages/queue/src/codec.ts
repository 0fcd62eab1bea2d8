// Shard results as JSON for Redis and the shard store: every float as its exact float64 bits (base64), histogram
// counts deflated (mostly zeros), so what a worker computed is what the coordinator merges, bit for bit.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SdqError } from '@sdq/quant';
import type { ExtremaPass, HistogramPass } from '@sdq/calib';

export interface EncodedExtrema {
  readonly batches: number;
  readonly names: string[];
  readonly types: string[];
  /** float64 [range lo, range hi, min, max, absMin, elements] per tensor, base64. */
  readonly numbers: string;
}

export interface EncodedHistograms {
  readonly batches: number;
  readonly names: string[];
  readonly bins: number[];
  /** All counts concatenated as float64, deflated, base64. */
  readonly counts: string;
}

const FIELDS = 6;

function toBase64(values: Float64Array, deflate = false): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return Buffer.from(deflate ? deflateRawSync(bytes) : bytes).toString('base64');
}

function fromBase64(text: string, length: number, what: string, inflate = false): Float64Array {
  const raw = Buffer.from(text, 'base64');
  const bytes = inflate ? inflateRawSync(raw) : raw;
  if (bytes.byteLength !== length * 8) throw new SdqError('BAD_FORMAT', `${what}: ${bytes.byteLength} bytes where ${length} float64 values were expected; the shard result is corrupt, delete it from the shard store`);
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(bytes);
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
  return { batches: pass.batches, names, bins, counts: toBase64(all, true) };
}

export function decodeHistograms(e: EncodedHistograms): HistogramPass {
  const all = fromBase64(e.counts, e.bins.reduce((a, b) => a + b, 0), 'calibration histograms', true);
  const counts = new Map<string, Float64Array>();
  let at = 0;
  e.names.forEach((name, i) => {
    counts.set(name, all.slice(at, at + e.bins[i]));
    at += e.bins[i];
  });
  return { batches: e.batches, counts };
}
