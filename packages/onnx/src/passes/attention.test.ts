import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, maxAbsError } from '@sdq/quant';
import { Mulberry32 } from '../builder/prng.js';
import { GraphBuilder } from '../builder/graph-builder.js';
import { buildSdComponents } from '../builder/sd/components.js';
import { Layers } from '../builder/sd/layers.js';
import { makeValueInfo } from '../builder/proto-factory.js';
import { readModel } from '../io.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto } from '../proto/types.js';
import { createSession, type HostTensor } from '../testing/ort.js';
import { fuseAttention } from './attention.js';

const MODELS = fileURLToPath(new URL('../../../../fixtures/models', import.meta.url));

const normal = (n: number, seed: number): Float32Array => new Mulberry32(seed).fillNormal(new Float32Array(n));
const f32 = (dims: number[], seed: number): HostTensor => ({ type: 'float32', dims, data: normal(dims.reduce((a, b) => a * b, 1), seed) });
const unetFeeds = (hidden: number): Record<string, HostTensor> => ({
  sample: f32([2, 4, 16, 16], 1),
  timestep: { type: 'float32', dims: [2], data: Float32Array.from([500, 500]) },
  encoder_hidden_states: f32([2, 77, hidden], 2),
});

async function run(model: ModelProto, feeds: Record<string, HostTensor>): Promise<Float32Array> {
  const session = await createSession(encodeModel(model));
  return (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
}

const count = (m: ModelProto, op: string): number => m.graph!.node.filter((n) => n.opType === op).length;

describe('fuseAttention on SD components', () => {
  const tiny = buildSdComponents('tiny', { seed: 3 });
  it.each([
    ['builder tiny UNet', async () => tiny.unet, () => unetFeeds(32)],
    ['builder tiny VAE decoder (1 head, q/k/v biases)', async () => tiny.vaeDecoder, () => ({ latent_sample: f32([1, 4, 8, 8], 5) })],
    ['tiny-sd UNet (diffusers/optimum export, torch SDPA)', () => readModel(join(MODELS, 'tiny-sd/unet/model.onnx')), () => unetFeeds(32)],
    ['shapes-sd UNet (diffusers/optimum export, torch SDPA)', () => readModel(join(MODELS, 'shapes-sd/unet/model.onnx')), () => unetFeeds(64)],
  ] as const)('%s: every attention becomes MultiHeadAttention, same outputs as onnxruntime on the original', async (_label, load, feeds) => {
    const model = await load();
    const softmaxes = count(model, 'Softmax');
    expect(softmaxes).toBeGreaterThan(0);
    const { model: fused, report } = fuseAttention(model);
    expect(report.skipped).toEqual([]);
    expect(report.fused).toHaveLength(softmaxes);
    expect(count(fused, 'MultiHeadAttention')).toBe(softmaxes);
    expect(count(fused, 'Softmax')).toBe(0);
    expect(fused.opsetImport).toContainEqual({ domain: 'com.microsoft', version: 1 });
    expect(fused.graph!.node.length).toBeLessThan(model.graph!.node.length);
    // The input model is not modified.
    expect(count(model, 'Softmax')).toBe(softmaxes);

    const x = feeds();
    const [want, got] = [await run(model, x), await run(fused, x)];
    // Float32 summation order only (measured 1e-6 to 3e-6 of the output's largest value).
    expect(maxAbsError(want, got)).toBeLessThan(1e-5 * Math.max(1, maxAbsError(want, new Float32Array(want.length))));
    // Nothing left to fuse.
    expect(fuseAttention(fused).report).toEqual({ fused: [], skipped: [] });
  });

  it('keeps the scale of the graph: 1/sqrt(d) from the builder, the SDPA default (no attribute) from torch', async () => {
    // tiny preset: attention at 64 channels, 8 heads -> d = 8; the builder stores 1/sqrt(d) as a float32 constant.
    const builder = fuseAttention(tiny.unet).report.fused;
    expect(builder.every((f) => f.heads === 8 && f.scale === Math.fround(1 / Math.sqrt(8)))).toBe(true);
    const torch = fuseAttention(await readModel(join(MODELS, 'tiny-sd/unet/model.onnx'))).report.fused;
    expect(torch.every((f) => f.scale === undefined)).toBe(true);
    const mha = fuseAttention(await readModel(join(MODELS, 'tiny-sd/unet/model.onnx'))).model.graph!.node.filter((n) => n.opType === 'MultiHeadAttention');
    expect(mha.every((n) => n.attribute.every((a) => a.name === 'num_heads'))).toBe(true);
  });

  it('leaves CLIP\'s causal attention alone (the mask is added to the scores) and says why', () => {
    const model = tiny.textEncoder;
    const { model: out, report } = fuseAttention(model);
    expect(report.fused).toEqual([]);
    expect(report.skipped).toHaveLength(count(model, 'Softmax'));
    expect(new Set(report.skipped.map((s) => s.reason))).toEqual(new Set(['a mask or bias is added to the scores (MultiHeadAttention would need it as attention_bias)']));
    expect(out.graph!.node).toHaveLength(model.graph!.node.length);
    expect(out.opsetImport).toEqual(model.opsetImport);
  });
});

describe('fuseAttention leaves attentions whose inner values are used elsewhere', () => {
  /** One self-attention [1, 6, 8], 2 heads; optionally expose an inner value as a graph output. */
  function attentionModel(expose?: 'probs' | 'heads'): ModelProto {
    const b = new GraphBuilder({ opset: 17, seed: 1 });
    const x = b.input('x', DataType.FLOAT, [1, 6, 8]);
    const L = new Layers(b);
    const y = L.attention('attn', x, x, 8, 8, 2);
    b.output(y, DataType.FLOAT, [1, 6, 8]);
    const m = b.build();
    if (expose) {
      const node = m.graph!.node.find((n) => (expose === 'probs' ? n.opType === 'Softmax' : n.opType === 'Transpose'))!;
      m.graph!.output.push(makeValueInfo(node.output[0]!, DataType.FLOAT));
    }
    return m;
  }

  it('fuses the plain attention', async () => {
    const m = attentionModel();
    const { model, report } = fuseAttention(m);
    expect(report.fused).toEqual([{ node: '/attn/MultiHeadAttention', heads: 2, scale: Math.fround(1 / 2) }]);
    const x = { x: f32([1, 6, 8], 9) };
    const [want, got] = [await run(m, x), await run(model, x)];
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });

  it.each([
    ['probs', /its output is not read by exactly one MatMul/],
    ['heads', /head split is read elsewhere/],
  ] as const)('with the %s also a graph output: skipped with the reason, graph unchanged', (expose, reason) => {
    const m = attentionModel(expose);
    const { model, report } = fuseAttention(m);
    expect(report.fused).toEqual([]);
    expect(report.skipped).toEqual([{ softmax: '/attn/Softmax', reason: expect.stringMatching(reason) }]);
    expect(encodeModel(model)).toEqual(encodeModel(m));
  });
});
