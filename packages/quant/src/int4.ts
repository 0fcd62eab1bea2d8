import { SdqError } from './errors.js';

/** Pack 4-bit values two per byte, low nibble first (ONNX INT4/UINT4 layout; onnxruntime pack_bytes_to_4bit). */
export function packInt4(values: ArrayLike<number>, signed = true): Uint8Array {
  const n = values.length;
  const [lo, hi] = signed ? [-8, 7] : [0, 15];
  const out = new Uint8Array((n + 1) >> 1);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new SdqError('INVALID_ARGUMENT', `packInt4: value ${v} at index ${i} is not a ${signed ? 'int4' : 'uint4'} (${lo}..${hi}); quantize to that type first`);
    }
    out[i >> 1] |= (v & 0xf) << ((i & 1) * 4);
  }
  return out;
}

/** Unpack `count` 4-bit values (low nibble first); signed values are sign-extended into an Int8Array. */
export function unpackInt4(bytes: Uint8Array, count: number, signed = true): Int8Array | Uint8Array {
  if (!Number.isInteger(count) || count < 0 || (count + 1) >> 1 > bytes.length) {
    throw new SdqError('INVALID_ARGUMENT', `unpackInt4: ${bytes.length} bytes hold at most ${bytes.length * 2} values, asked for ${count}`);
  }
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const nib = (bytes[i >> 1] >> ((i & 1) * 4)) & 0xf;
    out[i] = signed ? (nib << 28) >> 28 : nib;
  }
  return out;
}
