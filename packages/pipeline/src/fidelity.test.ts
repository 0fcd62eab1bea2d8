import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeFidelity, readPromptLanguage, fidelityPromptSet, parseShapesPrompt, colourFraction } from './fidelity.js';
import { squareImage } from './testing.js';

const shapesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/shapes-sd');

describe('prompt fidelity judge', () => {
  it('reads the shapes-sd language', async () => {
    const lang = await readPromptLanguage(shapesDir);
    expect(lang?.colours.red).toEqual([220, 30, 30]);
    expect(lang?.shapes).toEqual(['circle', 'square', 'triangle']);
    expect(await readPromptLanguage(path.join(shapesDir, '..', 'tiny-sd'))).toBeUndefined();
  });

  it.each([
    // [fg colour, bg colour, fraction of side, prompt, faithful]
    [[220, 30, 30], [40, 70, 220], 0.5, 'a red circle on a blue background', true],
    [[220, 30, 30], [40, 70, 220], 0.1, 'a red circle on a blue background', false], // fg 1% < 3%
    [[40, 70, 220], [220, 30, 30], 0.5, 'a red circle on a blue background', false], // colours swapped: bg 25% < 50%
    [[30, 180, 60], [245, 245, 245], 0.3, 'a green square on a white background', true],
  ])('fg %j bg %j side %d: "%s" faithful=%s', async (fg, bg, frac, prompt, faithful) => {
    const lang = (await readPromptLanguage(shapesDir))!;
    const v = judgeFidelity(squareImage(64, fg, bg, frac), prompt, lang);
    expect(v?.faithful).toBe(faithful);
  });

  it('measures colour fractions exactly on a synthetic image', () => {
    const img = squareImage(10, [255, 0, 0], [0, 0, 255], 0.4); // 4x4 of 10x10
    expect(colourFraction(img, [255, 0, 0])).toBeCloseTo(0.16, 12);
    expect(colourFraction(img, [0, 0, 255])).toBeCloseTo(0.84, 12);
  });

  it('rejects prompts outside the language', async () => {
    const lang = (await readPromptLanguage(shapesDir))!;
    expect(parseShapesPrompt('a cat on a sofa', lang)).toBeUndefined();
    expect(parseShapesPrompt('a pink circle on a blue background', lang)).toBeUndefined();
    expect(parseShapesPrompt('a orange triangle on a purple background', lang)).toEqual({ fg: 'orange', shape: 'triangle', bg: 'purple' });
  });

  it('builds a balanced prompt set of distinct in-language prompts with fg != bg', async () => {
    const lang = (await readPromptLanguage(shapesDir))!;
    const prompts = fidelityPromptSet(lang, 12);
    expect(new Set(prompts).size).toBe(12);
    for (const p of prompts) {
      const parsed = parseShapesPrompt(p, lang);
      expect(parsed).toBeDefined();
      expect(parsed!.fg).not.toBe(parsed!.bg);
    }
    for (const shape of lang.shapes) expect(prompts.filter((p) => p.includes(shape))).toHaveLength(4);
  });
});
