import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel, writeModel } from '@sdq/onnx';
import { quantizePath } from './quantize.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures');
const UNET = path.join(fixtures, 'models/tiny-sd/unet/model.onnx');
const INPUTS = path.join(fixtures, 'quant/unet_calibration_inputs.npz');
const OVER_2_GIB = 2 ** 31 + 2 ** 28;

describe('sdq quantize of a UNet whose external data file is over 2 GiB (SD 1.5: one 3.4 GB weights file)', () => {
  it('is calibrated and quantized in place, with the same result as the same weights in a small file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-quantize-2g-'));
    try {
      // The tiny UNet with every weight in one data file, grown (sparse: no disk used) past 2 GiB.
      const large = path.join(dir, 'large', 'model.onnx');
      await fs.mkdir(path.dirname(large));
      await writeModel(await readModel(UNET), large, { externalData: true, location: 'weights.pb', sizeThreshold: 0 });
      await fs.truncate(path.join(dir, 'large', 'weights.pb'), OVER_2_GIB);
      // Node's readFile refuses such a file: a calibration that read external data whole would fail here.
      await expect(fs.readFile(path.join(dir, 'large', 'weights.pb'))).rejects.toThrow(/2 GiB|ERR_FS_FILE_TOO_LARGE|greater than/);

      const run = (model: string, out: string) => quantizePath(model, out, { calibration: INPUTS, method: 'minmax', threads: 1 });
      const fromLarge = await run(large, path.join(dir, 'out-large', 'model.onnx'));
      const fromFixture = await run(UNET, path.join(dir, 'out-fixture', 'model.onnx'));
      expect(fromLarge.quantizedNodes).toBeGreaterThan(0);
      expect([fromLarge.quantizedNodes, fromLarge.skippedNodes]).toEqual([fromFixture.quantizedNodes, fromFixture.skippedNodes]);
      const [a, b] = await Promise.all([readModel(fromLarge.output), readModel(fromFixture.output)]);
      expect(a.graph?.node).toEqual(b.graph?.node);
      expect(a.graph?.initializer).toEqual(b.graph?.initializer);
      // nothing left next to the output (no split copy of the weights)
      expect((await fs.readdir(path.join(dir, 'out-large'))).sort()).toEqual((await fs.readdir(path.join(dir, 'out-fixture'))).sort());
      expect((await fs.readdir(dir)).sort()).toEqual(['large', 'out-fixture', 'out-large']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
