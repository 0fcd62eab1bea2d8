import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel, encodeModel } from './model.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/models', import.meta.url));

function onnxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...onnxFiles(p));
    else if (name.endsWith('.onnx')) out.push(p);
  }
  return out.sort();
}

describe('byte-identical round trip of fixture models', () => {
  const files = onnxFiles(FIXTURES).map((p) => [relative(FIXTURES, p), p]);
  it('finds the fixture models', () => expect(files.length).toBeGreaterThanOrEqual(8));
  it.each(files)('%s', (_name, path) => {
    const bytes = readFileSync(path);
    const model = decodeModel(bytes);
    expect(model.graph?.node.length).toBeGreaterThan(0);
    const out = encodeModel(model);
    expect(out.byteLength).toBe(bytes.byteLength);
    expect(Buffer.compare(Buffer.from(out), bytes)).toBe(0);
  });
});
