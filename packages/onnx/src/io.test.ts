import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError, DataType } from '@sdq/quant';
import { readModel, writeModel, inlineModelSize } from './io.js';
import { readModelDir } from './modeldir.js';
import { decodeModel, encodeModel } from './proto/model.js';
import { DataLocation, type ModelProto, type TensorProto } from './proto/types.js';
import { forEachTensor } from './external.js';
import { isExternalTensor, tensorBytes, tensorFromTypedArray, tensorToTypedArray } from './tensor.js';

const MODELS = fileURLToPath(new URL('../../../fixtures/models', import.meta.url));
const UNET = join(MODELS, 'tiny-sd/unet/model.onnx');

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sdq-onnx-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const initializerData = (m: ModelProto, baseDir?: string): Map<string, Buffer> => {
  const out = new Map<string, Buffer>();
  forEachTensor(m, (t) => out.set(t.name ?? '', Buffer.from(tensorBytes(t, baseDir))));
  return out;
};

describe('readModel', () => {
  it('lazy mode keeps external references; load mode inlines the same bytes', async () => {
    const lazy = await readModel(UNET, { externalData: 'lazy' });
    const external: TensorProto[] = [];
    forEachTensor(lazy, (t) => {
      if (isExternalTensor(t)) external.push(t);
    });
    expect(external.length).toBeGreaterThan(10);
    const loaded = await readModel(UNET);
    forEachTensor(loaded, (t) => expect(isExternalTensor(t)).toBe(false));
    const a = initializerData(lazy, join(MODELS, 'tiny-sd/unet'));
    const b = initializerData(loaded);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, v] of a) expect(Buffer.compare(v, b.get(k)!)).toBe(0);
    // lazy model encodes to the original bytes
    expect(Buffer.compare(Buffer.from(encodeModel(lazy)), readFileSync(UNET))).toBe(0);
  });

  it('reads an initializer as a typed array matching its dims', async () => {
    const m = await readModel(UNET, { externalData: 'lazy' });
    const t = m.graph!.initializer.find((x) => x.dataType === DataType.FLOAT && x.dims.length === 4)!;
    const arr = tensorToTypedArray(t, join(MODELS, 'tiny-sd/unet'));
    expect(arr).toBeInstanceOf(Float32Array);
    expect(arr.length).toBe(t.dims.reduce((p, d) => p * d, 1));
    expect(() => tensorToTypedArray(t)).toThrow(SdqError);
  });
});

