/**
 * Fuzz: seeded random byte flips, truncations, insertions and deletions of the fixture models must give either a
 * model or an SdqError (never another exception, never a hang), and whatever decodes must also encode, inspect and
 * validate without crashing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError, mulberry32 } from '@sdq/quant';
import { decodeModel, encodeModel } from './proto/model.js';
import { inspectModel } from './inspect.js';
import { validateModel } from './validate.js';
import { loadExternalData } from './io.js';

const MODELS = fileURLToPath(new URL('../../../fixtures/models', import.meta.url));
const CASES: [string, number][] = [
  ['tiny-sd/unet', 120],
  ['tiny-sd/vae_decoder', 100],
  ['tiny-sd/vae_encoder', 100],
  ['tiny-sd/text_encoder', 80],
];

/** Uniforms in [0, 1) from @sdq/quant's seeded mulberry32 (deterministic runs). */
function prng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  // structure is dense near the start of graph-heavy files; bias half of the positions to the first 64 KiB
  const pos = (): number => (rnd() < 0.5 ? int(Math.min(src.length, 65536)) : int(src.length));
  switch (int(5)) {
    case 0: {
      const b = Buffer.from(src);
      for (let k = 1 + int(8); k > 0; k--) b[pos()] = int(256);
      return b;
    }
    case 1: {
      const b = Buffer.from(src);
      for (let k = 1 + int(4); k > 0; k--) b[pos()] ^= 1 << int(8);
      return b;
    }
    case 2:
      return src.subarray(0, pos());
    case 3: {
      const at = pos();
      const junk = Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)));
      return Buffer.concat([src.subarray(0, at), junk, src.subarray(at)]);
    }
    default: {
      const at = pos();
      return Buffer.concat([src.subarray(0, at), src.subarray(at + 1 + int(64))]);
    }
  }
}

describe('fuzz: mutated fixture models decode or fail with SdqError', () => {
  it.each(CASES)('%s (%i mutations)', async (component, count) => {
    const src = readFileSync(join(MODELS, component, 'model.onnx'));
    const rnd = prng(0x5d9 + count + component.length);
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < count; i++) {
      const bytes = mutate(src, rnd);
      try {
        const m = decodeModel(bytes);
        decoded++;
        encodeModel(m);
        inspectModel(m);
        validateModel(m);
        if (component.endsWith('unet') && i % 10 === 0) await loadExternalData(m, join(MODELS, component));
      } catch (e) {
        if (!(e instanceof SdqError)) throw new Error(`mutation ${i} of ${component} threw ${String(e)}`, { cause: e });
        rejected++;
      }
    }
    expect(decoded + rejected).toBe(count);
    // both outcomes occur, so the test exercises the error paths and the success paths
    expect(decoded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
