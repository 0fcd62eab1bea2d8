import { SdqError } from '@sdq/quant';
import fc from 'fast-check';
import { readJson } from '../testing/fixtures.js';
import { SCHEDULER_ALIASES } from './aliases.js';
import { SCHEDULER_CLASS_NAMES, createScheduler, createSchedulerByName } from './create.js';

const sd15 = readJson<Record<string, unknown>>('models/tiny-sd/scheduler/scheduler_config.json');

describe('createScheduler', () => {
  it('rejects an empty config', () => {
    expect(() => createScheduler({})).toThrow(/scheduler config is empty/);
  });

  it('rejects an unknown class with the list of supported ones', () => {
    expect(() => createScheduler({ _class_name: 'FlowMatchEulerDiscreteScheduler' })).toThrow(/not supported; supported: DDIMScheduler/);
  });

  it('rejects unsupported options at non-default values instead of ignoring them', () => {
    expect(() => createScheduler({ ...sd15, _class_name: 'DDIMScheduler', thresholding: true })).toThrow(SdqError);
    expect(() => createScheduler({ ...sd15, _class_name: 'EulerDiscreteScheduler', use_beta_sigmas: true })).toThrow(/use_beta_sigmas/);
    expect(() => createScheduler({ ...sd15, _class_name: 'DDIMScheduler', timestep_spacing: 'cosine' })).toThrow(/timestep_spacing/);
  });

  it.each([{ solver_type: 'bh1' }, { predict_x0: false }, { lower_order_final: false }])(
    'refuses UniPC %p with a zero final sigma (NaN in diffusers) and accepts it with sigma_min',
    (option) => {
      expect(() => createScheduler({ ...sd15, _class_name: 'UniPCMultistepScheduler', ...option })).toThrow(/final_sigmas_type: "sigma_min"/);
      const s = createScheduler({ ...sd15, _class_name: 'UniPCMultistepScheduler', ...option, final_sigmas_type: 'sigma_min' });
      s.setTimesteps(5);
      let x: Float32Array = new Float32Array(8).fill(1);
      for (const t of s.timesteps) x = s.step(new Float32Array(8).fill(0.1), t, x);
      expect(x.every(Number.isFinite)).toBe(true);
    },
  );

  it('logs unknown keys and switched-on options of other classes, drops the rest like diffusers', () => {
    const lines: string[] = [];
    createScheduler({ ...sd15, _class_name: 'DDIMScheduler', my_typo: 1, use_karras_sigmas: true }, { logger: (m) => lines.push(m) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ignoring .*my_typo, use_karras_sigmas/);
    const quiet: string[] = [];
    createScheduler(sd15, { logger: (m) => quiet.push(m) });
    createSchedulerByName('euler_a', sd15, { logger: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
  });

  it.each(Object.keys(SCHEDULER_ALIASES))('alias %s builds on the model config', (name) => {
    const s = createSchedulerByName(name, sd15, { logger: () => undefined });
    expect(SCHEDULER_CLASS_NAMES).toContain(s.className);
    s.setTimesteps(20);
    expect(s.timesteps.length).toBeGreaterThanOrEqual(20);
  });
});

describe('scheduler invariants', () => {
  const names = ['ddim', 'ddim_trailing', 'pndm', 'euler', 'heun', 'lms', 'dpmpp_2m', 'dpmpp_2m_karras', 'unipc'];
  it('deterministic schedulers: timesteps descend within [0, T) and a denoising run stays finite', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.integer({ min: 1, max: 60 }), (name, steps) => {
        const s = createSchedulerByName(name, sd15, { logger: () => undefined });
        s.setTimesteps(steps);
        for (let i = 1; i < s.timesteps.length; i++) expect(s.timesteps[i]).toBeLessThanOrEqual(s.timesteps[i - 1]);
        expect(Math.max(...s.timesteps)).toBeLessThan(1000);
        expect(Math.min(...s.timesteps)).toBeGreaterThanOrEqual(0);
        let x: Float32Array = new Float32Array(16).fill(s.initNoiseSigma);
        const eps = new Float32Array(16);
        for (const t of s.timesteps) {
          const input = s.scaleModelInput(x, t);
          for (let i = 0; i < eps.length; i++) eps[i] = 0.5 * Math.tanh(input[i]);
          x = s.step(eps, t, x);
        }
        expect(x.every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('step with a reused output buffer equals step into a new array', () => {
    for (const name of names) {
      const a = createSchedulerByName(name, sd15, { logger: () => undefined });
      const b = createSchedulerByName(name, sd15, { logger: () => undefined });
      a.setTimesteps(8);
      b.setTimesteps(8);
      let xa: Float32Array = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
      const xb = Float32Array.from(xa);
      const eps = new Float32Array(32);
      for (const t of a.timesteps) {
        for (let i = 0; i < eps.length; i++) eps[i] = Math.cos(i + t);
        xa = a.step(eps, t, xa);
        b.step(eps, t, xb, xb);
      }
      expect(Array.from(xb)).toEqual(Array.from(xa));
    }
  });

  it('runs a schedule whose first timestep repeats from its start (diffusers would index past its sigmas)', () => {
    const s = createScheduler({ ...sd15, _class_name: 'DPMSolverMultistepScheduler', beta_schedule: 'squaredcos_cap_v2', use_karras_sigmas: true });
    s.setTimesteps(10);
    expect(s.timesteps.slice(0, 4)).toEqual([998, 998, 998, 998]);
    let x: Float32Array = new Float32Array(8).fill(s.initNoiseSigma);
    for (const t of s.timesteps) x = s.step(new Float32Array(8).fill(0.1), t, x);
    expect(x.every(Number.isFinite)).toBe(true);
  });

  it('a stochastic scheduler without a noise source says how to give it one', () => {
    const s = createSchedulerByName('euler_a', sd15, { logger: () => undefined });
    s.setTimesteps(4);
    const x = new Float32Array(4);
    expect(() => s.step(x, s.timesteps[0], x)).toThrow(/setNoiseSource/);
  });
});
