import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { readModel } from '@sdq/onnx';
import { maxAbsError, sqnr } from '@sdq/quant';
import { convertPath } from './convert.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures');
const UNET = path.join(fixtures, 'models/shapes-sd/unet/model.onnx');

const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 1.5);

/** Feeds of a shapes-sd UNet call: CFG batch 2, 16x16 latents, 77 text tokens of 64. */
function unetFeeds(timestep: number, seed: number): Record<string, ort.Tensor> {
  return {
    sample: new ort.Tensor('float32', rnd(2 * 4 * 16 * 16, seed), [2, 4, 16, 16]),
    timestep: new ort.Tensor('float32', Float32Array.from([timestep, timestep]), [2]),
    encoder_hidden_states: new ort.Tensor('float32', rnd(2 * 77 * 64, seed + 1), [2, 77, 64]),
  };
}

async function runUnet(file: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const out = (await s.run(feeds))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return out;
}

describe('convertPath --to fp16 with and without attention fusion (shapes-sd UNet, an optimum export)', () => {
  it('fuses every attention only when asked; both keep the FP32 output within FP16 precision', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-convert-'));
    try {
      const plain = await convertPath(UNET, path.join(dir, 'plain.onnx'), { to: 'fp16', keepIoTypes: true });
      const fused = await convertPath(UNET, path.join(dir, 'fused.onnx'), { to: 'fp16', keepIoTypes: true, fuseAttention: true });
      const count = async (file: string, op: string) => (await readModel(file)).graph!.node.filter((n) => n.opType === op).length;
      const softmaxes = await count(UNET, 'Softmax');
      expect(softmaxes).toBeGreaterThan(0);
      expect([await count(plain.output, 'MultiHeadAttention'), await count(plain.output, 'Softmax')]).toEqual([0, softmaxes]);
      expect([await count(fused.output, 'MultiHeadAttention'), await count(fused.output, 'Softmax')]).toEqual([softmaxes, 0]);
      // The source keeps its weights in an external file, so the FP16 copies do too.
      expect((await fs.readdir(dir)).filter((f) => !f.endsWith('.onnx')).sort()).toEqual(['fused.onnx.data', 'plain.onnx.data']);

      const feeds = unetFeeds(500, 1);
      const run = (file: string) => runUnet(file, feeds);
      const ref = await run(UNET);
      // Measured: 68.05 dB plain, 68.07 dB fused (FP16 rounding either way).
      expect(sqnr(ref, await run(plain.output))).toBeGreaterThan(50);
      expect(sqnr(ref, await run(fused.output))).toBeGreaterThan(50);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('convertPath --to fp32 --fuse-attention on a model dir (shapes-sd)', () => {
  const SHAPES = path.join(fixtures, 'models/shapes-sd');

  it('needs the fusion: --to fp32 alone is refused', async () => {
    await expect(convertPath(SHAPES, path.join(os.tmpdir(), 'never'), { to: 'fp32' })).rejects.toThrow(/--to fp32 changes nothing by itself; add --fuse-attention/);
  });

  it('fuses every attention it can, copies the rest, and the UNet gives the same output', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-convert-fp32-'));
    try {
      const out = path.join(dir, 'fused');
      const r = await convertPath(SHAPES, out, { to: 'fp32', fuseAttention: true });
      const mha = async (c: string) => (await readModel(path.join(out, c, 'model.onnx'))).graph!.node.filter((n) => n.opType === 'MultiHeadAttention').length;
      const softmax = async (c: string) => (await readModel(path.join(SHAPES, c, 'model.onnx'))).graph!.node.filter((n) => n.opType === 'Softmax').length;
      expect(await mha('unet')).toBe(await softmax('unet'));
      expect(await mha('text_encoder')).toBe(0); // CLIP's causal mask: left as it is
      expect(r.fusedAttention).toBe((await mha('unet')) + (await mha('vae_decoder')) + (await mha('vae_encoder')));
      for (const f of ['model_index.json', 'tokenizer', 'scheduler', 'unet/config.json']) await expect(fs.stat(path.join(out, f))).resolves.toBeDefined();
      expect((await fs.readdir(dir)).sort()).toEqual(['fused']);

      const feeds = unetFeeds(300, 3);
      const [want, got] = [await runUnet(UNET, feeds), await runUnet(path.join(out, 'unet', 'model.onnx'), feeds)];
      expect(maxAbsError(want, got)).toBeLessThan(1e-5 * Math.max(1, maxAbsError(want, new Float32Array(want.length))));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
