import { ReplayNoise } from '../random.js';
import { readJson, relativeError } from '../testing/fixtures.js';
import { SCHEDULER_CLASS_NAMES, createScheduler } from './create.js';

/** fixtures/schedulers-sd15.json (diffusers 0.40.0.dev0, torch 2.11; see fixtures/PROVENANCE.md). */
interface SchedulerCase {
  scheduler: string;
  class: string;
  scheduler_config: Record<string, unknown>;
  steps: number;
  timesteps: number[];
  init_noise_sigma: number;
  sigmas: number[] | null;
  initial_noise: number[];
  model_inputs: number[][];
  trajectory: number[][];
  noise_draws: number[][];
}
interface AddNoiseCase {
  scheduler: string;
  steps: number;
  index: number;
  timestep: number;
  original: number[];
  noise: number[];
  result: number[];
}
interface SchedulerFixture {
  model: string;
  cases: SchedulerCase[];
  add_noise: AddNoiseCase[];
}

const fixture = readJson<SchedulerFixture>('schedulers-sd15.json');
const TOLERANCE = 1e-5;
const quiet = (): void => undefined;

/** The fixed "model" of the fixture: eps(x, t) = 0.5 tanh(0.7 x) + 0.1 sin(t / 100), float32. */
function fixtureModel(x: Float32Array, t: number, out: Float32Array): Float32Array {
  const bias = Math.fround(0.1 * Math.fround(Math.sin(Math.fround(t / 100))));
  for (let i = 0; i < x.length; i++) out[i] = Math.fround(0.5 * Math.fround(Math.tanh(Math.fround(0.7 * x[i])))) + bias;
  return out;
}

function classOf(c: SchedulerCase): string {
  return c.class;
}

const supported = fixture.cases.filter((c) => SCHEDULER_CLASS_NAMES.includes(classOf(c)));
const unsupported = fixture.cases.filter((c) => !SCHEDULER_CLASS_NAMES.includes(classOf(c)));

describe('schedulers reproduce diffusers (schedulers-sd15.json)', () => {
  it('covers every case of the fixture', () => {
    expect(unsupported.map((c) => `${c.scheduler}/${c.steps}`)).toEqual([]);
  });

  it.each(supported.map((c) => [`${c.scheduler} ${c.steps} steps`, c] as const))('%s', (_name, c) => {
    const noise = new ReplayNoise(c.noise_draws);
    const scheduler = createScheduler({ _class_name: c.class, ...c.scheduler_config }, { noise, logger: quiet });
    scheduler.setTimesteps(c.steps);
    expect(scheduler.timesteps).toEqual(c.timesteps);
    if (c.sigmas !== null) {
      expect(relativeError(scheduler.sigmas as Float32Array, c.sigmas)).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(Math.abs(scheduler.initNoiseSigma - c.init_noise_sigma)).toBeLessThanOrEqual(TOLERANCE * c.init_noise_sigma);

    let latents: Float32Array = Float32Array.from(c.initial_noise, (v) => v * scheduler.initNoiseSigma);
    const eps = new Float32Array(latents.length);
    const errors: number[] = [];
    scheduler.timesteps.forEach((t, i) => {
      const input = scheduler.scaleModelInput(latents, t);
      errors.push(relativeError(input, c.model_inputs[i]));
      fixtureModel(input, t, eps);
      latents = scheduler.step(eps, t, latents);
      errors.push(relativeError(latents, c.trajectory[i]));
    });
    expect(Math.max(...errors)).toBeLessThanOrEqual(TOLERANCE);
    expect(noise.consumed).toBe(c.noise_draws.length);
  });
});

describe('add_noise reproduces diffusers', () => {
  const addCases = fixture.add_noise.map((a) => {
    const c = fixture.cases.find((k) => k.scheduler === a.scheduler && k.steps === a.steps) as SchedulerCase;
    return [`${a.scheduler} ${a.steps} steps, t=${a.timestep}`, a, c] as const;
  });
  it.each(addCases)('%s', (_name, a, c) => {
    const scheduler = createScheduler({ _class_name: c.class, ...c.scheduler_config }, { logger: quiet });
    scheduler.setTimesteps(a.steps);
    expect(scheduler.timesteps[a.index]).toBe(a.timestep);
    const result = scheduler.addNoise(Float32Array.from(a.original), Float32Array.from(a.noise), a.timestep);
    expect(relativeError(result, a.result)).toBeLessThanOrEqual(TOLERANCE);
  });
});
