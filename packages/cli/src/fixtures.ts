// Find the repo's bundled fixtures (fixtures/models/shapes-sd) from wherever the CLI runs:
// SDQ_FIXTURES, then upwards from this module (packages/cli/dist or src), then upwards from the cwd.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError } from '@sdq/quant';

export const DEFAULT_MODEL = 'shapes-sd';

function walkUp(start: string, probe: (dir: string) => boolean): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (probe(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function findFixturesDir(cwd: string, moduleUrl: string = import.meta.url): string {
  const hasModel = (fixtures: string): boolean => existsSync(path.join(fixtures, 'models', DEFAULT_MODEL, 'model_index.json'));
  const fromEnv = process.env.SDQ_FIXTURES;
  if (fromEnv) {
    if (hasModel(fromEnv)) return path.resolve(fromEnv);
    throw new SdqError('NOT_FOUND', `SDQ_FIXTURES=${fromEnv} has no models/${DEFAULT_MODEL}/model_index.json; point it at the repo's fixtures/ directory or unset it`);
  }
  const probe = (dir: string): boolean => hasModel(path.join(dir, 'fixtures'));
  const root = walkUp(path.dirname(fileURLToPath(moduleUrl)), probe) ?? walkUp(cwd, probe);
  if (!root) {
    throw new SdqError('NOT_FOUND', `the bundled model fixtures/models/${DEFAULT_MODEL} was not found above ${path.dirname(fileURLToPath(moduleUrl))} or ${cwd}; pass a model dir or set SDQ_FIXTURES to the repo's fixtures/ directory`);
  }
  return path.join(root, 'fixtures');
}

export function defaultModelDir(cwd: string): string {
  return path.join(findFixturesDir(cwd), 'models', DEFAULT_MODEL);
}
