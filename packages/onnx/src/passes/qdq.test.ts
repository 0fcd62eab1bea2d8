import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqnr } from '@sdq/quant';
import { readModel } from '../io.js';
import { validateModel } from '../validate.js';
import { encodeModel } from '../proto/model.js';
import type { ModelProto } from '../proto/types.js';
import { createSession, type HostTensor } from '../testing/ort.js';
import { readStoredNpz } from '../testing/npz.js';
import { insertQdqWithReport, type QdqPolicy } from './qdq.js';

const fixtures = join(fileURLToPath(import.meta.url), '../../../../../fixtures');
const calib = readStoredNpz(join(fixtures, 'quant/unet_calibration_inputs.npz'));
const ranges = (JSON.parse(readFileSync(join(fixtures, 'quant/calibration-ranges.json'), 'utf8')) as {
  methods: { minmax: { ranges: Record<string, [number, number]> } };
}).methods.minmax.ranges;
const feed = (name: string): HostTensor => ({ type: 'float32', data: calib.get(name)!.data, dims: calib.get(name)!.shape });
const feeds = { sample: feed('sample_0'), timestep: feed('timestep_0'), encoder_hidden_states: feed('encoder_hidden_states_0') };

const histogram = (m: ModelProto): Record<string, number> => {
  const h: Record<string, number> = {};
  for (const n of m.graph!.node) h[n.opType!] = (h[n.opType!] ?? 0) + 1;
  return h;
};

describe('insertQdq on fixtures/models/tiny-sd/unet with the fixture MinMax ranges', () => {
  let model: ModelProto;
  let reference: Float32Array;
  beforeAll(async () => {
    model = await readModel(join(fixtures, 'models/tiny-sd/unet/model.onnx'));
    reference = (await (await createSession(encodeModel(model))).run(feeds)).out_sample.data as Float32Array;
  });

  it.each<[string, QdqPolicy]>([
    ['S8S8 Conv + weight MatMul/Gemm (default)', {}],
    ['S8S8 default + outputs', { quantizeOutputs: true }],
    ['S8S8 Conv only, int32 bias', { opTypes: ['Conv'], bias: 'int32' }],
    ['U8S8 with attention MatMuls', { activationType: 'uint8', activationMatMuls: true }],
    ['S8S8 per-tensor weights', { perChannel: false }],
  ])('%s runs in onnxruntime', async (label, policy) => {
    const { model: q, report } = insertQdqWithReport(model, ranges, policy);
    expect(validateModel(q).filter((f) => f.severity === 'error')).toEqual([]);
    const out = (await (await createSession(encodeModel(q))).run(feeds)).out_sample.data as Float32Array;
    const got = sqnr(reference, out);
    const h = histogram(q);
    console.log(`${label}: SQNR ${got.toFixed(1)} dB, nodes quantized ${report.quantizedNodes.length}, Q ${h.QuantizeLinear ?? 0}, DQ ${h.DequantizeLinear ?? 0}, weights ${report.weights.length}, int32 biases ${report.int32Biases.length}`);
    expect(report.quantizedNodes.length).toBeGreaterThan(0);
    // the bar: onnxruntime's own quantize_static QDQ on this model and input reaches 12.5 dB (fixtures/quant/ort-quantize-static.json)
    expect(got).toBeGreaterThan(12.5);
  });
});