describe('writeModel', () => {
  it('round-trips a model with external data (data equal, files replaced atomically)', async () => {
    const m = await readModel(UNET);
    const out = join(tmp, 'unet.onnx');
    const res = await writeModel(m, out, { externalData: true, location: 'weights.bin' });
    expect(res.dataFiles).toEqual([{ location: 'weights.bin', bytes: statSync(join(tmp, 'weights.bin')).size }]);
    expect(res.externalTensors).toBeGreaterThan(10);
    expect(readdirSync(tmp).sort()).toEqual(['unet.onnx', 'weights.bin']);
    const back = await readModel(out);
    const a = initializerData(m);
    const b = initializerData(back);
    for (const [k, v] of a) expect(Buffer.compare(v, b.get(k)!)).toBe(0);
    // the input model is not modified
    forEachTensor(m, (t) => expect(isExternalTensor(t)).toBe(false));
    // inline write of the same model equals encodeModel
    const inline = join(tmp, 'inline.onnx');
    await writeModel(m, inline, { externalData: false });
    expect(Buffer.compare(readFileSync(inline), Buffer.from(encodeModel(m)))).toBe(0);
  });

  it('into a missing folder says the folder is missing (not that the model is not found) and leaves nothing', async () => {
    const m = await readModel(UNET);
    const missing = join(tmp, 'no-such-dir');
    await expect(writeModel(m, join(missing, 'unet.onnx'), { externalData: true })).rejects.toThrow(`its folder ${missing} does not exist; create it first`);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('re-encodes a lazily read model into the same folder layout from sourceDir', async () => {
    const m = await readModel(UNET, { externalData: 'lazy' });
    const out = join(tmp, 'model.onnx');
    await expect(writeModel(m, out)).rejects.toThrow(/sourceDir/);
    const res = await writeModel(m, out, { sourceDir: join(MODELS, 'tiny-sd/unet'), location: 'weights.pb' });
    expect(res.externalTensors).toBeGreaterThan(0);
    const back = await readModel(out);
    const orig = await readModel(UNET);
    const a = initializerData(orig);
    const b = initializerData(back);
    for (const [k, v] of a) expect(Buffer.compare(v, b.get(k)!)).toBe(0);
  });

  it('splits data over several files and aligns large tensors', async () => {
    const m = await readModel(UNET);
    const out = join(tmp, 'm.onnx');
    const res = await writeModel(m, out, { externalData: true, maxFileBytes: 1 << 20, alignThreshold: 4096, alignment: 4096 });
    expect(res.dataFiles.length).toBeGreaterThan(2);
    const lazy = await readModel(out, { externalData: 'lazy' });
    forEachTensor(lazy, (t) => {
      if (!isExternalTensor(t)) return;
      const off = Number(t.externalData.find((e) => e.key === 'offset')!.value);
      const len = Number(t.externalData.find((e) => e.key === 'length')!.value);
      if (len >= 4096) expect(off % 4096).toBe(0);
    });
    const a = initializerData(m);
    const b = initializerData(await readModel(out));
    for (const [k, v] of a) expect(Buffer.compare(v, b.get(k)!)).toBe(0);
  });

  it('always writes a model larger than the protobuf limit with external data (limit lowered for the test)', async () => {
    const m = await readModel(UNET);
    const size = inlineModelSize(m);
    const out = join(tmp, 'big.onnx');
    const res = await writeModel(m, out, { externalData: 'auto', maxInlineBytes: size - 1 });
    expect(res.externalTensors).toBeGreaterThan(0);
    const res2 = await writeModel(m, join(tmp, 'big2.onnx'), { externalData: false, maxInlineBytes: size - 1 });
    expect(res2.externalTensors).toBeGreaterThan(0);
    const res3 = await writeModel(m, join(tmp, 'small.onnx'), { externalData: 'auto' });
    expect(res3.externalTensors).toBe(0);
  });
});

describe('error cases', () => {
  const write = (name: string, bytes: Uint8Array | string): string => {
    const p = join(tmp, name);
    writeFileSync(p, bytes);
    return p;
  };
  const expectCode = async (p: Promise<unknown>, code: string, re: RegExp): Promise<void> => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SdqError);
    expect((err as SdqError).code).toBe(code);
    expect((err as SdqError).message).toMatch(re);
  };

  it.each([
    ['png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /PNG/],
    ['json', '{"_class_name": "StableDiffusionPipeline"}', /JSON/],
    ['empty', new Uint8Array(0), /empty/],
    ['text', 'hello world, this is not a model', /not a valid ONNX protobuf|truncated|not an ONNX model/],
  ])('rejects %s passed as a model', async (name, bytes, re) => {
    await expectCode(readModel(write(`${name}.onnx`, bytes)), 'BAD_FORMAT', re);
  });

  it('rejects a truncated model', async () => {
    const bytes = readFileSync(UNET);
    await expectCode(readModel(write('t.onnx', bytes.subarray(0, bytes.length - 100))), 'BAD_FORMAT', /truncated/);
  });

  it('reports a missing file and a missing external data file', async () => {
    await expectCode(readModel(join(tmp, 'nope.onnx')), 'NOT_FOUND', /not found/);
    copyFileSync(UNET, join(tmp, 'model.onnx'));
    await expectCode(readModel(join(tmp, 'model.onnx')), 'NOT_FOUND', /weights\.pb/);
    await expectCode(readModel(join(tmp, 'model.onnx'), { externalData: 'lazy' }), 'NOT_FOUND', /weights\.pb/);
  });

  it('reports ranges past the end of the data file', async () => {
    copyFileSync(UNET, join(tmp, 'model.onnx'));
    const data = readFileSync(join(MODELS, 'tiny-sd/unet/weights.pb'));
    writeFileSync(join(tmp, 'weights.pb'), data.subarray(0, data.length >> 1));
    await expectCode(readModel(join(tmp, 'model.onnx')), 'BAD_FORMAT', /past its end/);
  });

  const withLocation = (location: string): ModelProto => {
    const m = decodeModel(readFileSync(UNET));
    const t = m.graph!.initializer.find((x) => isExternalTensor(x))!;
    t.externalData = t.externalData.map((e) => (e.key === 'location' ? { key: 'location', value: location } : e));
    return m;
  };
  it.each(['/etc/passwd', '../weights.pb', 'sub/../../x', 'C:\\x.bin'])('rejects external location %s', async (loc) => {
    const p = join(tmp, 'model.onnx');
    writeFileSync(p, encodeModel(withLocation(loc)));
    await expectCode(readModel(p), 'BAD_FORMAT', /absolute|outside/);
  });

  it('warns about an IR version newer than known and still loads', () => {
    const m = decodeModel(readFileSync(UNET));
    m.irVersion = 99;
    const warnings: string[] = [];
    const back = decodeModel(encodeModel(m), { onWarning: (w) => warnings.push(w) });
    expect(back.irVersion).toBe(99);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/IR version 99/);
  });
});

