import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { constants as zlibConstants, crc32, inflateRawSync } from 'node:zlib';
import { SdqError, byteSize, shapeSize } from '@sdq/quant';
import { decodeNpy, encodeNpy, parseNpyHeader } from './npy.js';
import type { CalibTensor } from './tensor.js';
import { tempPathFor } from './files.js';
import { rename, rm } from 'node:fs/promises';

// ZIP layout (APPNOTE.TXT 6.3.x): local headers + data, central directory, (ZIP64 end records), end of central directory.
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
/** General-purpose flag bit 3: sizes and CRC follow the data in a descriptor; the local header holds zeros. */
const DATA_DESCRIPTOR_FLAG = 0x8;
/** Default largest member (inflated .npy bytes) read into memory; calibration arrays are per sample and far smaller. */
export const DEFAULT_MAX_ARRAY_BYTES = 1024 ** 3;
/** Compressed bytes inflated to find a member's .npy header: at most ~1032x that (deflate's limit) comes out. */
const HEADER_PREFIX_BYTES = 4096;
/** Array names: identifiers joined by dots (what numpy and sdq write); anything else could be a path (`../x`). */
const ARRAY_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

export interface NpzReadOptions {
  /** Refuse members whose declared inflated size is larger than this (bytes; default 1 GiB). */
  readonly maxArrayBytes?: number;
}

