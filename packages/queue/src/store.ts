// Shard results kept by content address (sha256 of model, prompts, seeds and settings): a rerun or a resumed run
// takes them from here instead of queueing the work again.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '@sdq/pipeline';

/** Default store: $XDG_CACHE_HOME/sdq/shards (~/.cache/sdq/shards). */
export function defaultShardStore(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sdq', 'shards');
}

export interface ShardStore {
  get(id: string): Promise<unknown | undefined>;
  put(id: string, value: unknown): Promise<void>;
}

/** One JSON file per shard id, written atomically (a crash leaves the old file or none). */
export function openShardStore(dir: string): ShardStore {
  const file = (id: string) => path.join(dir, `${id}.json`);
  return {
    async get(id) {
      try {
        return JSON.parse(await fs.readFile(file(id), 'utf8')) as unknown;
      } catch {
        return undefined; // absent or unreadable: computed again
      }
    },
    async put(id, value) {
      await fs.mkdir(dir, { recursive: true });
      await writeFileAtomic(file(id), JSON.stringify(value));
    },
  };
}
