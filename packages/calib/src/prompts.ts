import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SdqError } from '@sdq/quant';

/** Parse a prompt list: `.jsonl` (one JSON object per line with a string `prompt`) or plain text (one per line). */
export function parsePrompts(text: string, source: string): string[] {
  const lines = text.split(/\r?\n/);
  const jsonl = source.toLowerCase().endsWith('.jsonl');
  const prompts: string[] = [];
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || (!jsonl && trimmed.startsWith('#'))) return;
    if (!jsonl) {
      prompts.push(trimmed);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw new SdqError('BAD_FORMAT', `${source}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const prompt = (value as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt !== 'string') throw new SdqError('BAD_FORMAT', `${source}:${i + 1}: expected an object with a string "prompt" field`);
    prompts.push(prompt);
  });
  if (prompts.length === 0) throw new SdqError('EMPTY_INPUT', `${source}: no prompts found`);
  return prompts;
}

/** Read prompts from a .txt (one per line, '#' comments) or .jsonl (`{"prompt": ...}` per line) file. */
export async function readPrompts(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SdqError('IO_ERROR', `cannot read prompt list ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parsePrompts(text, path);
}

/** Path of the shipped default prompt set (64+ varied prompts written for sdq). */
export function defaultPromptsPath(): string {
  return fileURLToPath(new URL('../prompts/default.txt', import.meta.url));
}

/** Path of the prompt set in the shapes-sd model's own caption language. */
export function shapesPromptsPath(): string {
  return fileURLToPath(new URL('../prompts/shapes-sd.txt', import.meta.url));
}

/** The shipped default prompt set. */
export function defaultPrompts(): Promise<string[]> {
  return readPrompts(defaultPromptsPath());
}
