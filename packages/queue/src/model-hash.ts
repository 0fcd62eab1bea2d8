// The identity of a model dir: sha256 over every file's relative path and bytes. Coordinator and workers compare it
// so that no worker calibrates other weights under the same path. Hashed once per process while the files are unchanged.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';

async function files(dir: string, rel = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await files(dir, r)));
    else out.push(r);
  }
  return out;
}

export type ModelHasher = (dir: string) => Promise<string>;

/** A hasher that remembers each dir's hash while its files keep their sizes and times (a worker hashes once). */
export function createModelHasher(): ModelHasher {
  const known = new Map<string, { stamp: string; hash: string }>();
  return (dir) => modelDirHash(dir, known);
}

async function modelDirHash(dir: string, known: Map<string, { stamp: string; hash: string }>): Promise<string> {
  const abs = path.resolve(dir);
  const list = await files(abs);
  const stats = await Promise.all(list.map((f) => fs.stat(path.join(abs, f))));
  const stamp = list.map((f, i) => `${f}\0${stats[i].size}\0${stats[i].mtimeMs}`).join('\n');
  const cached = known.get(abs);
  if (cached?.stamp === stamp) return cached.hash;
  const hash = createHash('sha256');
  for (const f of list) {
    hash.update(`${f}\0`);
    for await (const chunk of createReadStream(path.join(abs, f))) hash.update(chunk as Buffer);
  }
  const digest = hash.digest('hex');
  known.set(abs, { stamp, hash: digest });
  return digest;
}
