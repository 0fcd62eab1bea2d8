// Prompt files for bench, calibrate and fidelity: a missing file is one line naming it and the format.
import { promises as fs } from 'node:fs';
import { SdqError } from '@sdq/quant';
import { readPrompts } from '@sdq/calib';
import { expectFileKind } from './file-kind.js';

const PROMPT_FILE_HINT = 'pass a .txt file (one prompt per line) or a .jsonl file ({"prompt": ...} per line)';

export async function readPromptFile(file: string): Promise<string[]> {
  try {
    await fs.access(file);
  } catch {
    throw new SdqError('NOT_FOUND', `prompt file ${file} does not exist; ${PROMPT_FILE_HINT}`);
  }
  await expectFileKind(file, 'text', 'prompt file', PROMPT_FILE_HINT);
  return readPrompts(file);
}
