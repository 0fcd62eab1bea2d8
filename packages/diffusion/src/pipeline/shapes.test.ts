import { join } from 'node:path';
import { FIXTURES, readJson } from '../testing/fixtures.js';
import type { RgbImage } from './image.js';
import { StableDiffusionPipeline } from './pipeline.js';

/**
 * Prompt fidelity on the trained fixtures/models/shapes-sd, with the judge of fixtures/PROVENANCE.md: fg = fraction of
 * pixels within RGB distance 60 of the prompt's foreground colour, bg the same for the background; faithful when
 * fg >= 0.03 and bg >= 0.5.
 */
const training = readJson<{ colours: Record<string, [number, number, number]> }>('models/shapes-sd/TRAINING.json');

function judge(image: RgbImage, prompt: string): { fg: number; bg: number } {
  const m = /^a (\w+) (\w+) on a (\w+) background$/.exec(prompt);
  if (m === null) throw new Error(`not a shapes prompt: ${prompt}`);
  const fraction = ([r, g, b]: [number, number, number]): number => {
    let hits = 0;
    for (let i = 0; i < image.data.length; i += 3) {
      const d = Math.hypot(image.data[i] * 255 - r, image.data[i + 1] * 255 - g, image.data[i + 2] * 255 - b);
      if (d <= 60) hits++;
    }
    return hits / (image.data.length / 3);
  };
  return { fg: fraction(training.colours[m[1]]), bg: fraction(training.colours[m[3]]) };
}

let pipeline: StableDiffusionPipeline;
beforeAll(async () => {
  pipeline = await StableDiffusionPipeline.fromDir(join(FIXTURES, 'models/shapes-sd'), { intraOpNumThreads: 1, scheduler: 'ddim' });
});
afterAll(async () => {
  await pipeline.dispose();
});

describe('shapes-sd images follow their prompts (DDIM, guidance 5, 128x128)', () => {
  it.each([
    ['a red circle on a blue background', 25],
    ['a yellow square on a black background', 10],
  ])('%s (%i steps)', async (prompt, steps) => {
    const result = await pipeline.generate({ prompt, steps, guidanceScale: 5, seed: 0 });
    const { fg, bg } = judge(result.images[0], prompt);
    expect(fg).toBeGreaterThanOrEqual(0.03);
    expect(bg).toBeGreaterThanOrEqual(0.5);
    // the judge is not vacuous: swapping the colours makes the same image unfaithful
    const swapped = prompt.replace(/^a (\w+) (\w+) on a (\w+)/, 'a $3 $2 on a $1');
    expect(judge(result.images[0], swapped).bg).toBeLessThan(0.5);
  });
});
