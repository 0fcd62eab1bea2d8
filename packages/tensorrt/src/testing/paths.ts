/** Test-only locations: the stand-in trtexec, golden files and the repo's fixtures. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const REPO_DIR = join(PACKAGE_DIR, '../..');
export const FIXTURES_DIR = join(REPO_DIR, 'fixtures');
/** STAND-IN for NVIDIA's trtexec (test/fake-trtexec.mjs): validates flags per TensorRT version, prints trtexec-format logs. */
export const FAKE_TRTEXEC = join(PACKAGE_DIR, 'test/fake-trtexec.mjs');
export const GOLDEN_DIR = join(PACKAGE_DIR, 'test/golden');
export const TRTEXEC_FLAGS: Record<string, string[]> = JSON.parse(readFileSync(join(PACKAGE_DIR, 'test/trtexec-flags.json'), 'utf8'));

/**
 * Compares `actual` with test/golden/<name>. Golden files change only on purpose:
 *   SDQ_UPDATE_GOLDEN=1 npx nx run @sdq/tensorrt:test        (refused when CI is set)
 * then review the diff with git.
 */
export function checkGolden(name: string, actual: string): { expected: string; actual: string } {
  const file = join(GOLDEN_DIR, name);
  if (process.env.SDQ_UPDATE_GOLDEN === '1') {
    if (process.env.CI) throw new Error('SDQ_UPDATE_GOLDEN is refused under CI: golden files are updated by a person, then reviewed');
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing: create it with SDQ_UPDATE_GOLDEN=1 and review it`);
  }
  return { expected: readFileSync(file, 'utf8'), actual };
}
