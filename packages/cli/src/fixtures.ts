// Find the default model (shapes-sd) and its CLIP tokenizer from wherever the CLI runs: SDQ_FIXTURES, then the
// repo's fixtures/ above this module (packages/cli/dist or src), then the installed @sdq/model-shapes-sd package,
// then fixtures/ above the cwd.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SdqError } from '@sdq/quant';

export const DEFAULT_MODEL = 'shapes-sd';
/** The npm package that ships the default model (a dependency of @sdq/cli). */
export const DEFAULT_MODEL_PACKAGE = '@sdq/model-shapes-sd';

const hasModel = (modelDir: string): boolean => existsSync(path.join(modelDir, 'model_index.json'));

function walkUp(start: string, probe: (dir: string) => boolean): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (probe(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `<package>/model` of the installed default-model package, if it resolves from `moduleUrl` and holds the model. */
function installedModelDir(moduleUrl: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(moduleUrl).resolve(DEFAULT_MODEL_PACKAGE);
  } catch {
    return undefined;
  }
  const dir = path.join(path.dirname(entry), 'model');
  return hasModel(dir) ? dir : undefined;
}

/** The default model dir: SDQ_FIXTURES, the repo's fixtures/, the installed @sdq/model-shapes-sd, fixtures/ above the cwd. */
export function defaultModelDir(cwd: string, moduleUrl: string = import.meta.url): string {
  const inFixtures = (fixtures: string): string => path.join(fixtures, 'models', DEFAULT_MODEL);
  const fromEnv = process.env.SDQ_FIXTURES;
  if (fromEnv) {
    if (hasModel(inFixtures(fromEnv))) return path.resolve(inFixtures(fromEnv));
    throw new SdqError('NOT_FOUND', `SDQ_FIXTURES=${fromEnv} has no models/${DEFAULT_MODEL}/model_index.json; point it at the repo's fixtures/ directory or unset it`);
  }
  const probe = (dir: string): boolean => hasModel(inFixtures(path.join(dir, 'fixtures')));
  const moduleDir = path.dirname(fileURLToPath(moduleUrl));
  const repo = walkUp(moduleDir, probe);
  if (repo) return inFixtures(path.join(repo, 'fixtures'));
  const installed = installedModelDir(moduleUrl);
  if (installed) return installed;
  const above = walkUp(cwd, probe);
  if (above) return inFixtures(path.join(above, 'fixtures'));
  throw new SdqError(
    'NOT_FOUND',
    `the default model ${DEFAULT_MODEL} was not found: ${DEFAULT_MODEL_PACKAGE} is not installed next to ${moduleDir} and there is no fixtures/models/${DEFAULT_MODEL} above it or above ${cwd}; reinstall @sdq/cli (it depends on ${DEFAULT_MODEL_PACKAGE}), pass a model dir, or set SDQ_FIXTURES to the repo's fixtures/ directory`,
  );
}

/** The CLIP BPE tokenizer files (vocab.json, merges.txt) of SD 1.x: the default model's tokenizer/. */
export function clipTokenizerDir(cwd: string, moduleUrl: string = import.meta.url): string {
  return path.join(defaultModelDir(cwd, moduleUrl), 'tokenizer');
}
