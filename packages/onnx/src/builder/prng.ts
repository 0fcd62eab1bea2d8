/**
 * Deterministic pseudo-random numbers for synthetic weights.
 *
 * Uniform: mulberry32 (Tommy Ettinger's 32-bit generator; state += 0x6D2B79F5, then two xorshift-multiply rounds).
 * Normal:  Box-Muller, z0 = sqrt(-2 ln u1) cos(2 pi u2), z1 = sqrt(-2 ln u1) sin(2 pi u2), both values used.
 * Seeds:   every tensor gets its own stream, seeded with fnv1a32(`${seed}:${tensorName}`), so a tensor's values
 *          depend only on the model seed and its name, never on construction order or on chunked generation.
 */

// Module-level bindings: hot loops then avoid global lookups (slow inside vm contexts such as jest's).
const { imul, sqrt, log, cos, sin, PI } = Math;
const TWO_PI = 2 * PI;

/** FNV-1a 32-bit hash of a string's UTF-16 code units (h = (h ^ c) * 16777619). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A mulberry32 stream with a Box-Muller normal sampler. Not for cryptography. */
export class Mulberry32 {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Seed derived from a model seed and a tensor name (see the module comment). */
  static forTensor(seed: number, name: string): Mulberry32 {
    return new Mulberry32(fnv1a32(`${seed}:${name}`));
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal N(0, 1) by Box-Muller (u1 in (0, 1] so the log is finite). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Fill `out` with mean + std * N(0, 1); the same sequence as calling normal() repeatedly, inlined for speed. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    const n = out.length;
    let i = 0;
    if (this.spare !== undefined && n > 0) {
      out[i++] = mean + std * this.spare;
      this.spare = undefined;
    }
    let s = this.state;
    for (; i + 1 < n; i += 2) {
      s = (s + 0x6d2b79f5) | 0;
      let t = imul(s ^ (s >>> 15), s | 1);
      t ^= t + imul(t ^ (t >>> 7), t | 61);
      const u1 = 1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      s = (s + 0x6d2b79f5) | 0;
      t = imul(s ^ (s >>> 15), s | 1);
      t ^= t + imul(t ^ (t >>> 7), t | 61);
      const u2 = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      const r = std * sqrt(-2 * log(u1));
      const a = TWO_PI * u2;
      out[i] = mean + r * cos(a);
      out[i + 1] = mean + r * sin(a);
    }
    this.state = s >>> 0;
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }
}
