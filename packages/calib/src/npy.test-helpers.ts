export { DataType, dtypeInfo } from '@sdq/quant';

/** IEEE 754 half bits -> number (test oracle, independent of @sdq/quant's converter). */
export function float16ToFloat32Maybe(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
