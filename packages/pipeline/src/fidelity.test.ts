import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeFidelity, readPromptLanguage, fidelityPromptSet, parseShapesPrompt, colourFraction, largestComponentFill, readShape } from './fidelity.js';
import { shapeImage, squareImage } from './testing.js';

const shapesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/shapes-sd');

describe('prompt fidelity judge', () => {
  it('reads the shapes-sd language', async () => {
    const lang = await readPromptLanguage(shapesDir);
    expect(lang?.colours.red).toEqual([220, 30, 30]);
    expect(lang?.shapes).toEqual(['circle', 'square', 'triangle']);
    expect(await readPromptLanguage(path.join(shapesDir, '..', 'tiny-sd'))).toBeUndefined();
  });

  const red = [220, 30, 30];
  const blue = [40, 70, 220];
  it.each([
    // [drawn shape, fg colour, bg colour, fraction of side, prompt, colours right, colours and shape right]
    ['circle', red, blue, 0.5, 'a red circle on a blue background', true, true],
    ['circle', red, blue, 0.1, 'a red circle on a blue background', false, false], // fg 1% < 3%
    ['circle', blue, red, 0.5, 'a red circle on a blue background', false, false], // colours swapped: bg 25% < 50%
    ['square', [30, 180, 60], [245, 245, 245], 0.3, 'a green square on a white background', true, true],
    ['triangle', red, blue, 0.6, 'a red triangle on a blue background', true, true],
    // right colours, wrong shape: the colour judge alone calls these faithful
    ['square', red, blue, 0.5, 'a red circle on a blue background', true, false],
    ['circle', red, blue, 0.5, 'a red triangle on a blue background', true, false],
    ['triangle', red, blue, 0.6, 'a red square on a blue background', true, false],
    ['blob', red, blue, 0.7, 'a red circle on a blue background', true, false],
  ] as const)('%s fg %j bg %j side %d: "%s" colour=%s faithful=%s', async (shape, fg, bg, frac, prompt, colourFaithful, faithful) => {
    const lang = (await readPromptLanguage(shapesDir))!;
    const v = judgeFidelity(shapeImage(96, shape, fg, bg, frac), prompt, lang);
    expect([v?.colourFaithful, v?.faithful]).toEqual([colourFaithful, faithful]);
  });

  it.each([
    // ideal corner gaps (top-left, top-right, bottom-left, bottom-right): square 0; disk (sqrt 2 - 1)/2; upward
    // triangle 1/sqrt 5 at the top, 0 at the bottom; fills 1, pi/4, 1/2 (rasterised at 96 px, side 0.6)
    ['square', 1, [0, 0, 0, 0], 'square'],
    ['circle', Math.PI / 4, Array(4).fill((Math.SQRT2 - 1) / 2), 'circle'],
    ['triangle', 0.5, [1 / Math.sqrt(5), 1 / Math.sqrt(5), 0, 0], 'triangle'],
    ['blob', 0.36, [0.4, 0.4, 0.4, 0.4], null],
  ] as const)('largest component of a %s fills %d of its box, corner gaps %j: reads as %s', (shape, fill, gaps, reads) => {
    const r = largestComponentFill(shapeImage(96, shape, [255, 255, 255], [0, 0, 0], 0.6), [255, 255, 255]);
    expect(r.fill).toBeCloseTo(fill, 1);
    r.cornerGaps.forEach((g, i) => expect(g).toBeCloseTo(gaps[i], 1));
    expect(readShape(r.fill, r.cornerGaps)).toBe(reads);
  });

  it('the largest 4-connected component: diagonal neighbours do not connect, the bigger region wins', () => {
    // 4x4: a 2x2 block (4 px) top-left, a diagonal of 3 single pixels bottom-right (3 components of 1)
    const img = squareImage(4, [0, 0, 0], [0, 0, 0]);
    for (const i of [0, 1, 4, 5, 10, 15]) img.data.set([1, 1, 1], 3 * i);
    expect(largestComponentFill(img, [255, 255, 255])).toEqual({ pixels: 4, fill: 1, cornerGaps: [0, 0, 0, 0] });
    expect(largestComponentFill(img, [0, 0, 255], 10)).toEqual({ pixels: 0, fill: 0, cornerGaps: [0, 0, 0, 0] });
  });

  it.each([
    // [fill, corner gaps] measured on shapes-sd FP32/FP16/INT8 images (12 prompts, DDIM 10 and 25 steps, seed 42):
    // the extremes of each shape, among them the soft-cornered square (fill 0.81) and the small circle (fill 0.68)
    ['triangle', 0.567, [0.37, 0.39, 0.04, 0.04]],
    ['triangle', 0.63, [0.36, 0.36, 0.05, 0.05]],
    ['triangle', 0.611, [0.33, 0.36, 0.07, 0.07]],
    ['circle', 0.676, [0.19, 0.19, 0.17, 0.18]],
    ['circle', 0.817, [0.17, 0.15, 0.18, 0.18]],
    ['circle', 0.753, [0.17, 0.18, 0.15, 0.15]],
    ['square', 0.814, [0.11, 0.07, 0.07, 0.11]],
    ['square', 0.88, [0.11, 0.11, 0.11, 0.11]],
    ['square', 0.921, [0.12, 0.08, 0.08, 0.07]],
  ])('measured %s (fill %d, corner gaps %j) reads as that shape', (shape, fill, gaps) => {
    expect(readShape(fill, gaps)).toBe(shape);
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
