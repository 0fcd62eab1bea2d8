// "Reused when fresh": a made model dir records what it was made from; it is reused only while that still holds.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Precision } from './types.js';

export const STAMP_FILE = 'sdq-made-from.json';

export const SDQ_VERSION = '0.1.0';
/**
 * Bumped whenever what sdq writes into an FP16/INT8 dir changes for the same recipe, so dirs made by older code are
 * made again instead of reused (the recipe and the version alone did not catch that). 2: attention fused into
 * MultiHeadAttention for onnxruntime, FAST INT8 layout with float MatMul outputs. 3: percentile calibration with the
 * recipe's asymmetric options (RECIPE_METHOD_OPTIONS; the recipe had run @sdq/calib's symmetric default), and the
 * stamp says what the dir holds (`contents`).
 */
export const MADE_DIR_LAYOUT = 3;

/** One ONNX component of a made dir: its precision, and why only onnxruntime can run it (contrib ops, uint8 Q/DQ). */
export interface MadeComponent {
  precision: Precision;
  /** Set when TensorRT cannot parse the model, saying why (e.g. attention as com.microsoft MultiHeadAttention). */
  onnxruntimeOnly?: string;
}

/** What a made dir is: which command made it, for which precision, and what each ONNX component holds. */
export interface MadeDirContents {
  /** The command that made it, e.g. `sdq quantize`, `sdq convert --to fp16`, `sdq bench`. */
  madeBy: string;
  precision: Precision;
  components: Record<string, MadeComponent>;
}

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
  /** What the dir holds (absent in stamps of layout < 3); sdq build picks each precision's ONNX from it. */
  contents?: MadeDirContents;
}

/** The stamp of a dir made now from `source` with `recipe` (contents added once the dir is filled). */
export async function madeFromNow(source: string, recipe: unknown): Promise<MadeFrom> {
  return { source: path.resolve(source), fingerprint: await fingerprintDir(source), recipe, sdq: SDQ_VERSION, layout: MADE_DIR_LAYOUT };
}

export async function writeMadeFrom(dir: string, stamp: MadeFrom): Promise<void> {
  await fs.writeFile(path.join(dir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}

/** Every file under `dir`, as paths relative to it, depth first in name order (the order the dir hashes use). */
export async function listDirFiles(dir: string, rel = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await listDirFiles(dir, r)));
    else out.push(r);
  }
  return out;
}

/** Fingerprint of a directory tree: cheap (stat only), changes when any file is added, removed, resized or touched. */
export async function fingerprintDir(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const r of await listDirFiles(dir)) {
    const st = await fs.stat(path.join(dir, r));
    hash.update(`${r}\0${st.size}\0${Math.round(st.mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

export async function readMadeFrom(dir: string): Promise<MadeFrom | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, STAMP_FILE), 'utf8')) as MadeFrom;
  } catch {
    return undefined;
  }
}

/** True when `outDir` was made from `source` (unchanged since) with the same recipe (its contents follow from those). */
export async function isFresh(outDir: string, expected: MadeFrom): Promise<boolean> {
  const got = await readMadeFrom(outDir);
  const made = (s: MadeFrom): string => JSON.stringify({ ...s, contents: undefined });
  return got !== undefined && made(got) === made(expected);
}
