import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, float16ToFloat32, float32ToFloat16, maxAbsError, sqnr } from '@sdq/quant';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readModel, writeModel } from '../io.js';
import { tensorBytes } from '../tensor.js';
import type { TensorProto } from '../proto/types.js';
import { validateModel } from '../validate.js';
import { encodeModel } from '../proto/model.js';
import { createSession, type HostTensor } from '../testing/ort.js';
import { readStoredNpz } from '../testing/npz.js';
import { convertToFloat16 } from './float16.js';

const fixtures = join(fileURLToPath(import.meta.url), '../../../../../fixtures');
const tiny = join(fixtures, 'models/tiny-sd');
const calib = readStoredNpz(join(fixtures, 'quant/unet_calibration_inputs.npz'));

const f32 = (name: string): HostTensor => {
  const a = calib.get(name)!;
  return { type: 'float32', data: a.data, dims: a.shape };
};
const ids = new Int32Array(2 * 77).fill(49407);
ids.set([49406, 320, 2368, 525, 320, 2003], 77);
ids[0] = 49406;

const toFloat = (t: HostTensor): Float32Array =>
  t.type === 'float16' ? float16ToFloat32(t.data as Uint16Array) : (t.data as Float32Array);

describe('convertToFloat16 on fixtures/models/tiny-sd', () => {
  it.each([
    // [component, feeds, output, min SQNR dB]
    ['unet', { sample: f32('sample_0'), timestep: f32('timestep_0'), encoder_hidden_states: f32('encoder_hidden_states_0') }, 'out_sample', 45],
    ['text_encoder', { input_ids: { type: 'int32', data: ids, dims: [2, 77] } as HostTensor }, 'last_hidden_state', 45],
    ['vae_decoder', { latent_sample: f32('sample_0') }, 'sample', 45],
  ] as const)('%s: FP16 (keepIoTypes) stays close to FP32', async (component, feeds, output, minSqnr) => {
    const model = await readModel(join(tiny, component, 'model.onnx'));
    const half = convertToFloat16(model, { keepIoTypes: true });
    expect(validateModel(half).filter((f) => f.severity === 'error')).toEqual([]);
    const fp32 = await (await createSession(encodeModel(model))).run(feeds);
    const fp16 = await (await createSession(encodeModel(half))).run(feeds);
    const ref = toFloat(fp32[output]);
    const got = toFloat(fp16[output]);
    expect(fp16[output].type).toBe('float32');
    const db = sqnr(ref, got);
    console.log(`${component} fp16 vs fp32: SQNR ${db.toFixed(1)} dB, max abs ${maxAbsError(ref, got).toExponential(2)}`);
    expect(db).toBeGreaterThan(minSqnr);
    // every float initializer left is float16 (no float blocked ops in these graphs)
    expect(half.graph!.initializer.filter((t) => t.dataType === DataType.FLOAT).map((t) => t.name)).toEqual([]);
  });

  it('unet with float16 inputs and outputs (keepIoTypes false) runs and stays close to FP32', async () => {
    const model = await readModel(join(tiny, 'unet', 'model.onnx'));
    const half = convertToFloat16(model);
    expect(half.graph!.input.map((v) => v.type?.tensorType?.elemType)).toEqual([DataType.FLOAT16, DataType.FLOAT16, DataType.FLOAT16]);
    const names = ['sample', 'timestep', 'encoder_hidden_states'];
    const feeds32 = Object.fromEntries(names.map((n) => [n, f32(`${n}_0`)]));
    const feeds16 = Object.fromEntries(names.map((n) => [n, { type: 'float16', data: float32ToFloat16(f32(`${n}_0`).data as Float32Array), dims: f32(`${n}_0`).dims } as HostTensor]));
    const ref = toFloat((await (await createSession(encodeModel(model))).run(feeds32)).out_sample);
    const out = (await (await createSession(encodeModel(half))).run(feeds16)).out_sample;
    expect(out.type).toBe('float16');
    const db = sqnr(ref, toFloat(out));
    console.log(`unet fp16 IO vs fp32: SQNR ${db.toFixed(1)} dB, max abs ${maxAbsError(ref, toFloat(out)).toExponential(2)}`);
    expect(db).toBeGreaterThan(45);
  });
});

describe('convertToFloat16 with deferred conversion of external weights (bounded memory)', () => {
  it('writes the same float16 weights as the eager conversion, converting each external tensor as it is written', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sdq-fp16-deferred-'));
    try {
      const lazy = await readModel(join(tiny, 'unet', 'model.onnx'), { externalData: 'lazy' });
      const baseDir = join(tiny, 'unet');
      const deferred = new Map<TensorProto, () => Uint8Array>();
      const half = convertToFloat16(lazy, { keepIoTypes: true, baseDir, deferred });
      // the UNet's weights are external: nothing converted yet
      expect(deferred.size).toBeGreaterThan(100);
      expect([...deferred.keys()].every((t) => t.rawData === undefined && t.dataType === DataType.FLOAT16)).toBe(true);
      // using a deferred tensor without its map fails instead of reading the float32 file as float16
      expect(() => tensorBytes([...deferred.keys()][0], baseDir)).toThrow();
      await writeModel(half, join(out, 'model.onnx'), { externalData: true, sourceDir: baseDir, deferredData: deferred });
      const written = await readModel(join(out, 'model.onnx'));
      const eager = convertToFloat16(await readModel(join(tiny, 'unet', 'model.onnx')), { keepIoTypes: true });
      const bytesOf = (m: typeof eager) => new Map(m.graph!.initializer.map((t) => [t.name, Buffer.from(tensorBytes(t))]));
      const [a, b] = [bytesOf(written), bytesOf(eager)];
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [name, bytes] of b) expect(Buffer.compare(a.get(name)!, bytes)).toBe(0);
      await expect(writeModel(half, join(out, 'again.onnx'), { externalData: true, sourceDir: baseDir })).rejects.toThrow();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
