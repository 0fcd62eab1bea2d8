// The identity of a model dir: sha256 over every file's relative path and bytes. Coordinator and workers compare it
// so that no worker calibrates other weights under the same path. Hashed once while the files are unchanged: in the
// process, and across runs through the store (an SD 1.5 dir is 4 GB, an SDXL one 14 GB: seconds to minutes a hash).
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { listDirFiles } from '@sdq/pipeline';
import type { ShardStore } from './store.js';

export type ModelHasher = (dir: string) => Promise<string>;

interface RememberedHash {
  stamp: string;
  hash: string;
}

const isRememberedHash = (v: unknown): v is RememberedHash =>
  typeof v === 'object' && v !== null && typeof (v as RememberedHash).stamp === 'string' && typeof (v as RememberedHash).hash === 'string';

/**
 * A hasher that remembers each dir's hash while its files keep their names, sizes and times (as git's index does):
 * in memory, and in `store` when given, so a coordinator's rerun or a restarted worker does not read the bytes again.
 */
export function createModelHasher(store?: ShardStore): ModelHasher {
  const known = new Map<string, RememberedHash>();
  return async (dir) => {
    const abs = path.resolve(dir);
    const list = await listDirFiles(abs);
    const stats = await Promise.all(list.map((f) => fs.stat(path.join(abs, f))));
    // ctime too: a write that restores the mtime (touch -r, rsync -t) still moves the ctime
    const lines = list.map((f, i) => `${f}\0${stats[i].size}\0${stats[i].mtimeMs}\0${stats[i].ctimeMs}\0${stats[i].ino}`);
    const stamp = createHash('sha256').update(lines.join('\n')).digest('hex');
    const storeId = `model-dir-${createHash('sha256').update(abs).digest('hex')}`;
    const remembered = known.get(abs) ?? (await store?.get(storeId));
    if (isRememberedHash(remembered) && remembered.stamp === stamp) return remembered.hash;
    const entry = { stamp, hash: await hashFiles(abs, list) };
    known.set(abs, entry);
    await store?.put(storeId, entry);
    return entry.hash;
  };
}

async function hashFiles(abs: string, list: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const f of list) {
    hash.update(`${f}\0`);
    for await (const chunk of createReadStream(path.join(abs, f))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
