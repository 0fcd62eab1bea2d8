import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatInspectReport, formatModelDirReport, inspectModelDir, inspectModelFile } from './inspect.js';

const MODELS = fileURLToPath(new URL('../../../fixtures/models', import.meta.url));

describe('inspectModel', () => {
  it('summarizes the tiny UNet: IO with symbolic dims, initializers, ops, external data', async () => {
    const r = await inspectModelFile(join(MODELS, 'tiny-sd/unet/model.onnx'));
    expect(r.irVersion).toBe(8);
    expect(r.opsets).toContainEqual({ domain: '', version: 17 });
    expect(r.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(r.inputs[0]!.type).toBe('float32');
    expect(r.inputs[0]!.shape).toHaveLength(4);
    expect(r.inputs[0]!.shape!.some((d) => typeof d === 'string')).toBe(true);
    expect(r.outputs.map((o) => o.name)).toEqual(['out_sample']);
    expect(r.externalData).toHaveLength(1);
    expect(r.externalData[0]!.location).toBe('weights.pb');
    // every byte of weights.pb is accounted for by at most the external tensors' ranges
    expect(r.externalData[0]!.bytes).toBeLessThanOrEqual(5665792);
    expect(r.initializers.byType.float32!.count).toBeGreaterThan(10);
    expect(Object.values(r.ops).reduce((a, b) => a + b, 0)).toBe(r.nodes);
    expect(r.ops.Conv).toBeGreaterThan(5);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const text = formatInspectReport(r);
    expect(text).toMatch(/^ir_version {2}8/);
    expect(text).toMatch(/sample +float32 +\[/);
    expect(text).toMatch(/weights\.pb/);
  });

  it('inspects every component of a model dir', async () => {
    const r = await inspectModelDir(join(MODELS, 'shapes-sd'));
    expect(Object.keys(r.components)).toEqual(['text_encoder', 'unet', 'vae_encoder', 'vae_decoder']);
    expect(r.pipeline).toBe('ORTStableDiffusionPipeline');
    expect(r.components.text_encoder!.inputs[0]!.name).toBe('input_ids');
    const text = formatModelDirReport(r);
    for (const c of ['text_encoder', 'unet', 'vae_decoder']) expect(text).toContain(`== ${c}`);
  });
});
