import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FIXTURES, readJson } from '../testing/fixtures.js';
import { ClipTokenizer } from './clip-tokenizer.js';

/** fixtures/tokenizer.json: transformers 5.17 CLIPTokenizer and OpenAI's simple_tokenizer (see PROVENANCE.md). */
interface TokenizerCase {
  text: string;
  sd15_input_ids: number[];
  sd15_attention_mask: number[];
  sd2_input_ids: number[];
  openai_ids: number[];
  tokens: string[];
}

const cases = readJson<{ prompts: TokenizerCase[] }>('tokenizer.json').prompts;
const sd15 = ClipTokenizer.fromDir(join(FIXTURES, 'models/tiny-sd/tokenizer'));
const tokenizerDir = join(FIXTURES, 'models/tiny-sd/tokenizer');

/** An SD 2.x style tokenizer folder: same vocabulary, `pad_token` "!" in special_tokens_map.json. */
function sd2Dir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdq-tok-'));
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) symlinkSync(join(tokenizerDir, f), join(dir, f));
  writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: { content: '!' }, eos_token: '<|endoftext|>' }));
  return dir;
}
const sd2 = ClipTokenizer.fromDir(sd2Dir());

describe('ClipTokenizer reproduces transformers CLIPTokenizer (tokenizer.json)', () => {
  const rows = cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const);

  it.each(rows)('SD 1.x ids and mask: %s', (_t, c) => {
    const out = sd15.call(c.text);
    expect(out.inputIds).toEqual(c.sd15_input_ids);
    expect(out.attentionMask).toEqual(c.sd15_attention_mask);
  });

  it.each(rows)('SD 2.x ids (pad "!" from special_tokens_map.json): %s', (_t, c) => {
    expect(sd2.padTokenId).toBe(0);
    expect(sd2.call(c.text).inputIds).toEqual(c.sd2_input_ids);
  });

  it.each(rows)('tokens: %s', (_t, c) => {
    expect(['<|startoftext|>', ...sd15.tokenize(c.text), '<|endoftext|>'].slice(0, 77)).toEqual(c.tokens.slice(0, 77));
  });

  it.each(rows)('OpenAI CLIP encode (HTML unescaped, no special tokens): %s', (_t, c) => {
    expect(sd15.encode(c.text, { htmlUnescape: true })).toEqual(c.openai_ids);
  });
});

describe('ClipTokenizer invariants', () => {
  it('always returns 77 ids framed by BOS ... EOS, mask ones exactly over them', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const { inputIds, attentionMask } = sd15.call(text);
        const n = attentionMask.reduce((a, b) => a + b, 0);
        expect(inputIds).toHaveLength(77);
        expect(attentionMask).toHaveLength(77);
        expect(inputIds[0]).toBe(sd15.bosTokenId);
        expect(inputIds[n - 1]).toBe(sd15.eosTokenId);
        expect(attentionMask.slice(0, n).every((m) => m === 1) && attentionMask.slice(n).every((m) => m === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('truncates long prompts to 75 tokens plus BOS and EOS', () => {
    const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const { inputIds, attentionMask } = sd15.call(long);
    expect(attentionMask.every((m) => m === 1)).toBe(true);
    expect(inputIds.slice(1, 76)).toEqual(sd15.encode(long).slice(0, 75));
    expect(inputIds[76]).toBe(sd15.eosTokenId);
  });

  it('names the missing file', () => {
    expect(() => ClipTokenizer.fromDir(join(FIXTURES, 'models/tiny-sd/unet'))).toThrow(/vocab\.json is missing/);
  });
});
