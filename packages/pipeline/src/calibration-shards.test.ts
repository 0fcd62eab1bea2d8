import fc from 'fast-check';
import { keptCalibrationSteps } from './int8.js';
import { planCalibrationShards } from './calibration-shards.js';

/** The rule sdq calibrate applied while streaming: a global step counter, every k-th step kept, at most `samples`. */
function streamedKeptSteps(generations: number, steps: number, samples: number): [number, number][] {
  const every = Math.max(1, Math.floor((generations * steps) / samples));
  const out: [number, number][] = [];
  let step = 0;
  for (let g = 0; g < generations; g++) for (let s = 0; s < steps; s++) if (step++ % every === 0 && out.length < samples) out.push([g, s]);
  return out;
}

const counts = fc.record({ generations: fc.integer({ min: 1, max: 12 }), steps: fc.integer({ min: 1, max: 12 }), samples: fc.integer({ min: 1, max: 60 }) });

describe('calibration shards', () => {
  it('keptCalibrationSteps keeps exactly the steps of the streamed rule', () => {
    fc.assert(fc.property(counts, ({ generations, steps, samples }) => {
      const kept = keptCalibrationSteps(generations, steps, samples).flatMap((ss, g) => ss.map((s) => [g, s] as [number, number]));
      expect(kept).toEqual(streamedKeptSteps(generations, steps, samples));
    }));
  });

  it('shards cover each generation that keeps a step exactly once, in order', () => {
    fc.assert(fc.property(counts, fc.integer({ min: 1, max: 5 }), ({ generations, steps, samples }, perShard) => {
      const prompts = Array.from({ length: generations }, (_, i) => `p${i}`);
      const shards = planCalibrationShards({ prompts, steps, samples }, perShard);
      const useful = keptCalibrationSteps(generations, steps, samples).flatMap((ss, g) => (ss.length ? [g] : []));
      expect(shards.flat()).toEqual(useful);
      expect(shards.every((s) => s.length >= 1 && s.length <= perShard)).toBe(true);
    }));
  });

  it('refuses a shard size that is not a positive integer', () => {
    expect(() => planCalibrationShards({ prompts: ['a'], steps: 1, samples: 1 }, 0)).toThrow(/positive integer/);
  });
});
