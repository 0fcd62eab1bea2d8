// What a file really is, from its first bytes (PNG, JPEG, zip/npz, npy, ONNX protobuf, text): an input that is not
// what its name or option claims fails with one line saying what it is, before any work is done on it.
import { promises as fs } from 'node:fs';
import { SdqError } from '@sdq/quant';
import { sniffForeignFormat } from '@sdq/onnx';

export type ExpectedKind = 'onnx' | 'text' | 'npz' | 'npy';

const EXPECTED: Record<ExpectedKind, string> = {
  onnx: 'an ONNX model',
  text: 'a text file',
  npz: 'a NumPy .npz archive',
  npy: 'a NumPy .npy array',
};

/** The first `n` bytes of `file` (fewer when it is shorter). */
export async function readHead(file: string, n = 512): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isText(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    // stream: a multi-byte character cut at the end of the head is not an error
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Names what the bytes are: a binary format by its signature, an ONNX model (protobuf field 1 = ir_version), text. */
export function describeHead(head: Uint8Array): { kind: ExpectedKind | 'other'; what: string } {
  if (head.length === 0) return { kind: 'other', what: 'empty (0 bytes)' };
  const foreign = sniffForeignFormat(head);
  if (foreign?.startsWith('a zip')) return { kind: 'npz', what: foreign };
  if (foreign?.startsWith('a NumPy')) return { kind: 'npy', what: foreign };
  if (foreign && !foreign.endsWith(' text')) return { kind: 'other', what: foreign };
  // ModelProto starts with ir_version (tag 0x08, a small varint; ONNX writers emit it first). Small models can be all
  // ASCII bytes for their first 512, so this comes before the text check (no text file starts with a backspace).
  if (head[0] === 0x08 && head[1] !== undefined && head[1] > 0 && head[1] < 0x20) return { kind: 'onnx', what: 'an ONNX model (protobuf)' };
  if (isText(head)) return { kind: 'text', what: foreign ?? 'text' };
  return { kind: 'other', what: 'binary data of no known format' };
}

/**
 * Throws BAD_FORMAT when `file` is not `expected`: "`role` X is a PNG image, not a text file; `fix`".
 * ONNX is only refused when the bytes are clearly something else (protobuf has no signature to insist on).
 */
export async function expectFileKind(file: string, expected: ExpectedKind, role: string, fix: string): Promise<void> {
  let head: Uint8Array;
  try {
    head = await readHead(file);
  } catch {
    return; // missing or unreadable: the caller's own existence check names it
  }
  const { kind, what } = describeHead(head);
  const fits = kind === expected || (expected === 'onnx' && kind === 'other' && what.startsWith('binary'));
  if (!fits) throw new SdqError('BAD_FORMAT', `${role} ${file} is ${what}, not ${EXPECTED[expected]}; ${fix}`);
}
