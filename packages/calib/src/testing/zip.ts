/**
 * Test helper: builds zip/.npz bytes member by member with whatever sizes, CRCs and names a test asks for, so tests
 * can make hostile archives (compression bombs, lying headers, path names) without shipping them as files.
 */
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';

export interface ZipMemberSpec {
  /** File name as stored (e.g. `sample_0.npy`, `../../evil.npy`). */
  readonly fileName: string;
  /** The member's bytes as they lie in the file (already deflated when `method` is 8). */
  readonly payload: Uint8Array;
  readonly method: 0 | 8;
  /** Inflated size the central directory declares. */
  readonly size: number;
  readonly crc: number;
  /** Inflated size the local header declares (default: `size`). */
  readonly localSize?: number;
}

/** A NumPy v1 .npy header for `shape` of `descr` (numpy's padding to a multiple of 64 bytes). */
export function npyHeader(shape: readonly number[], descr = '<f4'): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

/**
 * A raw deflate stream of `head` followed by `zeroMiB` MiB of zero bytes, built from one compressed MiB repeated (so a
 * GiB bomb costs ~1 MiB here, never the GiB; no CRC, a bomb is refused before it). Sync-flushed pieces of fresh compressors concatenate into one stream.
 */
export function deflatedBomb(head: Uint8Array, zeroMiB: number): { payload: Uint8Array; size: number } {
  const flush = { finishFlush: zlibConstants.Z_SYNC_FLUSH };
  const mib = new Uint8Array(1024 * 1024);
  const zeros = deflateRawSync(mib, flush);
  const parts: Uint8Array[] = [deflateRawSync(head, flush)];
  for (let i = 0; i < zeroMiB; i++) parts.push(zeros);
  parts.push(deflateRawSync(new Uint8Array(0)));
  return { payload: Buffer.concat(parts), size: head.length + zeroMiB * mib.length };
}

/** Zip bytes: local headers + payloads, central directory, end record (no ZIP64; sizes must fit 32 bits). */
export function buildZip(members: readonly ZipMemberSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.fileName);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, m.method, true);
    lv.setUint32(14, m.crc, true);
    lv.setUint32(18, m.payload.length, true);
    lv.setUint32(22, m.localSize ?? m.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, m.method, true);
    cv.setUint32(16, m.crc, true);
    cv.setUint32(20, m.payload.length, true);
    cv.setUint32(24, m.size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, m.payload);
    central.push(cd);
    offset += local.length + m.payload.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, end]);
}