describe('readModelDir', () => {
  it.each(['tiny-sd', 'shapes-sd'])('lists the components of %s and loads each', async (name) => {
    const md = await readModelDir(join(MODELS, name));
    expect(Object.keys(md.components)).toEqual(['text_encoder', 'unet', 'vae_encoder', 'vae_decoder']);
    expect(md.otherFolders).toEqual(['scheduler', 'tokenizer']);
    expect(md.index?._class_name).toBeDefined();
    for (const c of Object.values(md.components)) {
      const m = await c.load({ externalData: 'lazy' });
      expect(m.graph?.node.length).toBeGreaterThan(0);
    }
  });
});

describe('tensorFromTypedArray', () => {
  it('wraps a typed array without copying and reads it back', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const t = tensorFromTypedArray('w', [2, 3], data);
    expect(t.dataType).toBe(DataType.FLOAT);
    expect(t.rawData!.buffer).toBe(data.buffer);
    const back = decodeModel(encodeModel({ ...decodeModel(readFileSync(UNET)), graph: { ...decodeModel(readFileSync(UNET)).graph!, initializer: [t] } }));
    expect(Array.from(tensorToTypedArray(back.graph!.initializer[0]!) as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.dataLocation).toBeUndefined();
    expect(DataLocation.EXTERNAL).toBe(1);
    const h = tensorFromTypedArray('h', [2], Uint16Array.from([0x3c00, 0x4000]), DataType.FLOAT16);
    expect(h.dataType).toBe(DataType.FLOAT16);
    expect(() => tensorFromTypedArray('bad', [4], data)).toThrow(SdqError);
  });
});

describe('tensors with in-memory data and stale external_data entries', () => {
  it('writes the in-memory bytes (a pass replaced the data of a lazily read tensor)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdq-onnx-stale-'));
    try {
      const m = await readModel(UNET, { externalData: 'lazy' });
      const t = m.graph!.initializer.find((x) => isExternalTensor(x) && x.dataType === DataType.FLOAT)!;
      const n = t.dims.reduce((a, d) => a * d, 1);
      t.rawData = new Uint8Array(Float32Array.from({ length: n }, (_, i) => i).buffer);
      const out = join(dir, 'model.onnx');
      await writeModel(m, out, { sourceDir: join(MODELS, 'tiny-sd/unet'), location: 'w.bin' });
      const back = await readModel(out);
      const bt = back.graph!.initializer.find((x) => x.name === t.name)!;
      expect(Array.from(tensorToTypedArray(bt) as Float32Array).slice(0, 4)).toEqual([0, 1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('external data behind a symbolic link', () => {
  it('rejects a data file that links outside the model folder, accepts one inside', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdq-onnx-link-'));
    try {
      const { mkdirSync, symlinkSync } = await import('node:fs');
      const model = join(root, 'model');
      mkdirSync(model);
      copyFileSync(UNET, join(model, 'model.onnx'));
      copyFileSync(join(MODELS, 'tiny-sd/unet/weights.pb'), join(root, 'outside.pb'));
      symlinkSync(join(root, 'outside.pb'), join(model, 'weights.pb'));
      await expect(readModel(join(model, 'model.onnx'))).rejects.toThrow(/outside the model's folder/);
      await expect(readModel(join(model, 'model.onnx'), { externalData: 'lazy' })).rejects.toThrow(SdqError);
      rmSync(join(model, 'weights.pb'));
      copyFileSync(join(root, 'outside.pb'), join(model, 'real.pb'));
      symlinkSync('real.pb', join(model, 'weights.pb'));
      const m = await readModel(join(model, 'model.onnx'));
      expect(m.graph!.initializer.length).toBeGreaterThan(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('readModelDir errors', () => {
  it('names a missing folder, a file passed as a folder, and a folder without components', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdq-onnx-dir-'));
    try {
      await expect(readModelDir(join(root, 'nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(readModelDir(UNET)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(readModelDir(root)).rejects.toThrow(/no component folders/);
      writeFileSync(join(root, 'model_index.json'), '{ not json');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(root, 'unet'));
      copyFileSync(UNET, join(root, 'unet', 'model.onnx'));
      await expect(readModelDir(root)).rejects.toThrow(/model_index\.json is not valid JSON/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
