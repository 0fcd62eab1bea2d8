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

  it.each(rows)('OpenAI CLIP encode (HTML unescaped, no added tokens): %s', (_t, c) => {
    expect(sd15.encode(c.text, { htmlUnescape: true, matchAddedTokens: false })).toEqual(c.openai_ids);
  });
});

/**
 * fixtures/tokenizer-added-tokens.json: prompts with `!` and special tokens in them. Its ids are DERIVED by reasoning
 * from transformers' algorithm (tools/conformance/clip-added-tokens.py, which reproduces every case of
 * tokenizer.json), not produced by transformers itself: no transformers was available to generate them.
 */
interface AddedTokenCase {
  text: string;
  sd15_input_ids: number[];
  sd15_attention_mask: number[];
  sd15_tokens: string[];
  sd2_input_ids: number[];
  sd2_attention_mask: number[];
  sd2_tokens: string[];
}
const addedCases = readJson<{ prompts: AddedTokenCase[] }>('tokenizer-added-tokens.json').prompts;

describe('ClipTokenizer cuts special/added tokens out before BPE, as transformers does (tokenizer-added-tokens.json)', () => {
  const rows = addedCases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const);

  it.each(rows)('SD 1.x (pad <|endoftext|>): %s', (_t, c) => {
    expect(sd15.tokenize(c.text)).toEqual(c.sd15_tokens);
    expect(sd15.call(c.text)).toEqual({ inputIds: c.sd15_input_ids, attentionMask: c.sd15_attention_mask });
  });

  it.each(rows)('SD 2.x (pad "!", every "!" its own id 0): %s', (_t, c) => {
    expect(sd2.tokenize(c.text)).toEqual(c.sd2_tokens);
    expect(sd2.call(c.text)).toEqual({ inputIds: c.sd2_input_ids, attentionMask: c.sd2_attention_mask });
  });

  it('reads further added tokens from tokenizer_config.json added_tokens_decoder and added_tokens.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdq-tok-'));
    for (const f of ['vocab.json', 'merges.txt']) symlinkSync(join(tokenizerDir, f), join(dir, f));
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ pad_token: '!', added_tokens_decoder: { '49408': { content: '<cat-toy>', special: false } } }),
    );
    writeFileSync(join(dir, 'added_tokens.json'), JSON.stringify({ '<sks>': 49409 }));
    const tok = ClipTokenizer.fromDir(dir, { addedTokens: { 'x-y': 49410 } });
    // Each added token is one id; the text around it goes through BPE as in the plain prompt.
    expect(tok.encode('a <cat-toy> on <sks>!x-y')).toEqual([...sd2.encode('a'), 49408, ...sd2.encode('on'), 49409, 0, 49410]);
    expect(sd2.encode('a <cat-toy>')).toEqual(sd2.encode('a < cat - toy >'));
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

  it('SD 2.x: each "!" is the pad id, whatever surrounds it; other text tokenizes as without it', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z ,.?]{0,8}$/), { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.join('!');
        const expected = parts.flatMap((p, i) => (i === 0 ? sd2.encode(p) : [sd2.padTokenId, ...sd2.encode(p)]));
        expect(sd2.encode(text)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('names the missing file', () => {
    expect(() => ClipTokenizer.fromDir(join(FIXTURES, 'models/tiny-sd/unet'))).toThrow(/vocab\.json is missing/);
  });
});
