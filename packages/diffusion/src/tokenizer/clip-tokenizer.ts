import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SdqError } from '@sdq/quant';
import { htmlUnescape } from './html.js';

/** Token ids and attention mask of one prompt, padded/truncated to the model's length (77 for CLIP). */
export interface TokenizedPrompt {
  inputIds: number[];
  attentionMask: number[];
}

export interface ClipTokenizerOptions {
  /** Sequence length (tokenizer_config.json `model_max_length`, 77 for CLIP). */
  modelMaxLength?: number;
  /** Pad token string: `<|endoftext|>` for SD 1.x, `!` for SD 2.x (special_tokens_map.json `pad_token`). */
  padToken?: string;
  /**
   * Further added tokens (content -> id) that, like the special tokens, are cut out of the text whole before BPE:
   * tokenizer_config.json `added_tokens_decoder`, `additional_special_tokens`, added_tokens.json (textual inversion).
   */
  addedTokens?: Readonly<Record<string, number>>;
}

export interface EncodeOptions {
  /**
   * Unescape HTML entities before tokenizing, as OpenAI's original CLIP `basic_clean` does. transformers'
   * CLIPTokenizer (what diffusers uses, the default here) does not.
   */
  htmlUnescape?: boolean;
  /**
   * Cut the special and added tokens (BOS, EOS, the pad token, `addedTokens`) out of the raw text before BPE, as
   * transformers' CLIPTokenizer does (default true): with SD 2.x's pad token `!`, every `!` is then its own id 0.
   * false gives OpenAI CLIP's `encode`, which has no added tokens.
   */
  matchAddedTokens?: boolean;
}

/** A piece of the raw text: an added token matched whole, or text between them that goes through BPE. */
interface TextPiece {
  text: string;
  added: boolean;
}

const BOS = '<|startoftext|>';
const EOS = '<|endoftext|>';
// CLIP's pre-tokenizer pattern (contractions, letter runs, single digits, other non-space runs), case-insensitive.
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** GPT-2/CLIP byte-to-unicode table: printable bytes map to themselves, the rest to code points from 256 up. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

