// "Reused when fresh": a made model dir records what it was made from; it is reused only while that still holds.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const STAMP_FILE = 'sdq-made-from.json';

export interface MadeFrom {
  /** Absolute source model dir. */
  source: string;
  /** sha256 over (relative path, size, mtime) of every source file. */
  fingerprint: string;
  /** The recipe (precision, options) as JSON-able data. */
  recipe: unknown;
  sdq: string;
  /** How sdq lays out what it makes (MADE_DIR_LAYOUT when made); a dir of another layout is made again. */
  layout: number;
}

/** Fingerprint of a directory tree: cheap (stat only), changes when any file is added, removed, resized or touched. */
export async function fingerprintDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else {
        const st = await fs.stat(path.join(dir, r));
        hash.update(`${r}\0${st.size}\0${Math.round(st.mtimeMs)}\n`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

export async function readMadeFrom(dir: string): Promise<MadeFrom | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, STAMP_FILE), 'utf8')) as MadeFrom;
  } catch {
    return undefined;
  }
}

/** True when `outDir` was made from `source` (unchanged since) with the same recipe. */
export async function isFresh(outDir: string, expected: MadeFrom): Promise<boolean> {
  const got = await readMadeFrom(outDir);
  return got !== undefined && JSON.stringify(got) === JSON.stringify(expected);
}
