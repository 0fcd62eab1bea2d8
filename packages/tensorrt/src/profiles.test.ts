import fc from 'fast-check';
import { DataType } from '@sdq/quant';
import { formatShapes, profileForComponent, resolveProfileTarget, type ModelInputs } from './profiles.js';

const UNET: ModelInputs = [
  { name: 'sample', elemType: DataType.FLOAT, dims: ['batch', 4, 'h', 'w'] },
  { name: 'timestep', elemType: DataType.FLOAT, dims: ['batch'] },
  { name: 'encoder_hidden_states', elemType: DataType.FLOAT, dims: ['batch', 'seq', 768] },
];

describe('profileForComponent', () => {
  it('derives UNet, text encoder and VAE decoder shapes from one target (property)', () => {
    const range = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })).map(([a, b, c]) => ({ min: a, opt: a + b, max: a + b + c }));
    fc.assert(fc.property(range, range, range, fc.boolean(), fc.boolean(), (batch, h, w, cfg, isStatic) => {
      const px = (r: { min: number; opt: number; max: number }) => ({ min: r.min * 64, opt: r.opt * 64, max: r.max * 64 });
      const target = { batch, height: px(h), width: px(w), cfg, static: isStatic };
      const t = resolveProfileTarget(target);
      const unet = profileForComponent('unet', UNET, target).inputs;
      const k = cfg ? 2 : 1;
      for (const which of ['min', 'opt', 'max'] as const) {
        expect(unet[0][which]).toEqual([t.batch[which] * k, 4, t.height[which] / 8, t.width[which] / 8]);
        expect(unet[1][which]).toEqual([t.batch[which] * k]);
        expect(unet[2][which]).toEqual([t.batch[which] * k, 77, 768]);
        unet[0][which].forEach((v, i) => expect(unet[0].min[i] <= v && v <= unet[0].max[i]).toBe(true));
      }
      const te = profileForComponent('text_encoder', [{ name: 'input_ids', elemType: DataType.INT32, dims: ['b', 's'] }], target).inputs[0];
      expect(te.max).toEqual([t.batch.max, 77]);
      if (isStatic) expect(new Set([unet[0].min.join(), unet[0].opt.join(), unet[0].max.join()]).size).toBe(1);
    }));
  });

  it('leaves static inputs out and notes a fixed dim that narrows the target', () => {
    const p = profileForComponent('unet', [{ name: 'sample', elemType: 1, dims: [2, 4, 'h', 'w'] }, { name: 'timestep', elemType: 1, dims: [1] }]);
    expect(p.inputs.map((i) => i.name)).toEqual(['sample']);
    expect(p.inputs[0].max).toEqual([2, 4, 128, 128]);
    expect(p.notes[0]).toMatch(/axis 0 is fixed at 2/);
  });

  it('takes overrides for inputs it has no rule for, and checks them', () => {
    const inputs: ModelInputs = [{ name: 'controlnet_cond', elemType: 1, dims: ['b', 3, 'H', 'W'] }];
    expect(() => profileForComponent('controlnet', inputs)).toThrow(/no rule for it: give its shapes in target.overrides\["controlnet_cond"\]/);
    const ok = profileForComponent('controlnet', inputs, { overrides: { controlnet_cond: { min: [1, 3, 256, 256], opt: [1, 3, 512, 512], max: [2, 3, 768, 768] } } });
    expect(formatShapes(ok.inputs, 'max')).toBe('controlnet_cond:2x3x768x768');
    expect(() => profileForComponent('controlnet', inputs, { overrides: { controlnet_cond: { min: [1, 4, 8, 8], opt: [1, 4, 8, 8], max: [1, 4, 8, 8] } } })).toThrow(/fixed at 3/);
  });

  it.each([
    [{ height: { min: 500, opt: 512, max: 512 } }, /500 px is not a multiple of 8/],
    [{ batch: { min: 2, opt: 1, max: 4 } }, /min <= opt <= max/],
    [{ tokens: 0 }, /tokens/],
  ])('rejects a bad target %j', (target, message) => expect(() => resolveProfileTarget(target)).toThrow(message));

  it("refuses input names trtexec's shape syntax cannot carry", () => {
    expect(() => formatShapes([{ name: "a,b", min: [1], opt: [1], max: [1] }], 'min')).toThrow(/rename the input/);
  });
});