/** CLIP byte-level BPE tokenizer, equal to transformers' CLIPTokenizer on the Hugging Face `tokenizer/` files. */
export class ClipTokenizer {
  readonly modelMaxLength: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  private readonly byteEncoder = bytesToUnicode();
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, string[]>();
  private readonly encoder = new TextEncoder();
  /** Added/special token content -> id; what the text is split on before BPE. */
  private readonly addedTokenIds = new Map<string, number>();
  /** Added tokens by first character, longest first, for the leftmost-longest scan. */
  private readonly addedByFirstChar = new Map<string, string[]>();

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    merges: readonly string[],
    options: ClipTokenizerOptions = {},
  ) {
    this.ranks = new Map(merges.map((m, i) => [m, i]));
    this.modelMaxLength = options.modelMaxLength ?? 77;
    this.bosTokenId = this.idOf(BOS);
    this.eosTokenId = this.idOf(EOS);
    const pad = options.padToken ?? EOS;
    this.padTokenId = this.idOf(pad);
    for (const token of [BOS, EOS, pad]) this.addedTokenIds.set(token, this.idOf(token));
    for (const [token, id] of Object.entries(options.addedTokens ?? {})) {
      if (token.length > 0) this.addedTokenIds.set(token, id);
    }
    for (const token of this.addedTokenIds.keys()) {
      const list = this.addedByFirstChar.get(token[0]) ?? [];
      list.push(token);
      list.sort((a, b) => b.length - a.length);
      this.addedByFirstChar.set(token[0], list);
    }
  }

  /**
   * Loads `vocab.json`, `merges.txt` and the pad token / max length from `special_tokens_map.json` and
   * `tokenizer_config.json` of a Hugging Face tokenizer folder (a model dir's `tokenizer/`); `overrides` win over the files.
   */
  static fromDir(dir: string, overrides: ClipTokenizerOptions = {}): ClipTokenizer {
    const vocabPath = join(dir, 'vocab.json');
    const mergesPath = join(dir, 'merges.txt');
    for (const p of [vocabPath, mergesPath]) {
      if (!existsSync(p)) throw new SdqError('NOT_FOUND', `CLIP tokenizer file ${p} is missing; point at the model's tokenizer/ folder (vocab.json + merges.txt)`);
    }
    let vocabJson: unknown;
    try {
      vocabJson = JSON.parse(readFileSync(vocabPath, 'utf8'));
    } catch (e) {
      throw new SdqError('BAD_FORMAT', `${vocabPath} is not valid JSON: ${(e as Error).message}`);
    }
    if (vocabJson === null || typeof vocabJson !== 'object') throw new SdqError('BAD_FORMAT', `${vocabPath} must map tokens to ids`);
    const vocab = new Map(Object.entries(vocabJson as Record<string, number>));
    const merges = readFileSync(mergesPath, 'utf8')
      .split('\n')
      .filter((line, i) => line.length > 0 && !(i === 0 && line.startsWith('#version')));
    const config = { ...readJsonIfExists(join(dir, 'tokenizer_config.json')), ...readJsonIfExists(join(dir, 'special_tokens_map.json')) };
    const maxLength = typeof config['model_max_length'] === 'number' && config['model_max_length'] < 1e6 ? config['model_max_length'] : 77;
    const pad = tokenContent(config['pad_token']) ?? EOS;
    const addedTokens = { ...readAddedTokens(config, vocab, dir), ...readAddedTokensFile(join(dir, 'added_tokens.json')) };
    return new ClipTokenizer(vocab, merges, {
      modelMaxLength: maxLength,
      padToken: pad,
      ...overrides,
      addedTokens: { ...addedTokens, ...overrides.addedTokens },
    });
  }

  private idOf(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) throw new SdqError('BAD_FORMAT', `CLIP vocabulary has no token ${JSON.stringify(token)}`);
    return id;
  }

  /** Text normalisation of transformers' CLIPTokenizer: NFC, whitespace runs to one space, trimmed, lower case. */
  static clean(text: string, options: EncodeOptions = {}): string {
    let t = text;
    if (options.htmlUnescape) t = htmlUnescape(htmlUnescape(t));
    return t.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  }

  /** BPE of one pre-token (already byte-encoded); the last symbol carries the `</w>` end-of-word marker. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    const chars = Array.from(token);
    let word = chars.slice(0, -1).concat(chars[chars.length - 1] + '</w>');
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best];
      const second = word[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }

  /**
   * Splits raw text on the added tokens, leftmost match first and the longest at that place (transformers'
   * `Trie.split`, which runs before any normalisation, so matching is case-sensitive).
   */
  private splitOnAddedTokens(text: string): TextPiece[] {
    const pieces: TextPiece[] = [];
    let start = 0;
    for (let i = 0; i < text.length; ) {
      const match = this.addedByFirstChar.get(text[i])?.find((token) => text.startsWith(token, i));
      if (match === undefined) {
        i += 1;
        continue;
      }
      if (start < i) pieces.push({ text: text.slice(start, i), added: false });
      pieces.push({ text: match, added: true });
      i += match.length;
      start = i;
    }
    if (start < text.length) pieces.push({ text: text.slice(start), added: false });
    return pieces;
  }

  /** BPE tokens of one piece of text without added tokens (CLIPTokenizer's `_tokenize`). */
  private bpeTokens(text: string, options: EncodeOptions): string[] {
    const cleaned = ClipTokenizer.clean(text, options);
    const tokens: string[] = [];
    for (const match of cleaned.matchAll(PATTERN)) {
      const piece = match[0];
      if (piece === BOS || piece === EOS) {
        tokens.push(piece);
        continue;
      }
      let encoded = '';
      for (const byte of this.encoder.encode(piece)) encoded += this.byteEncoder[byte];
      tokens.push(...this.bpe(encoded));
    }
    return tokens;
  }

  /** Tokens of `text`: added/special tokens whole (unless `matchAddedTokens` is false), the rest byte-level BPE. */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    if (options.matchAddedTokens === false) return this.bpeTokens(text, options);
    return this.splitOnAddedTokens(text).flatMap((piece) => (piece.added ? [piece.text] : this.bpeTokens(piece.text, options)));
  }

  /** Token ids of `text` without BOS/EOS, padding or truncation; `{ matchAddedTokens: false, htmlUnescape: true }` is OpenAI CLIP's `encode`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const unk = this.eosTokenId;
    return this.tokenize(text, options).map((t) => this.addedTokenIds.get(t) ?? this.vocab.get(t) ?? unk);
  }

  /** `<|startoftext|> ids <|endoftext|>`, truncated to modelMaxLength and padded with the pad token. */
  call(text: string, options: EncodeOptions = {}): TokenizedPrompt {
    const max = this.modelMaxLength;
    const body = this.encode(text, options).slice(0, max - 2);
    const ids = [this.bosTokenId, ...body, this.eosTokenId];
    const attentionMask = ids.map(() => 1);
    while (ids.length < max) {
      ids.push(this.padTokenId);
      attentionMask.push(0);
    }
    return { inputIds: ids, attentionMask };
  }
}

function readJsonIfExists(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch (e) {
    throw new SdqError('BAD_FORMAT', `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Added tokens named by tokenizer_config.json / special_tokens_map.json besides BOS/EOS/pad: `unk_token`,
 * `additional_special_tokens` (must be in the vocabulary) and `added_tokens_decoder` (`{ "id": { content } }`).
 */
function readAddedTokens(config: Record<string, unknown>, vocab: ReadonlyMap<string, number>, dir: string): Record<string, number> {
  const added: Record<string, number> = {};
  const special = [config['unk_token'], ...(Array.isArray(config['additional_special_tokens']) ? config['additional_special_tokens'] : [])];
  for (const value of special) {
    const content = tokenContent(value);
    if (content === null) continue;
    const id = vocab.get(content);
    if (id === undefined) throw new SdqError('BAD_FORMAT', `special token ${JSON.stringify(content)} of ${dir} is not in its vocab.json`);
    added[content] = id;
  }
  const decoder = config['added_tokens_decoder'];
  if (decoder !== null && typeof decoder === 'object') {
    for (const [id, value] of Object.entries(decoder as Record<string, unknown>)) {
      const content = tokenContent(value);
      if (content !== null && /^\d+$/.test(id)) added[content] = Number(id);
    }
  }
  return added;
}

/** added_tokens.json (older transformers, textual inversion): `{ "<token>": id }`. */
function readAddedTokensFile(path: string): Record<string, number> {
  const added: Record<string, number> = {};
  for (const [content, id] of Object.entries(readJsonIfExists(path))) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new SdqError('BAD_FORMAT', `${path}: token ${JSON.stringify(content)} must map to an integer id`);
    added[content] = id;
  }
  return added;
}

/** A special token is either a string or an AddedToken object `{ content: "..." }`. */
function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}
