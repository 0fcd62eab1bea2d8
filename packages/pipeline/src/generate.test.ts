import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateImage } from './generate.js';

const shapesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/shapes-sd');
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('generateImage', () => {
  it('needs only a prompt: scheduler from the model, size from the UNet, the rest from @sdq/diffusion', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'sdq-generate-'));
    try {
      const prompt = 'a red circle on a blue background';
      const out = path.join(tmp, 'red-circle.png');
      // few steps to stay fast; everything else left to the defaults
      const r = await generateImage(shapesDir, { prompt, steps: 3, out });
      expect([r.image.width, r.image.height]).toEqual([128, 128]); // sample_size 16 x 8
      expect(r.timings.unetCalls).toBe(4); // the model's PNDMScheduler (skip_prk_steps): steps + 1 calls, as in diffusers
      expect([...readFileSync(out).subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
