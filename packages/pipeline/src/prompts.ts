// Prompt files for bench, calibrate and fidelity: a missing file is one line naming it and the format.
import { promises as fs } from 'node:fs';
import { SdqError } from '@sdq/quant';
import { readPrompts } from '@sdq/calib';

export async function readPromptFile(file: string): Promise<string[]> {
  try {
    await fs.access(file);
  } catch {
    throw new SdqError('NOT_FOUND', `prompt file ${file} does not exist; pass a .txt file (one prompt per line) or a .jsonl file ({"prompt": ...} per line)`);
  }
  return readPrompts(file);
}
