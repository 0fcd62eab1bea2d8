import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { clipTokenizerDir, defaultModelDir } from './fixtures.js';

const repoModel = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/shapes-sd');

/** A consumer's node_modules outside the repo: @sdq/cli's bundle next to an installed @sdq/model-shapes-sd (or not). */
function installTree(withModel: boolean): { root: string; cliUrl: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'sdq-cli-install-'));
  const cli = path.join(root, 'node_modules/@sdq/cli/dist/sdq.js');
  mkdirSync(path.dirname(cli), { recursive: true });
  writeFileSync(cli, '');
  if (withModel) {
    const pkg = path.join(root, 'node_modules/@sdq/model-shapes-sd');
    mkdirSync(path.join(pkg, 'model/tokenizer'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@sdq/model-shapes-sd', type: 'module', exports: { '.': './index.js' } }));
    writeFileSync(path.join(pkg, 'index.js'), '');
    writeFileSync(path.join(pkg, 'model/model_index.json'), '{}');
  }
  return { root, cliUrl: pathToFileURL(cli).href };
}

describe('default model lookup', () => {
  const saved = process.env.SDQ_FIXTURES;
  afterEach(() => {
    if (saved === undefined) delete process.env.SDQ_FIXTURES;
    else process.env.SDQ_FIXTURES = saved;
  });

  it('in the repo: fixtures/models/shapes-sd above the CLI module', () => {
    delete process.env.SDQ_FIXTURES;
    expect(defaultModelDir(tmpdir())).toBe(repoModel);
    expect(clipTokenizerDir(tmpdir())).toBe(path.join(repoModel, 'tokenizer'));
  });

  it('installed outside the repo: the model of the @sdq/model-shapes-sd package next to @sdq/cli', () => {
    delete process.env.SDQ_FIXTURES;
    const { root, cliUrl } = installTree(true);
    try {
      const model = path.join(root, 'node_modules/@sdq/model-shapes-sd/model');
      expect(defaultModelDir(root, cliUrl)).toBe(model);
      expect(clipTokenizerDir(root, cliUrl)).toBe(path.join(model, 'tokenizer'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('installed without the model package: one error naming the package and the ways out', () => {
    delete process.env.SDQ_FIXTURES;
    const { root, cliUrl } = installTree(false);
    try {
      expect(() => defaultModelDir(root, cliUrl)).toThrow(/@sdq\/model-shapes-sd is not installed next to .*pass a model dir, or set SDQ_FIXTURES/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('SDQ_FIXTURES wins, and a wrong one is an error, not a fallback', () => {
    process.env.SDQ_FIXTURES = path.dirname(path.dirname(repoModel));
    const { root, cliUrl } = installTree(true);
    try {
      expect(defaultModelDir(root, cliUrl)).toBe(repoModel);
      process.env.SDQ_FIXTURES = root;
      expect(() => defaultModelDir(root, cliUrl)).toThrow(`SDQ_FIXTURES=${root} has no models/shapes-sd/model_index.json`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
