import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizeUnet, DEFAULT_UNET_INT8_POLICY, FAST_UNET_INT8_POLICY, TENSORRT_UNET_INT8_POLICY } from './quantize-unet.js';
import { npzSampleSource } from './reader.js';
import { loadOrt } from './runtime.js';
import { toOrtFeeds } from './stats.js';
import { readRanges } from './artefacts.js';
import { collectRanges } from './stats.js';
import { openCalibrationData } from './reader.js';
import { encodeModel, fuseAttention, insertQdqWithReport, qdqTensorsFor, readModel } from '@sdq/onnx';
import { sqnr as sqnrOf } from '@sdq/quant';
import { FIXTURES } from './testing/paths.js';

const MODEL = join(FIXTURES, 'models/tiny-sd/unet/model.onnx');
const INPUTS = join(FIXTURES, 'quant/unet_calibration_inputs.npz');
const ortStatic = JSON.parse(await readFile(join(FIXTURES, 'quant/ort-quantize-static.json'), 'utf8')) as Record<string, { sqnr_db_vs_fp32_on_calib0: number }>;

async function outputOnSet0(modelPath: string): Promise<Float32Array> {
  const ort = await loadOrt();
  const source = await npzSampleSource(INPUTS);
  try {
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const out = await session.run(toOrtFeeds(ort, await source.load(0)));
    await session.release();
    return out.out_sample.data as Float32Array;
  } finally {
    await source.close?.();
  }
}

describe('quantizeUnet on the tiny UNet', () => {
  let dir: string;
  let fp32: Float32Array;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdq-qunet-'));
    fp32 = await outputOnSet0(MODEL);
  });

  it.each([
    ['default policy (uint8 activations)', DEFAULT_UNET_INT8_POLICY, 'qdq_default'],
    ['TensorRT policy (int8 symmetric activations)', TENSORRT_UNET_INT8_POLICY, 'qdq_trt'],
  ])('%s beats onnxruntime quantize_static on input set 0', async (_label, policy, ortKey) => {
    const out = join(dir, `${ortKey}.onnx`);
    const ranges = join(dir, `${ortKey}.ranges.json`);
    const result = await quantizeUnet(MODEL, out, { calibration: INPUTS, policy, rangesPath: ranges });
    expect(result.report.quantizedNodes.length).toBeGreaterThan(0);
    expect(result.report.quantizedNodes.some((n) => /conv_in|conv_out|time_embedding/.test(n))).toBe(false);
    const sqnr = sqnrOf(fp32, await outputOnSet0(out));
    console.log(`tiny UNet ${_label}: ${sqnr.toFixed(2)} dB vs onnxruntime ${ortStatic[ortKey].sqnr_db_vs_fp32_on_calib0.toFixed(2)} dB (${result.report.quantizedNodes.length} nodes)`);
    expect(sqnr).toBeGreaterThan(ortStatic[ortKey].sqnr_db_vs_fp32_on_calib0);
    expect(Object.keys(await readRanges(ranges)).length).toBe(Object.keys(result.ranges.ranges).length);
    expect((await readdir(dir)).some((f) => f.includes('.tmp-'))).toBe(false);
  });
});

describe('quantizeUnet calibrates only what insertQdq reads', () => {
  it.each([
    ['default policy', true, DEFAULT_UNET_INT8_POLICY],
    ['fast policy (MatMul outputs float)', true, FAST_UNET_INT8_POLICY],
    ['attention MatMuls too, no output Q/DQ', false, { ...DEFAULT_UNET_INT8_POLICY, activationMatMuls: true, quantizeOutputs: false }],
  ])('%s, attention fused %s: same tensors as qdqTensorsFor and insertQdq, same model as calibrating every tensor', async (_label, fused, policy) => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-qunet-'));
    const result = await quantizeUnet(MODEL, join(dir, 'q.onnx'), { calibration: INPUTS, method: 'minmax', policy });
    const model = await readModel(MODEL);
    const collected = Object.keys(result.ranges.ranges).sort();
    expect(collected).toEqual([...qdqTensorsFor(model, policy)].sort());
    expect(collected).toEqual([...result.report.activations].sort());
    const reader = await openCalibrationData(INPUTS);
    const everything = await collectRanges(MODEL, reader, { method: 'minmax' }).finally(() => reader.close());
    expect(Object.keys(everything.ranges).length).toBeGreaterThan(collected.length);
    for (const t of collected) expect(result.ranges.ranges[t]).toEqual(everything.ranges[t]);
    // Attention's inner tensors are not calibrated, so the same ranges serve the fused graph.
    const target = fused ? fuseAttention(model).model : model;
    expect(result.fusedAttention).toBe(fused ? model.graph!.node.filter((n) => n.opType === 'Softmax').length : 0);
    const fromEverything = insertQdqWithReport(target, everything.ranges, policy);
    expect(fromEverything.report).toEqual(result.report);
    // Weights were read lazily and copied to external data: compare the models as loaded.
    expect(Buffer.from(encodeModel(await readModel(join(dir, 'q.onnx')))).equals(Buffer.from(encodeModel(fromEverything.model)))).toBe(true);
  });
});

describe('quantizeUnet checks the calibration data against the model', () => {
  it('names the input whose shape does not fit (tiny-sd data for the shapes-sd UNet)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-qunet-'));
    await expect(
      quantizeUnet(join(FIXTURES, 'models/shapes-sd/unet/model.onnx'), join(dir, 'x.onnx'), { calibration: INPUTS }),
    ).rejects.toThrow(/input 'encoder_hidden_states' dim 2 is 32, the model wants 64/);
    expect(await readdir(dir)).toEqual([]);
  });
});
