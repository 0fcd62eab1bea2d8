import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { insertQdq, readModel, tensorFromTypedArray, type ModelProto, type QdqPolicy } from '@sdq/onnx';
import { DataType } from '@sdq/quant';
import { lintForTensorRT, type LintFinding } from './lint.js';
import { modelInputsFromModel } from './model-inputs.js';
import { profileForComponent } from './profiles.js';
import { FIXTURES_DIR } from './testing/paths.js';
import { node, qdqConv } from './testing/qdq-model.js';

const codes = (f: LintFinding[]): string[] => f.map((x) => x.code);

describe('lintForTensorRT', () => {
  it('passes a symmetric int8 QDQ Conv with per-channel weights on axis 0 and a profiled dynamic input', () => {
    expect(lintForTensorRT(qdqConv(), { profiledInputs: ['x'] })).toEqual([]);
  });

  it('flags uint8 with a nonzero zero point (onnxruntime U8S8 style), naming node and tensor', () => {
    const f = lintForTensorRT(qdqConv({ xZp: tensorFromTypedArray('x_zp', [], new Uint8Array([128])) }), { profiledInputs: ['x'] });
    expect(codes(f)).toEqual(['QDQ_UINT8', 'QDQ_NONZERO_ZERO_POINT', 'QDQ_UINT8', 'QDQ_NONZERO_ZERO_POINT']);
    expect(f[0]).toMatchObject({ severity: 'error', node: 'x_q', tensor: 'x_zp' });
    expect(f[0].message).toMatch(/symmetric int8.*S8S8, zero point 0/);
    expect(f[1].message).toMatch(/requantize with zero point 0/);
  });

  it("flags a QuantizeLinear without zero point (ONNX's default is uint8)", () => {
    const f = lintForTensorRT(qdqConv({ xZp: null }), { profiledInputs: ['x'] });
    expect(f.find((x) => x.node === 'x_q')?.code).toBe('QDQ_UINT8');
    expect(f.find((x) => x.node === 'x_q')?.message).toMatch(/no zero point/);
  });

  it('flags a nonzero int8 weight zero point', () => {
    const f = lintForTensorRT(qdqConv({ wZp: new Int8Array([0, 0, 1, 0, 0, 0, 0, 0]) }), { profiledInputs: ['x'] });
    expect(f).toEqual([expect.objectContaining({ code: 'QDQ_NONZERO_ZERO_POINT', node: 'W_dq', tensor: 'W_zp' })]);
  });

  it('flags per-channel activations and per-channel Conv weights off axis 0', () => {
    const act = lintForTensorRT(qdqConv({ xScale: new Float32Array([0.1, 0.1, 0.2, 0.2]) }), { profiledInputs: ['x'] });
    expect(act.filter((x) => x.code === 'QDQ_PER_CHANNEL_ACTIVATION').map((x) => x.node)).toEqual(['x_q', 'x_dq']);
    const axis = lintForTensorRT(qdqConv({ wAxis: 1 }), { profiledInputs: ['x'] });
    expect(axis).toEqual([expect.objectContaining({ code: 'QDQ_WEIGHT_AXIS', severity: 'error', node: 'W_dq', tensor: 'W_q' })]);
    expect(axis[0].message).toMatch(/set axis=0/);
  });

  it('flags scales that are not positive', () => {
    const f = lintForTensorRT(qdqConv({ xScale: new Float32Array([0]) }), { profiledInputs: ['x'] });
    expect(codes(f)).toEqual(['QDQ_SCALE_NOT_POSITIVE', 'QDQ_SCALE_NOT_POSITIVE']);
  });

  it('flags ops TensorRT does not import, custom-domain ops and ops unknown to its table', () => {
    const f = lintForTensorRT(qdqConv({
      extraNodes: [
        node('QLinearConv', ['a'], ['b']),
        node('FusedMatMul', ['c', 'd'], ['e'], { domain: 'com.microsoft' }),
        node('FancyAttention', ['f'], ['g']),
      ],
    }), { profiledInputs: ['x'] });
    expect(f.map((x) => [x.code, x.severity, x.node])).toEqual([
      ['UNSUPPORTED_OP', 'error', 'b'],
      ['CUSTOM_OP', 'error', 'e'],
      ['UNKNOWN_OP', 'warning', 'g'],
    ]);
    expect(f[0].message).toMatch(/QDQ format/);
    expect(f[1].message).toMatch(/com\.microsoft::FusedMatMul.*plugin/);
  });

  it('says how to get a TensorRT model when the attention was fused for onnxruntime', () => {
    const f = lintForTensorRT(qdqConv({ extraNodes: [node('MultiHeadAttention', ['q', 'k', 'v'], ['o'], { domain: 'com.microsoft' })] }), { profiledInputs: ['x'] });
    expect(f).toEqual([expect.objectContaining({ code: 'CUSTOM_OP', severity: 'error', node: 'o' })]);
    expect(f[0].message).toMatch(/sdq quantize --activations int8.*sdq convert --to fp16" without --fuse-attention/);
  });

  it('flags types TensorRT does not support and limited ones', () => {
    expect(lintForTensorRT(qdqConv({ inputType: DataType.STRING }), { profiledInputs: ['x'] })).toEqual([
      expect.objectContaining({ code: 'UNSUPPORTED_TYPE', severity: 'error', tensor: 'x' }),
    ]);
    expect(lintForTensorRT(qdqConv({ inputType: DataType.DOUBLE }), { profiledInputs: ['x'] })).toEqual([
      expect.objectContaining({ code: 'LIMITED_TYPE', severity: 'warning', tensor: 'x' }),
    ]);
  });

  it('flags dynamic dims without a profile (error when profiles are known, warning otherwise)', () => {
    const missing = lintForTensorRT(qdqConv(), { profiledInputs: [] });
    expect(missing).toEqual([expect.objectContaining({ code: 'DYNAMIC_DIM_WITHOUT_PROFILE', severity: 'error', tensor: 'x' })]);
    expect(missing[0].message).toMatch(/0:"batch".*target.overrides\["x"\]/);
    expect(lintForTensorRT(qdqConv())[0]).toMatchObject({ code: 'DYNAMIC_DIM_WITHOUT_PROFILE', severity: 'warning' });
  });

  it('flags a model over 2 GB without external data', () => {
    const f = lintForTensorRT(qdqConv(), { profiledInputs: ['x'], fileBytes: 3 * 2 ** 30 });
    expect(f).toEqual([expect.objectContaining({ code: 'MODEL_OVER_2GB', severity: 'error' })]);
    expect(f[0].message).toMatch(/external data/);
    expect(lintForTensorRT(qdqConv(), { profiledInputs: ['x'], fileBytes: 3 * 2 ** 30, externalData: true })).toEqual([]);
  });

  it.each(['text_encoder', 'unet', 'vae_decoder'])('tiny-sd %s (FP32 export, external weights) has no errors once profiled', async (component) => {
    const model = await readModel(join(FIXTURES_DIR, 'models/tiny-sd', component, 'model.onnx'), { externalData: 'lazy' });
    const profile = profileForComponent(component, modelInputsFromModel(model));
    const findings = lintForTensorRT(model, { profiledInputs: profile.inputs.map((p) => p.name) });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  describe("@sdq/onnx insertQdq output on tiny-sd's UNet (fixture MinMax ranges)", () => {
    let unet: ModelProto;
    let ranges: Record<string, [number, number]>;
    beforeAll(async () => {
      unet = await readModel(join(FIXTURES_DIR, 'models/tiny-sd/unet/model.onnx'));
      ranges = (JSON.parse(readFileSync(join(FIXTURES_DIR, 'quant/calibration-ranges.json'), 'utf8')) as { methods: { minmax: { ranges: Record<string, [number, number]> } } }).methods.minmax.ranges;
    });
    const profiled = { profiledInputs: ['sample', 'timestep', 'encoder_hidden_states'], externalData: true };

    it.each<[string, QdqPolicy]>([
      ['S8S8 per-channel (the TensorRT form)', {}],
      ['S8S8 with outputs and attention MatMuls', { quantizeOutputs: true, activationMatMuls: true }],
      ['S8S8 per-tensor weights', { perChannel: false }],
    ])('%s: no TensorRT errors', (_label, policy) => {
      const findings = lintForTensorRT(insertQdq(unet, ranges, policy), profiled);
      expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    });

    it('U8S8 (onnxruntime\'s default) is rejected: uint8 and nonzero zero points on the activations', () => {
      const findings = lintForTensorRT(insertQdq(unet, ranges, { activationType: 'uint8' }), profiled);
      const errorCodes = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.code));
      expect([...errorCodes].sort()).toEqual(['QDQ_NONZERO_ZERO_POINT', 'QDQ_UINT8']);
    });
  });
});
