import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureUnetInputs } from './capture.js';
import type { GenerateWithUnetHook } from './capture.js';
import { openCalibrationData } from './reader.js';

/** A stand-in pipeline: `steps` UNet calls per prompt with a CFG batch of 2, reusing one buffer like real loops do. */
function fakePipeline(steps: number): GenerateWithUnetHook {
  return async (_prompt, { seed }, onUnetInputs) => {
    const sample = new Float32Array(2 * 4 * 2 * 2);
    for (let s = 0; s < steps; s++) {
      sample.fill(seed * 100 + s);
      onUnetInputs({
        sample: { data: sample, dims: [2, 4, 2, 2] },
        timestep: { data: Float32Array.of(900 - s, 900 - s), dims: [2] },
        encoder_hidden_states: { data: new Float32Array(2 * 77 * 8).fill(seed), dims: [2, 77, 8] },
      });
      await new Promise((r) => setImmediate(r));
    }
  };
}

describe('captureUnetInputs', () => {
  it('writes every step of every prompt as readable input sets, with progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-cap-'));
    const path = join(dir, 'cap.npz');
    const progress: number[] = [];
    const result = await captureUnetInputs(path, ['a', 'b', 'c'], fakePipeline(4), { seed: 10, onProgress: (p) => progress.push(p.sets) });
    expect(result.sets).toBe(12);
    expect(progress).toEqual([4, 8, 12]);
    const reader = await openCalibrationData(path);
    const firsts: number[] = [];
    for await (const f of reader) firsts.push((f.sample.data as Float32Array)[0]);
    await reader.close();
    expect(firsts).toEqual([1000, 1001, 1002, 1003, 1100, 1101, 1102, 1103, 1200, 1201, 1202, 1203]);
  });

  it('leaves no file when the pipeline fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdq-cap-'));
    const failing: GenerateWithUnetHook = async (prompt, g, hook) => {
      await fakePipeline(2)(prompt, g, hook);
      if (g.index === 1) throw new Error('VAE exploded');
    };
    await expect(captureUnetInputs(join(dir, 'cap.npz'), ['a', 'b'], failing)).rejects.toThrow('VAE exploded');
    expect(await readdir(dir)).toEqual([]);
  });
});
