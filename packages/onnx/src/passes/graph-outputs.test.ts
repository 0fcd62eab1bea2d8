import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType } from '@sdq/quant';
import { readModel } from '../io.js';
import { encodeModel } from '../proto/model.js';
import { createSession, type HostTensor } from '../testing/ort.js';
import { readStoredNpz } from '../testing/npz.js';
import { addGraphOutputs } from './graph-outputs.js';

const fixtures = join(fileURLToPath(import.meta.url), '../../../../../fixtures');

describe('addGraphOutputs on fixtures/models/tiny-sd/unet', () => {
  it('exposes every tensor onnxruntime calibrated, and their ranges on input 0 lie inside the 8-input MinMax ranges', async () => {
    const ranges = (JSON.parse(readFileSync(join(fixtures, 'quant/calibration-ranges.json'), 'utf8')) as {
      methods: { minmax: { ranges: Record<string, [number, number]> } };
    }).methods.minmax.ranges;
    const names = Object.keys(ranges);
    const model = addGraphOutputs(await readModel(join(fixtures, 'models/tiny-sd/unet/model.onnx')), names);
    expect(model.graph!.output.length).toBe(1 + names.filter((n) => n !== 'out_sample').length);
    const calib = readStoredNpz(join(fixtures, 'quant/unet_calibration_inputs.npz'));
    const feed = (name: string): HostTensor => ({ type: 'float32', data: calib.get(name)!.data, dims: calib.get(name)!.shape });
    const out = await (await createSession(encodeModel(model))).run({
      sample: feed('sample_0'),
      timestep: feed('timestep_0'),
      encoder_hidden_states: feed('encoder_hidden_states_0'),
    });
    let checked = 0;
    for (const name of names) {
      const t = out[name];
      if (t.type !== 'float32') continue;
      const data = t.data as Float32Array;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const [rmin, rmax] = ranges[name];
      expect(lo).toBeGreaterThanOrEqual(rmin - 1e-5 * Math.max(1, Math.abs(rmin)));
      expect(hi).toBeLessThanOrEqual(rmax + 1e-5 * Math.max(1, Math.abs(rmax)));
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
    // onnxruntime rejects an output whose declared element type differs from the computed one, so the run above
    // also shows the propagated element types are right
    expect(model.graph!.output.every((o) => o.type?.tensorType?.elemType === DataType.FLOAT)).toBe(true);
  });
});
