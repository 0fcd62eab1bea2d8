import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession } from '../../testing/ort.js';
import { readModel } from '../../io.js';
import { readModelDir } from '../../modeldir.js';
import { validateModel } from '../../validate.js';
import { decodeModel, encodeModel } from '../../proto/model.js';
import { SD_PRESETS, buildSdComponents, parameterCount, writeSdModelDir } from './index.js';

/** Byte equality without jest's slow deep-equal on multi-MB arrays. */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

const unetFeeds = (batch: number, size: number, hidden: number) => ({
  sample: { type: 'float32' as const, data: uniform(batch * 4 * size * size, 1), dims: [batch, 4, size, size] },
  timestep: { type: 'float32' as const, data: Float32Array.from({ length: batch }, (_, i) => 10 + 490 * i), dims: [batch] },
  encoder_hidden_states: { type: 'float32' as const, data: uniform(batch * 77 * hidden, 2), dims: [batch, 77, hidden] },
});

describe('SD synthetic components', () => {
  const tiny = buildSdComponents('tiny', { seed: 1 });

  it('tiny unet has the fixture interface and runs in onnxruntime', async () => {
    const session = await createSession(encodeModel(tiny.unet));
    expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(session.outputNames).toEqual(['out_sample']);
    const out = await session.run(unetFeeds(2, 16, 32));
    expect(out.out_sample.dims).toEqual([2, 4, 16, 16]);
    expect((out.out_sample.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('tiny text encoder: last_hidden_state [b,77,32] and pooler_output = the hidden state at the end-of-text token', async () => {
    const ids = new Int32Array(2 * 77).fill(49407);
    ids.set([49406, 320, 2368, 49407], 0);
    ids.set([49406, 320, 49407], 77);
    const out = await (await createSession(encodeModel(tiny.textEncoder))).run({ input_ids: { type: 'int32', data: ids, dims: [2, 77] } });
    expect(out.last_hidden_state.dims).toEqual([2, 77, 32]);
    expect(out.pooler_output.dims).toEqual([2, 32]);
    const hidden = out.last_hidden_state.data as Float32Array;
    const pooled = out.pooler_output.data as Float32Array;
    // argmax picks the first 49407 (the eos token has the highest id): position 3 in row 0, position 2 in row 1
    expect(Array.from(pooled.subarray(0, 32))).toEqual(Array.from(hidden.subarray(3 * 32, 4 * 32)));
    expect(Array.from(pooled.subarray(32))).toEqual(Array.from(hidden.subarray((77 + 2) * 32, (77 + 3) * 32)));
  });

  it('tiny vae decoder maps [b,4,h,w] latents to [b,3,8h,8w]', async () => {
    const out = await (await createSession(encodeModel(tiny.vaeDecoder))).run({
      latent_sample: { type: 'float32', data: uniform(4 * 8 * 6, 3), dims: [1, 4, 8, 6] },
    });
    expect(out.sample.dims).toEqual([1, 3, 64, 48]);
  });

  it('the opset-18 IR-10 variant carries node metadata_props, round-trips byte for byte and runs', async () => {
    const { unet } = buildSdComponents('tiny', { opset: 18, irVersion: 10 });
    expect(unet.irVersion).toBe(10);
    expect(unet.opsetImport[0].version).toBe(18);
    expect(unet.graph!.node.every((n) => n.metadataProps.some((e) => e.key === 'pkg.torch.onnx.name_scopes'))).toBe(true);
    const bytes = encodeModel(unet);
    expect(sameBytes(encodeModel(decodeModel(bytes)), bytes)).toBe(true);
    const out = await (await createSession(bytes)).run(unetFeeds(1, 8, 32));
    expect(out.out_sample.dims).toEqual([1, 4, 8, 8]);
  });

  it.each([
    // preset, UNet parameter bounds
    ['small', 13e6, 50e6],
    ['medium', 100e6, 200e6],
    ['sd15', 855e6, 865e6],
  ] as const)('%s preset (structure only) has a UNet of the intended size', (preset, lo, hi) => {
    const c = buildSdComponents(preset, { weights: 'shape-only' });
    const n = parameterCount(c.unet);
    expect(n).toBeGreaterThan(lo);
    expect(n).toBeLessThan(hi);
    // no weight data at all: only the small shared constants (shapes, scales, freqs) are inline
    const inlineBytes = c.unet.graph!.initializer.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
    expect(inlineBytes).toBeLessThan(64 * 1024);
  });

  it('sd15 sizes match SD 1.5 (UNet 859.5M, CLIP ViT-L text encoder 123.1M, VAE decoder 49.5M parameters)', () => {
    const c = buildSdComponents('sd15', { weights: 'shape-only' });
    expect(Math.round(parameterCount(c.unet) / 1e5) / 10).toBe(859.5);
    expect(Math.round(parameterCount(c.textEncoder) / 1e5) / 10).toBe(123.1);
    expect(Math.round(parameterCount(c.vaeDecoder) / 1e5) / 10).toBe(49.5);
  });

  it('writeSdModelDir writes the optimum layout with the UNet in external data', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdq-sd-'));
    try {
      const summary = writeSdModelDir(join(root, 'tiny'), 'tiny', { seed: 1 });
      expect(summary.files).toEqual([
        'model_index.json',
        'scheduler/scheduler_config.json',
        'sdq-model.json',
        'text_encoder/config.json',
        'text_encoder/model.onnx',
        'tokenizer/merges.txt',
        'tokenizer/special_tokens_map.json',
        'tokenizer/tokenizer_config.json',
        'tokenizer/vocab.json',
        'unet/config.json',
        'unet/model.onnx',
        'unet/weights.pb',
        'vae_decoder/config.json',
        'vae_decoder/model.onnx',
      ]);
      for (const f of summary.files) expect(existsSync(join(root, 'tiny', f))).toBe(true);
      const unetConfig = JSON.parse(readFileSync(join(root, 'tiny/unet/config.json'), 'utf8')) as Record<string, unknown>;
      expect(unetConfig.block_out_channels).toEqual([32, 64]);
      expect(unetConfig.down_block_types).toEqual(['DownBlock2D', 'CrossAttnDownBlock2D']);
      const unet = await readModel(join(root, 'tiny/unet/model.onnx'));
      // same weights as the in-memory build with the same seed
      expect(sameBytes(encodeModel(unet), encodeModel(tiny.unet))).toBe(true);
      expect(() => writeSdModelDir(join(root, 'tiny'), 'tiny')).toThrow(/already exists/);
      // the package's own model-dir reader and validator accept what the builder wrote
      const dir = await readModelDir(join(root, 'tiny'));
      expect(Object.keys(dir.components)).toEqual(['text_encoder', 'unet', 'vae_decoder']);
      expect(dir.otherFolders).toEqual(['scheduler', 'tokenizer']);
      for (const m of [unet, tiny.textEncoder, tiny.vaeDecoder]) expect(validateModel(m)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  describe('SDXL', () => {
    const xl = buildSdComponents('tiny-sdxl', { seed: 1 });

    it('tiny-sdxl unet takes text_embeds and time_ids (the fixture interface), and they change its output', async () => {
      const session = await createSession(encodeModel(xl.unet));
      expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
      const feeds = (size: number) => ({
        ...unetFeeds(2, 8, 64),
        text_embeds: { type: 'float32' as const, data: uniform(2 * 32, 4), dims: [2, 32] },
        time_ids: { type: 'float32' as const, data: Float32Array.of(size, size, 0, 0, size, size, size, size, 0, 0, size, size), dims: [2, 6] },
      });
      const a = (await session.run(feeds(1024))).out_sample;
      const b = (await session.run(feeds(512))).out_sample;
      expect(a.dims).toEqual([2, 4, 8, 8]);
      expect((a.data as Float32Array).every(Number.isFinite)).toBe(true);
      expect(Array.from(a.data as Float32Array)).not.toEqual(Array.from(b.data as Float32Array));
    });

    it('tiny-sdxl text encoders output every hidden state; the second one a projected text_embeds and its own weights', async () => {
      const ids = new Int32Array(77).fill(49407);
      ids.set([49406, 320, 2368, 49407]);
      const feeds = { input_ids: { type: 'int32' as const, data: ids, dims: [1, 77] } };
      const first = await (await createSession(encodeModel(xl.textEncoder))).run(feeds);
      const second = await (await createSession(encodeModel(xl.textEncoder2!))).run(feeds);
      expect(Object.keys(second)).toEqual(expect.arrayContaining(['text_embeds', 'last_hidden_state', ...Array.from({ length: 6 }, (_, i) => `hidden_states.${i}`)]));
      expect(second.text_embeds.dims).toEqual([1, 32]);
      expect(Object.keys(first)).toContain('pooler_output');
      // the last hidden state is the final LayerNorm of the last layer's output (transformers' hidden_states[-1])
      expect(Array.from(first.last_hidden_state.data as Float32Array)).not.toEqual(Array.from(first['hidden_states.5'].data as Float32Array));
      expect(Array.from(first['hidden_states.4'].data as Float32Array)).not.toEqual(Array.from(second['hidden_states.4'].data as Float32Array));
    });

    it('sdxl sizes match SDXL base (UNet 2567.5M, CLIP ViT-L 123.1M, OpenCLIP bigG with projection 694.7M, VAE decoder 49.5M)', () => {
      const c = buildSdComponents('sdxl', { weights: 'shape-only' });
      const millions = (m: Parameters<typeof parameterCount>[0]): number => Math.round(parameterCount(m) / 1e5) / 10;
      expect([millions(c.unet), millions(c.textEncoder), millions(c.textEncoder2!), millions(c.vaeDecoder)]).toEqual([2567.5, 123.1, 694.7, 49.5]);
      const inlineBytes = c.unet.graph!.initializer.reduce((s, t) => s + (t.rawData?.byteLength ?? 0), 0);
      expect(inlineBytes).toBeLessThan(64 * 1024);
    });

    it('writeSdModelDir writes the SDXL layout: text_encoder_2, tokenizer_2 padding with "!", the SDXL model_index and configs', async () => {
      const root = mkdtempSync(join(tmpdir(), 'sdq-sdxl-'));
      try {
        const summary = writeSdModelDir(join(root, 'xl'), 'tiny-sdxl', { seed: 1 });
        expect(summary.files).toEqual(expect.arrayContaining(['text_encoder_2/model.onnx', 'text_encoder_2/config.json', 'tokenizer_2/vocab.json', 'tokenizer_2/special_tokens_map.json']));
        expect(summary.parameters.textEncoder2).toBe(parameterCount(xl.textEncoder2!));
        const json = (rel: string) => JSON.parse(readFileSync(join(root, 'xl', rel), 'utf8')) as Record<string, unknown>;
        expect(json('model_index.json')).toMatchObject({ _class_name: 'ORTStableDiffusionXLPipeline', force_zeros_for_empty_prompt: true });
        expect(json('tokenizer_2/special_tokens_map.json').pad_token).toBe('!');
        expect(json('tokenizer/special_tokens_map.json').pad_token).toBe('<|endoftext|>');
        expect(json('unet/config.json')).toMatchObject({ addition_embed_type: 'text_time', addition_time_embed_dim: 8, projection_class_embeddings_input_dim: 80, transformer_layers_per_block: [1, 2], attention_head_dim: [2, 4], use_linear_projection: true, cross_attention_dim: 64 });
        expect(json('text_encoder_2/config.json')).toMatchObject({ architectures: ['CLIPTextModelWithProjection'], hidden_act: 'gelu', projection_dim: 32 });
        expect(json('vae_decoder/config.json').scaling_factor).toBe(0.13025);
        const dir = await readModelDir(join(root, 'xl'));
        expect(Object.keys(dir.components).sort()).toEqual(['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder']);
        expect(sameBytes(encodeModel(await readModel(join(root, 'xl/text_encoder_2/model.onnx'))), encodeModel(xl.textEncoder2!))).toBe(true);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('rejects an SDXL config whose UNet context width is not both encoders together', () => {
      const bad = { ...SD_PRESETS['tiny-sdxl'], unet: { ...SD_PRESETS['tiny-sdxl'].unet, crossAttentionDim: 32 } };
      expect(() => buildSdComponents(bad, { weights: 'shape-only' })).toThrow(/crossAttentionDim 32 must equal the text encoder hiddenSizes summed \(SDXL concatenates both\): 64/);
    });
  });
});