/** One member of an .npz archive as listed by the central directory. */
export interface NpzMember {
  /** Array name (the member's file name without `.npy`). */
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes} bytes (${(bytes / 1024 / 1024).toFixed(1)} MiB)` : `${bytes} bytes`;
}

async function readAt(fh: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new SdqError('BAD_FORMAT', `${path}: unexpected end of file at byte ${position + done} (truncated archive?)`);
    done += bytesRead;
  }
  return buf;
}

function u64(view: DataView, at: number): number {
  return Number(view.getBigUint64(at, true));
}

/** Parse the central directory of a zip file without reading member data. */
async function readCentralDirectory(fh: FileHandle, fileSize: number, path: string): Promise<NpzMember[]> {
  const tailLen = Math.min(fileSize, 22 + 0xffff + 20);
  const tail = await readAt(fh, fileSize - tailLen, tailLen, path);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new SdqError('BAD_FORMAT', `${path}: not a zip/.npz archive (no end-of-central-directory record)`);
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR_SIG) {
    const z64At = u64(tv, eocd - 20 + 8);
    const z64 = await readAt(fh, z64At, 56, path);
    const zv = new DataView(z64.buffer);
    if (zv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new SdqError('BAD_FORMAT', `${path}: broken ZIP64 end record`);
    count = u64(zv, 32);
    cdSize = u64(zv, 40);
    cdOffset = u64(zv, 48);
  }
  if (cdOffset + cdSize > fileSize) {
    throw new SdqError('BAD_FORMAT', `${path}: central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the ${fileSize}-byte file (truncated or not a zip?)`);
  }
  const cd = await readAt(fh, cdOffset, cdSize, path);
  const cv = new DataView(cd.buffer);
  const members: NpzMember[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    if (at + 46 > cdSize || cv.getUint32(at, true) !== CENTRAL_SIG) throw new SdqError('BAD_FORMAT', `${path}: broken central directory entry ${k}`);
    const method = cv.getUint16(at + 10, true);
    const crc = cv.getUint32(at + 16, true);
    let compressedSize = cv.getUint32(at + 20, true);
    let size = cv.getUint32(at + 24, true);
    const nameLen = cv.getUint16(at + 28, true);
    const extraLen = cv.getUint16(at + 30, true);
    const commentLen = cv.getUint16(at + 32, true);
    let localHeaderOffset = cv.getUint32(at + 42, true);
    const fileName = new TextDecoder().decode(cd.subarray(at + 46, at + 46 + nameLen));
    // ZIP64 extended information: only the fields whose 32-bit slot is 0xFFFFFFFF are present, in this order.
    let e = at + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let f = e + 4;
        if (size === 0xffffffff) { size = u64(cv, f); f += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = u64(cv, f); f += 8; }
        if (localHeaderOffset === 0xffffffff) { localHeaderOffset = u64(cv, f); f += 8; }
      }
      e += 4 + len;
    }
    at = extraEnd + commentLen;
    if (fileName.endsWith('/')) continue;
    const name = fileName.endsWith('.npy') ? fileName.slice(0, -4) : fileName;
    if (!ARRAY_NAME.test(name)) {
      throw new SdqError('BAD_FORMAT', `${path}: member ${JSON.stringify(fileName)} is not a plain array name (letters, digits, _ and dots); refusing the archive`);
    }
    if (method === STORED && compressedSize !== size) {
      throw new SdqError('BAD_FORMAT', `${path}: member '${name}' is stored uncompressed but declares ${sizeText(size)} of data and ${sizeText(compressedSize)} in the archive; the archive is corrupt or hostile`);
    }
    // A member's header and data lie before the central directory; larger claims are lies that would make us allocate.
    if (localHeaderOffset + 30 + compressedSize > cdOffset) {
      throw new SdqError('BAD_FORMAT', `${path}: member '${name}' claims ${compressedSize} compressed bytes at offset ${localHeaderOffset}, which does not fit before the central directory at ${cdOffset}`);
    }
    members.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset });
  }
  return members;
}

/**
 * An open .npz archive: lists its arrays from the central directory and reads one member at a time, so memory holds
 * one array, never the whole archive. Close it when done.
 */
export class NpzArchive {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly members: readonly NpzMember[],
    private readonly byName: ReadonlyMap<string, NpzMember>,
    private readonly maxArrayBytes: number,
  ) {}

  static async open(path: string, options: NpzReadOptions = {}): Promise<NpzArchive> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new SdqError('IO_ERROR', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const { size } = await fh.stat();
      const members = await readCentralDirectory(fh, size, path);
      return new NpzArchive(path, fh, members, new Map(members.map((m) => [m.name, m])), options.maxArrayBytes ?? DEFAULT_MAX_ARRAY_BYTES);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Array names in archive order. */
  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Read and decode one array. Before inflating anything the member's sizes are checked against each other (central
   * directory, local header, the .npy header's shape x itemsize) and against `maxArrayBytes`; inflation stops at the
   * declared size, so a compression bomb costs at most that much memory.
   */
  async read(name: string): Promise<CalibTensor> {
    const m = this.byName.get(name);
    if (!m) {
      const some = this.names.slice(0, 8).join(', ');
      throw new SdqError('NOT_FOUND', `${this.path}: no array '${name}' (it has ${this.members.length}: ${some}${this.members.length > 8 ? ', ...' : ''})`);
    }
    const where = `${this.path}: member '${name}'`;
    if (m.method !== STORED && m.method !== DEFLATED) {
      throw new SdqError('UNSUPPORTED', `${where} uses zip compression method ${m.method}; only stored (0) and deflated (8) are supported`);
    }
    if (m.size > this.maxArrayBytes) {
      throw new SdqError('BAD_FORMAT', `${where} declares ${sizeText(m.size)} inflated (${sizeText(m.compressedSize)} compressed), over the ${sizeText(this.maxArrayBytes)} limit for one array; store calibration data one sample per array (sample_0, sample_1, ...) or raise maxArrayBytes`);
    }
    const dataStart = await this.checkLocalHeader(m, where);
    // The compressed bytes are bounded by the file (checked when the archive was opened); the inflated size is not.
    const packed = await readAt(this.fh, dataStart, m.compressedSize, this.path);
    const npy = this.npySizeFromHeader(m, packed, where);
    if (npy.size !== m.size) {
      throw new SdqError('BAD_FORMAT', `${where}: its .npy header (${npy.what}) makes ${sizeText(npy.size)} but the zip directory declares ${sizeText(m.size)}; the archive is corrupt or hostile`);
    }
    const bytes = m.method === STORED ? packed : inflateBounded(packed, m.size, where);
    if (crc32(bytes) !== m.crc32) throw new SdqError('BAD_FORMAT', `${where}: CRC-32 mismatch (the archive is corrupt)`);
    return decodeNpy(bytes, `${this.path}:${name}.npy`);
  }

  /** The local header must agree with the central directory (name, sizes); returns where the member's data starts. */
  private async checkLocalHeader(m: NpzMember, where: string): Promise<number> {
    const local = await readAt(this.fh, m.localHeaderOffset, 30, this.path);
    const lv = new DataView(local.buffer);
    if (lv.getUint32(0, true) !== LOCAL_SIG) throw new SdqError('BAD_FORMAT', `${where}: broken local header`);
    const flags = lv.getUint16(6, true);
    const nameLen = lv.getUint16(26, true);
    const extraLen = lv.getUint16(28, true);
    const dataStart = m.localHeaderOffset + 30 + nameLen + extraLen;
    if (flags & DATA_DESCRIPTOR_FLAG) return dataStart;
    let compressedSize = lv.getUint32(18, true);
    let size = lv.getUint32(22, true);
    if (compressedSize === 0xffffffff || size === 0xffffffff) {
      const extra = await readAt(this.fh, m.localHeaderOffset + 30 + nameLen, extraLen, this.path);
      const ev = new DataView(extra.buffer);
      for (let e = 0; e + 4 <= extraLen; e += 4 + ev.getUint16(e + 2, true)) {
        if (ev.getUint16(e, true) !== 0x0001) continue;
        // Local ZIP64 extra: uncompressed then compressed size, each only when its 32-bit slot is 0xFFFFFFFF.
        let f = e + 4;
        if (size === 0xffffffff && f + 8 <= extraLen) { size = u64(ev, f); f += 8; }
        if (compressedSize === 0xffffffff && f + 8 <= extraLen) compressedSize = u64(ev, f);
      }
    }
    if (size !== m.size || compressedSize !== m.compressedSize) {
      throw new SdqError('BAD_FORMAT', `${where}: local header declares ${sizeText(size)} (${sizeText(compressedSize)} compressed), the central directory ${sizeText(m.size)} (${sizeText(m.compressedSize)} compressed); the archive is corrupt or hostile`);
    }
    return dataStart;
  }

  /** Total .npy bytes (header + shape x itemsize) that the member's .npy header announces, from its first compressed bytes. */
  private npySizeFromHeader(m: NpzMember, packed: Uint8Array, where: string): { size: number; what: string } {
    const prefix = packed.subarray(0, HEADER_PREFIX_BYTES);
    let head: Uint8Array = prefix;
    if (m.method === DEFLATED) {
      try {
        // Z_SYNC_FLUSH: give what this prefix inflates to instead of failing on the missing rest of the stream.
        head = inflateRawSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch (e) {
        throw new SdqError('BAD_FORMAT', `${where}: its deflate data is corrupt (${(e as Error).message})`, { cause: e });
      }
    }
    const header = parseNpyHeader(head, `${this.path}:${m.name}.npy`);
    const count = shapeSize(header.shape);
    const what = `shape [${header.shape.join(', ')}] ${header.info.name}`;
    return { size: header.dataOffset + (Number.isSafeInteger(count) ? byteSize(header.info.type, count) : Infinity), what };
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Inflates a raw deflate stream that must give exactly `size` bytes; output past `size` stops it (bomb guard). */
function inflateBounded(packed: Uint8Array, size: number, where: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = inflateRawSync(packed, { maxOutputLength: Math.max(1, size) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SdqError('BAD_FORMAT', `${where} inflates past its declared ${sizeText(size)} (${sizeText(packed.length)} compressed): a compression bomb or a corrupt archive; stopped there`, { cause: e });
    }
    throw new SdqError('BAD_FORMAT', `${where}: its deflate data is corrupt (${(e as Error).message})`, { cause: e });
  }
  if (bytes.length !== size) throw new SdqError('BAD_FORMAT', `${where} inflated to ${sizeText(bytes.length)}, ${sizeText(size)} declared`);
  return bytes;
}

/** Open an .npz archive for member-by-member reading (bounded memory). */
export function openNpz(path: string, options: NpzReadOptions = {}): Promise<NpzArchive> {
  return NpzArchive.open(path, options);
}

/** Read every array of an .npz archive (stored or deflated members) into memory. */
export async function readNpz(path: string, options: NpzReadOptions = {}): Promise<Record<string, CalibTensor>> {
  const archive = await openNpz(path, options);
  try {
    const out: Record<string, CalibTensor> = {};
    for (const name of archive.names) out[name] = await archive.read(name);
    return out;
  } finally {
    await archive.close();
  }
}

/**
 * Streams arrays into a stored (uncompressed) .npz file, one at a time, so a capture never holds them all. Written to a
 * temp file and renamed on `close()`; `abort()` removes it. ZIP64 records are written when offsets pass 4 GiB.
 */
export class NpzWriter {
  private offset = 0;
  private readonly entries: { name: Uint8Array; crc: number; size: number; offset: number }[] = [];
  private readonly names = new Set<string>();

  private constructor(readonly path: string, private readonly tmp: string, private readonly fh: FileHandle) {}

  static async create(path: string): Promise<NpzWriter> {
    const tmp = tempPathFor(path);
    try {
      return new NpzWriter(path, tmp, await open(tmp, 'w'));
    } catch (e) {
      throw new SdqError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async add(name: string, tensor: CalibTensor): Promise<void> {
    if (this.names.has(name)) throw new SdqError('INVALID_ARGUMENT', `${this.path}: array '${name}' written twice`);
    if (!ARRAY_NAME.test(name)) throw new SdqError('INVALID_ARGUMENT', `${this.path}: array name ${JSON.stringify(name)} is not letters, digits, _ and dots; readers refuse such names`);
    this.names.add(name);
    const data = encodeNpy(tensor);
    const fileName = new TextEncoder().encode(`${name}.npy`);
    const crc = crc32(data);
    const zip64 = data.length >= 0xffffffff;
    const header = new Uint8Array(30 + fileName.length + (zip64 ? 20 : 0));
    const v = new DataView(header.buffer);
    v.setUint32(0, LOCAL_SIG, true);
    v.setUint16(4, zip64 ? 45 : 20, true);
    v.setUint16(8, STORED, true);
    v.setUint16(10, 0, true); // time
    v.setUint16(12, 0x21, true); // date 1980-01-01
    v.setUint32(14, crc, true);
    v.setUint32(18, zip64 ? 0xffffffff : data.length, true);
    v.setUint32(22, zip64 ? 0xffffffff : data.length, true);
    v.setUint16(26, fileName.length, true);
    v.setUint16(28, zip64 ? 20 : 0, true);
    header.set(fileName, 30);
    if (zip64) {
      v.setUint16(30 + fileName.length, 0x0001, true);
      v.setUint16(32 + fileName.length, 16, true);
      v.setBigUint64(34 + fileName.length, BigInt(data.length), true);
      v.setBigUint64(42 + fileName.length, BigInt(data.length), true);
    }
    this.entries.push({ name: fileName, crc, size: data.length, offset: this.offset });
    await this.fh.write(header, 0, header.length, this.offset);
    await this.fh.write(data, 0, data.length, this.offset + header.length);
    this.offset += header.length + data.length;
  }

  async close(): Promise<void> {
    const parts: Uint8Array[] = [];
    const cdStart = this.offset;
    for (const e of this.entries) {
      const big = e.size >= 0xffffffff || e.offset >= 0xffffffff;
      const extra = big ? 28 : 0;
      const h = new Uint8Array(46 + e.name.length + extra);
      const v = new DataView(h.buffer);
      v.setUint32(0, CENTRAL_SIG, true);
      v.setUint16(4, 45, true);
      v.setUint16(6, big ? 45 : 20, true);
      v.setUint16(10, STORED, true);
      v.setUint16(14, 0x21, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, big ? 0xffffffff : e.size, true);
      v.setUint32(24, big ? 0xffffffff : e.size, true);
      v.setUint16(28, e.name.length, true);
      v.setUint16(30, extra, true);
      v.setUint32(42, big ? 0xffffffff : e.offset, true);
      h.set(e.name, 46);
      if (big) {
        const x = 46 + e.name.length;
        v.setUint16(x, 0x0001, true);
        v.setUint16(x + 2, 24, true);
        v.setBigUint64(x + 4, BigInt(e.size), true);
        v.setBigUint64(x + 12, BigInt(e.size), true);
        v.setBigUint64(x + 20, BigInt(e.offset), true);
      }
      parts.push(h);
    }
    const cdSize = parts.reduce((s, p) => s + p.length, 0);
    const needZip64 = this.entries.length >= 0xffff || cdStart >= 0xffffffff || cdSize >= 0xffffffff;
    if (needZip64) {
      const z = new Uint8Array(56 + 20);
      const v = new DataView(z.buffer);
      v.setUint32(0, ZIP64_EOCD_SIG, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(this.entries.length), true);
      v.setBigUint64(32, BigInt(this.entries.length), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdStart), true);
      v.setUint32(56, ZIP64_LOCATOR_SIG, true);
      v.setBigUint64(64, BigInt(cdStart + cdSize), true);
      v.setUint32(72, 1, true);
      parts.push(z);
    }
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, EOCD_SIG, true);
    ev.setUint16(8, Math.min(this.entries.length, 0xffff), true);
    ev.setUint16(10, Math.min(this.entries.length, 0xffff), true);
    ev.setUint32(12, Math.min(cdSize, 0xffffffff), true);
    ev.setUint32(16, Math.min(cdStart, 0xffffffff), true);
    parts.push(end);
    try {
      let at = cdStart;
      for (const p of parts) {
        await this.fh.write(p, 0, p.length, at);
        at += p.length;
      }
      await this.fh.close();
      await rename(this.tmp, this.path);
    } catch (e) {
      await rm(this.tmp, { force: true });
      throw new SdqError('IO_ERROR', `cannot write ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Give up: close and delete the temp file. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

/** Write named arrays to a stored .npz file (numpy.savez layout, readable by np.load). */
export async function writeNpz(path: string, arrays: Record<string, CalibTensor>): Promise<void> {
  const w = await NpzWriter.create(path);
  try {
    for (const [name, t] of Object.entries(arrays)) await w.add(name, t);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.close();
}
