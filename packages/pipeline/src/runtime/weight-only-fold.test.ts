import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertPath } from '../convert.js';
import { quantizePath } from '../quantize.js';
import { holdsWeightOnlyQuantization } from './diffusion-generator.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures');
const TINY = path.join(fixtures, 'models/tiny-sd');
const INPUTS = path.join(fixtures, 'quant/unet_calibration_inputs.npz');

describe('holdsWeightOnlyQuantization: which dirs may have their weight DequantizeLinear folded at load on a GPU', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-fold-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a float export: no (nothing to fold)', async () => {
    expect(await holdsWeightOnlyQuantization(TINY)).toBe(false);
  });

  it('sdq convert --to int8-weights: yes (DequantizeLinear of weights, no QuantizeLinear)', async () => {
    const out = path.join(dir, 'w8');
    await convertPath(TINY, out, { to: 'int8-weights' });
    expect(await holdsWeightOnlyQuantization(out)).toBe(true);
  });

  it('sdq quantize (activation Q/DQ): no, folding would turn its activation quantization into float math', async () => {
    const out = path.join(dir, 'int8');
    await quantizePath(TINY, out, { calibration: INPUTS, method: 'minmax', threads: 1 });
    expect(await holdsWeightOnlyQuantization(out)).toBe(false);
  });
});
