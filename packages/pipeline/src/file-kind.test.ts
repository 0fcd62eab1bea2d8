import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeHead, expectFileKind, readHead } from './file-kind.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('describeHead: what a file is from its first bytes', () => {
  it.each([
    ['PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), 'other', 'a PNG image'],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0), 'other', 'a JPEG image'],
    ['zip / npz', bytes(0x50, 0x4b, 0x03, 0x04, 0x14), 'npz', 'a zip archive (.npz, .zip)'],
    ['npy', bytes(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0), 'npy', 'a NumPy .npy array'],
    ['ONNX (ir_version 8, then producer_name)', bytes(0x08, 0x08, 0x12, 0x07, 0x70, 0x79), 'onnx', 'an ONNX model (protobuf)'],
    ['prompt text', utf8('a cat on a sofa\n# comment\n'), 'text', 'text'],
    ['JSON lines', utf8('{"prompt": "a cat"}\n'), 'text', 'JSON text'],
    ['UTF-8 cut mid-character', utf8('un café').subarray(0, 6), 'text', 'text'],
    ['NUL bytes', bytes(0x41, 0x00, 0x42, 0x00), 'other', 'binary data of no known format'],
    ['empty', bytes(), 'other', 'empty (0 bytes)'],
  ])('%s', (_name, head, kind, what) => {
    expect(describeHead(head)).toEqual({ kind, what });
  });

  it.each([
    ['fixtures/models/tiny-sd/unet/model.onnx', 'onnx'],
    ['fixtures/models/tiny-sd/vae_decoder/model.onnx', 'onnx'],
    ['fixtures/models/shapes-sd/unet/model.onnx', 'onnx'],
    ['packages/calib/prompts/default.txt', 'text'],
    ['fixtures/models/shapes-sd/TRAINING.json', 'text'],
  ])('the repository\'s own %s is %s', async (file, kind) => {
    expect(describeHead(await readHead(path.join(root, file))).kind).toBe(kind);
  });

  it('expectFileKind names the file, what it is, what was expected and the fix', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-kind-'));
    try {
      const png = path.join(dir, 'unet.onnx');
      await fs.writeFile(png, bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13));
      await expect(expectFileKind(png, 'onnx', 'UNet', 'pass a UNet .onnx')).rejects.toThrow(`UNet ${png} is a PNG image, not an ONNX model; pass a UNet .onnx`);
      await expect(expectFileKind(png, 'text', 'prompt file', 'pass a .txt')).rejects.toThrow(`prompt file ${png} is a PNG image, not a text file; pass a .txt`);
      await expect(expectFileKind(path.join(root, 'fixtures/models/tiny-sd/unet/model.onnx'), 'onnx', 'UNet', '')).resolves.toBeUndefined();
      await expect(expectFileKind(path.join(dir, 'missing.txt'), 'text', 'prompt file', '')).resolves.toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
