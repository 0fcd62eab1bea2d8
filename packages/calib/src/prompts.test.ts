import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultPrompts, parsePrompts, readPrompts, shapesPromptsPath } from './prompts.js';
import { FIXTURES } from './testing/paths.js';

describe('prompt lists', () => {
  it.each([
    ['list.txt', 'a cat\n\n# comment\n  a dog  \r\n', ['a cat', 'a dog']],
    ['list.jsonl', '{"prompt": "a cat", "seed": 1}\n\n{"prompt": "a # dog"}\n', ['a cat', 'a # dog']],
  ])('%s', (source, text, prompts) => {
    expect(parsePrompts(text, source)).toEqual(prompts);
  });

  it.each([
    ['bad.jsonl', '{"prompt": 3}', /bad\.jsonl:1: expected an object with a string "prompt" field/],
    ['bad.jsonl', 'nope', /bad\.jsonl:1: not valid JSON/],
    ['empty.txt', '\n# only a comment\n', /empty\.txt: no prompts found/],
  ])('%s is refused with its line', (source, text, message) => {
    expect(() => parsePrompts(text, source)).toThrow(message);
  });

  it('ships at least 64 distinct default prompts', async () => {
    const prompts = await defaultPrompts();
    expect(prompts.length).toBeGreaterThanOrEqual(64);
    expect(new Set(prompts).size).toBe(prompts.length);
  });

  it('ships the shapes-sd language: every colour pair and shape from TRAINING.json', async () => {
    const training = JSON.parse(await readFile(join(FIXTURES, 'models/shapes-sd/TRAINING.json'), 'utf8')) as { colours: Record<string, unknown>; shapes: string[] };
    const colours = Object.keys(training.colours);
    const prompts = await readPrompts(shapesPromptsPath());
    expect(prompts).toHaveLength(colours.length * (colours.length - 1) * training.shapes.length);
    for (const p of prompts) {
      const m = /^a (\w+) (\w+) on a (\w+) background$/.exec(p);
      expect(m).not.toBeNull();
      expect(colours).toContain(m?.[1]);
      expect(training.shapes).toContain(m?.[2]);
      expect(colours).toContain(m?.[3]);
    }
  });
});
