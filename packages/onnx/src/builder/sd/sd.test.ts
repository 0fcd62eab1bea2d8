import { createSession } from '../../testing/ort.js';
import { encodeModel } from '../../proto/model.js';
import { buildSdComponents, parameterCount } from './index.js';

function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

describe('SD synthetic components (tiny preset)', () => {
  const components = buildSdComponents('tiny', { seed: 1 });

  it('unet runs in onnxruntime with the fixture interface', async () => {
    const session = await createSession(encodeModel(components.unet));
    expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    const out = await session.run({
      sample: { type: 'float32', data: uniform(2 * 4 * 16 * 16, 1), dims: [2, 4, 16, 16] },
      timestep: { type: 'float32', data: Float32Array.from([10, 500]), dims: [2] },
      encoder_hidden_states: { type: 'float32', data: uniform(2 * 77 * 32, 2), dims: [2, 77, 32] },
    });
    expect(out.out_sample.dims).toEqual([2, 4, 16, 16]);
    const data = out.out_sample.data as Float32Array;
    expect(data.every(Number.isFinite)).toBe(true);
    console.log('tiny unet params', parameterCount(components.unet), data.slice(0, 4));
  });
});
