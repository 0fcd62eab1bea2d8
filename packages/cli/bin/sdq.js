#!/usr/bin/env node
// The `sdq` executable that npm links. It is a committed file, so `npm ci` links it (a bin pointing at a build
// output that does not exist yet is not linked, and `npx sdq` then fetches an unrelated registry package named
// `sdq`). In the published package it runs dist/sdq.js. In a source checkout it first (re)builds dist/sdq.js with
// tsup when it is missing or older than any source file of the workspace packages it bundles (about 2 s, once).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(packageDir, 'dist', 'sdq.js');
const packagesDir = path.dirname(packageDir);
const inCheckout = existsSync(path.join(packageDir, 'src', 'sdq.ts')) && existsSync(path.join(packageDir, 'tsup.config.ts'));

/** Newest modification time (ms) of the files under `dir`, skipping node_modules and build outputs. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function isStale() {
  if (!existsSync(dist)) return true;
  const built = statSync(dist).mtimeMs;
  for (const pkg of readdirSync(packagesDir)) {
    const src = path.join(packagesDir, pkg, 'src');
    if (existsSync(src) && newestMtime(src) > built) return true;
  }
  return false;
}

// The partial-output watcher each command spawns (this file, hidden first argument) runs whatever dist is there.
const isWatcher = process.argv[2] === '__remove-partial-outputs-after';
if (inCheckout && !isWatcher && isStale()) {
  let tsup;
  try {
    tsup = createRequire(path.join(packageDir, 'package.json')).resolve('tsup/dist/cli-default.js');
  } catch {
    process.stderr.write(`sdq: ${dist} is not built and tsup is not installed; run "npm ci" in the repository root\n`);
    process.exit(1);
  }
  process.stderr.write('sdq: building the CLI from the sources (npm run build -w @sdq/cli)...\n');
  // Build output goes to stderr: stdout stays the command's (--json).
  const built = spawnSync(process.execPath, [tsup, '--silent'], { cwd: packageDir, stdio: ['ignore', 2, 2] });
  if (built.status !== 0 || !existsSync(dist)) {
    process.stderr.write(`sdq: building ${dist} failed (exit ${built.status}); run "npm run build -w @sdq/cli" to see why\n`);
    process.exit(1);
  }
}
if (!existsSync(dist)) {
  process.stderr.write(`sdq: ${dist} is missing; reinstall @sdq/cli\n`);
  process.exit(1);
}
await import(pathToFileURL(dist).href);
