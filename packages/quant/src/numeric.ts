/**
 * Float32 arithmetic as numpy does it, so results match onnxruntime's Python tools bit for bit.
 * Every helper rounds to float32 after each operation where numpy's float32 loops would.
 */

export const f32 = Math.fround;

/** Smallest positive normal float32 (numpy.finfo(np.float32).tiny). */
export const FLOAT32_TINY = 1.1754943508222875e-38;
/** Largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** numpy.round / rint: round half to even (IEEE roundTiesToEven). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties go up (toward +inf)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** True when `x` is a float32 value (a JS number that survives Math.fround unchanged, NaN included). */
export function isFloat32(x: number): boolean {
  return Number.isNaN(x) || Math.fround(x) === x;
}

/**
 * numpy's float32 pairwise summation (numpy/_core/src/umath/loops_utils.h.src, PW_BLOCKSIZE 128):
 * 8 accumulators inside a block, halving recursion above it; all in float32.
 */
export function pairwiseSum32(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res = f32(res + a[start + i]);
    return res;
  }
  if (n <= 128) {
    // eight accumulators in locals, not an array: this runs once per block of every KL term sum (entropy search)
    let r0 = f32(a[start]), r1 = f32(a[start + 1]), r2 = f32(a[start + 2]), r3 = f32(a[start + 3]);
    let r4 = f32(a[start + 4]), r5 = f32(a[start + 5]), r6 = f32(a[start + 6]), r7 = f32(a[start + 7]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = start + i;
      r0 = f32(r0 + a[b]);
      r1 = f32(r1 + a[b + 1]);
      r2 = f32(r2 + a[b + 2]);
      r3 = f32(r3 + a[b + 3]);
      r4 = f32(r4 + a[b + 4]);
      r5 = f32(r5 + a[b + 5]);
      r6 = f32(r6 + a[b + 6]);
      r7 = f32(r7 + a[b + 7]);
    }
    let res = f32(f32(f32(r0 + r1) + f32(r2 + r3)) + f32(f32(r4 + r5) + f32(r6 + r7)));
    for (; i < n; i++) res = f32(res + a[start + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f32(pairwiseSum32(a, start, n2) + pairwiseSum32(a, start + n2, n - n2));
}

/** numpy's float64 pairwise summation (same blocking as float32, no rounding to float32). */
export function pairwiseSum64(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    }
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum64(a, start, n2) + pairwiseSum64(a, start + n2, n - n2);
}

/** np.linspace(start, stop, num, endpoint=True) with float32 start/stop: y_i = f32(f32(i * step) + start), last = stop. */
export function linspace32(start: number, stop: number, num: number): Float32Array {
  const out = new Float32Array(num);
  const div = num - 1;
  if (div <= 0) {
    if (num === 1) out[0] = start;
    return out;
  }
  const delta = f32(stop - start);
  const step = f32(delta / div);
  for (let i = 0; i < num; i++) {
    const y = step === 0 ? f32(f32(i / div) * delta) : f32(i * step);
    out[i] = f32(y + start);
  }
  out[num - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for float32 scalars: length ceil((stop-start)/step), values start + i*(f32(start+step)-start). */
export function arange32(start: number, stop: number, step: number): Float32Array {
  const len = Math.max(0, Math.ceil(f32(f32(stop - start) / step)));
  const out = new Float32Array(len);
  if (len === 0) return out;
  out[0] = start;
  if (len === 1) return out;
  out[1] = f32(start + step);
  const delta = f32(out[1] - start);
  for (let i = 2; i < len; i++) out[i] = f32(start + f32(i * delta));
  return out;
}

/** numpy float32 floor_divide (npy_divmodf): floor((a - fmod(a, b)) / b) with the sign fix-ups. */
export function floorDivide32(a: number, b: number): number {
  if (b === 0) return a / b;
  let mod = f32(a % b);
  let div = f32(f32(a - mod) / b);
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod = f32(mod + b);
      div = f32(div - 1);
    }
  }
  if (div !== 0) {
    let floordiv = Math.floor(div);
    if (f32(div - floordiv) > 0.5) floordiv = f32(floordiv + 1);
    return floordiv;
  }
  return Math.sign(a / b) < 0 || Object.is(a / b, -0) ? -0 : 0;
}
