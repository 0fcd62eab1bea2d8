// Sums jest's per-package "Tests:" lines from an `npm test` log and prints `N passed, N failed`.
// A failing non-test target (typecheck, lint) counts as one failure so the line never reads green on a red run.
import { readFileSync } from 'node:fs';

const [logPath, statusArg] = process.argv.slice(2);
const log = readFileSync(logPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
for (const m of log.matchAll(/^Tests:\s+(.*)$/gm)) {
  const p = /(\d+) passed/.exec(m[1]);
  const f = /(\d+) failed/.exec(m[1]);
  if (p) passed += Number(p[1]);
  if (f) failed += Number(f[1]);
}
const failedTargets = [...log.matchAll(/^\s*-\s+(@sdq\/[\w-]+:(typecheck|lint|build))\s*$/gm)].map((m) => m[1]);
failed += failedTargets.length;
if (Number(statusArg) !== 0 && failed === 0) failed = 1;
if (failedTargets.length) console.log(`failed targets: ${failedTargets.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
