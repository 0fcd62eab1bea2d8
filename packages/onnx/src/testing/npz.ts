/**
 * Test-only minimal .npz reader: stored (uncompressed) zip entries of little-endian float32 .npy v1 arrays, as
 * fixtures/quant/*.npz are written. The real reader is @sdq/calib's readNpz (which @sdq/onnx may not depend on).
 */
import { readFileSync } from 'node:fs';

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

export function readStoredNpz(path: string): Map<string, NpyArray> {
  const buf = readFileSync(path);
  const out = new Map<string, NpyArray>();
  let pos = 0;
  while (buf.readUInt32LE(pos) === 0x04034b50) {
    const method = buf.readUInt16LE(pos + 8);
    let size = buf.readUInt32LE(pos + 18);
    const nameLen = buf.readUInt16LE(pos + 26);
    const extraLen = buf.readUInt16LE(pos + 28);
    const name = buf.toString('utf8', pos + 30, pos + 30 + nameLen);
    const start = pos + 30 + nameLen + extraLen;
    if (size === 0xffffffff) size = Number(buf.readBigUInt64LE(pos + 30 + nameLen + 4 + 8)); // zip64 extra: uncompressed, compressed
    if (method !== 0) throw new Error(`${path}: entry ${name} is compressed; this test reader handles stored entries only`);
    const npy = buf.subarray(start, start + size);
    const headerLen = npy.readUInt16LE(8);
    const header = npy.toString('latin1', 10, 10 + headerLen);
    if (!header.includes("'<f4'")) throw new Error(`${path}: ${name} is not float32 (${header})`);
    const shapeText = /'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '';
    const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    const bytes = npy.subarray(10 + headerLen);
    const data = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(data.buffer).set(bytes);
    out.set(name.replace(/\.npy$/, ''), { shape, data });
    pos = start + size;
  }
  return out;
}
