// SD 2.x's tokenizer through the CLI: SD 2.x pads with "!", and transformers' CLIPTokenizer splits special tokens out
// of the text before BPE, so every "!" in an SD 2.x prompt is its own pad id (the ids themselves are checked against
// transformers in @sdq/diffusion's clip-tokenizer tests). A user sees it as: "a cat!!!" and "a cat ! ! !" are the
// same prompt on SD 2.x, and different prompts on SD 1.x, where "!!!" is one BPE token.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSdq } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tiny = path.join(root, 'fixtures/models/tiny-sd');

let work: string;
let sd2: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-tokenizer-flow-'));
  sd2 = path.join(work, 'tiny-sd2');
  await fs.cp(tiny, sd2, { recursive: true });
  // stabilityai/stable-diffusion-2-1's tokenizer files name "!" as the pad token
  const tokenizer = path.join(sd2, 'tokenizer');
  const map = JSON.parse(await fs.readFile(path.join(tokenizer, 'special_tokens_map.json'), 'utf8')) as Record<string, unknown>;
  await fs.writeFile(path.join(tokenizer, 'special_tokens_map.json'), JSON.stringify({ ...map, pad_token: '!' }));
  const config = JSON.parse(await fs.readFile(path.join(tokenizer, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  await fs.writeFile(path.join(tokenizer, 'tokenizer_config.json'), JSON.stringify({ ...config, pad_token: '!' }));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function generatePng(model: string, prompt: string, name: string): Promise<Buffer> {
  const out = path.join(work, `${name}.png`);
  const r = await runSdq(['generate', model, '--prompt', prompt, '--steps', '1', '--size', '64x64', '--seed', '7', '--out', out, '--json']);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  return fs.readFile(out);
}

describe('SD 2.x special tokens, walked through sdq generate', () => {
  it('SD 2.x: "a cat!!! on a sofa" is "a cat ! ! ! on a sofa" (each "!" the pad id), byte for byte', async () => {
    const merged = await generatePng(sd2, 'a cat!!! on a sofa', 'sd2-merged');
    const split = await generatePng(sd2, 'a cat ! ! ! on a sofa', 'sd2-split');
    expect(merged.equals(split)).toBe(true);
  });

  it('SD 1.x: the same two prompts differ ("!!!" is one BPE token there)', async () => {
    const merged = await generatePng(tiny, 'a cat!!! on a sofa', 'sd1-merged');
    const split = await generatePng(tiny, 'a cat ! ! ! on a sofa', 'sd1-split');
    expect(merged.equals(split)).toBe(false);
  });
});
