// `npm pack` / `npm publish` of a package (its prepack script): build it through Nx, put the root LICENSE, the
// user's page from docs/ as README.md and (for @sdq/model-shapes-sd) the model files in the package folder, then
// check that every file the manifest points to is there, so an unbuilt tree can never pack silently.
// Run from the package folder (npm does that); `node tools/prepack.mjs packages/<name>` works too.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.resolve(process.argv[2] ?? process.cwd());
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const project = JSON.parse(readFileSync(path.join(pkgDir, 'project.json'), 'utf8'));

/** Files a package ships that live once in the repo: pkg name -> [from (repo-relative), to (package-relative)]. */
const ASSETS = {
  '@sdq/model-shapes-sd': [['fixtures/models/shapes-sd', 'model']],
};

function fail(message) {
  console.error(`prepack ${pkg.name}: ${message}`);
  process.exit(1);
}

// 1. build (Nx replays it from the cache when the sources did not change), unless the caller just built the whole
// tree and says so with SDQ_PREPACK_BUILT=1 (tools/consumer-test.mjs: one build, then eight packs)
if (project.targets?.build && process.env.SDQ_PREPACK_BUILT !== '1') {
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run', `${pkg.name}:build`, '--output-style=static'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NX_DAEMON: 'false' },
    });
  } catch {
    fail(`nx run ${pkg.name}:build failed; fix the build before packing`);
  }
}

/** How to install it, above the docs page: the install command (with its peers), the Node range, the repo. */
function installLine() {
  const repo = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  const peers = Object.keys(pkg.peerDependencies ?? {}).join(' ');
  const install = pkg.bin ? `npx ${pkg.name} --help\` or \`npm install -g ${pkg.name}` : `npm install ${pkg.name}${peers ? ` ${peers}` : ''}`;
  const format = pkg.bin ? '' : 'ESM (`require` works too) ';
  return `\`${install}\` · ${format}on Node ${pkg.engines.node} · part of [sdq](${repo}) · ${pkg.license}`;
}

// 2. LICENSE, README (the package's docs page, relative links made absolute), shipped assets
cpSync(path.join(root, 'LICENSE'), path.join(pkgDir, 'LICENSE'));
const page = /\/blob\/main\/(docs\/[\w.-]+\.md)$/.exec(pkg.homepage ?? '')?.[1];
if (page) {
  const base = `${pkg.homepage.slice(0, -page.length)}${path.posix.dirname(page)}/`;
  const text = readFileSync(path.join(root, page), 'utf8').replace(/\]\((?![a-z]+:|#)([^)\s]+)\)/g, (_, href) => `](${new URL(href, base)})`);
  writeFileSync(path.join(pkgDir, 'README.md'), `${installLine()}\n\n${text}`);
} else if (!existsSync(path.join(pkgDir, 'README.md'))) {
  fail(`no README.md: point "homepage" at its docs/<page>.md or write one`);
}
for (const [from, to] of ASSETS[pkg.name] ?? []) {
  rmSync(path.join(pkgDir, to), { recursive: true, force: true });
  cpSync(path.join(root, from), path.join(pkgDir, to), { recursive: true });
}

// 3. everything the manifest names must exist
const targets = (value) => (typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
const named = [pkg.main, pkg.types, ...targets(pkg.exports), ...targets(pkg.bin), ...(pkg.files ?? [])].filter((f) => f && !f.includes('*'));
const missing = [...new Set(named)].filter((f) => !existsSync(path.join(pkgDir, f)));
if (missing.length) fail(`missing ${missing.join(', ')}; build it first (npx nx run ${pkg.name}:build)`);
