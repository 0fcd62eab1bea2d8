// Minimal CLIP BPE tokenizer (SD 1.x: pad with <|endoftext|> to 77), used by the built-in generator until
// @sdq/diffusion's ClipTokenizer lands. Algorithm: openai/CLIP simple_tokenizer.py (byte-level BPE, "</w>" word ends).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

/** GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to code points from 256 up. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = bs.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return map;
}

export class ClipBpe {
  private readonly byteMap = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();
  private constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly ranks: ReadonlyMap<string, number>,
    readonly maxLength = 77,
  ) {}

  static async fromDir(dir: string): Promise<ClipBpe> {
    try {
      const vocab = JSON.parse(await fs.readFile(path.join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
      const merges = (await fs.readFile(path.join(dir, 'merges.txt'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#version'));
      return new ClipBpe(new Map(Object.entries(vocab)), new Map(merges.map((m, i) => [m, i])));
    } catch (err) {
      throw new SdqError('BAD_FORMAT', `tokenizer in ${dir} is unreadable (${(err as Error).message.split('\n')[0]}); copy vocab.json and merges.txt from the original model`);
    }
  }

  private bpe(word: string): string[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let parts = [...word];
    parts[parts.length - 1] += '</w>';
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = parts[best];
      const b = parts[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]);
      }
      parts = merged;
    }
    this.cache.set(word, parts);
    return parts;
  }

  /** Token ids with <|startoftext|> ... <|endoftext|>, truncated and padded with <|endoftext|> to 77. */
  encode(text: string): Int32Array {
    const bos = this.vocab.get('<|startoftext|>')!;
    const eos = this.vocab.get('<|endoftext|>')!;
    const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
    const ids: number[] = [bos];
    for (const m of clean.matchAll(PATTERN)) {
      const word = [...Buffer.from(m[0], 'utf8')].map((b) => this.byteMap[b]).join('');
      for (const t of this.bpe(word)) {
        const id = this.vocab.get(t);
        if (id !== undefined) ids.push(id);
      }
    }
    const out = new Int32Array(this.maxLength).fill(eos);
    const n = Math.min(ids.length, this.maxLength - 1);
    out.set(ids.slice(0, n));
    out[n] = eos;
    return out;
  }
}
