import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScheduler } from './create.js';

/** testdata/timesteps-numpy.json: diffusers' set_timesteps (numpy part) for many step counts; see make_timesteps.py. */
interface TimestepCase {
  class: string;
  spacing: string;
  steps: number;
  skip_prk_steps?: boolean;
  timesteps: number[];
}
const data = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'testdata/timesteps-numpy.json'), 'utf8')) as {
  cases: TimestepCase[];
};

const base = { num_train_timesteps: 1000, beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1 };

describe('timestep spacings equal diffusers/numpy for every step count', () => {
  it.each(data.cases.map((c) => [`${c.class} ${c.spacing} ${c.steps}${c.skip_prk_steps === false ? ' prk' : ''}`, c] as const))(
    '%s',
    (_name, c) => {
      const config = { ...base, _class_name: c.class, timestep_spacing: c.spacing, ...(c.skip_prk_steps !== undefined && { skip_prk_steps: c.skip_prk_steps }) };
      const s = createScheduler(config, { logger: () => undefined });
      s.setTimesteps(c.steps);
      expect(s.timesteps).toEqual(c.timesteps);
    },
  );
});
