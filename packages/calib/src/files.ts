import { rename, rm, writeFile } from 'node:fs/promises';
import { SdqError } from '@sdq/quant';

/** Path of the temporary file an output is written to before it is renamed into place. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Write bytes to `path` through a temp file and a rename, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SdqError('IO_ERROR', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
