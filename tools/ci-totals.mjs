// Sums jest's per-package summaries from an `npm test` log, plus the consumer test's line, and prints `N passed, N failed`.
// A suite that fails to load counts its failed suites; a failing non-test target (typecheck, lint) counts as one
// failure, so the line never reads green on a red run.
import { readFileSync } from 'node:fs';

const [logPath, statusArg] = process.argv.slice(2);
const log = readFileSync(logPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const count = (text, word) => Number(new RegExp(`(\\d+) ${word}`).exec(text)?.[1] ?? 0);
let passed = 0;
let failed = 0;
for (const m of log.matchAll(/^Test Suites:\s+(.*)\n^Tests:\s+(.*)$/gm)) {
  const failedTests = count(m[2], 'failed');
  passed += count(m[2], 'passed');
  failed += failedTests > 0 ? failedTests : count(m[1], 'failed');
}
// tools/consumer-test.mjs: one check per line, summed as tests
for (const m of log.matchAll(/^consumer test: (\d+) passed, (\d+) failed$/gm)) {
  passed += Number(m[1]);
  failed += Number(m[2]);
}
const failedTargets = [...log.matchAll(/^\s*-\s+(@sdq\/[\w-]+):(\w+)\s*$/gm)];
const otherFailures = failedTargets.filter((m) => m[2] !== 'test');
failed += otherFailures.length;
if (Number(statusArg) !== 0 && failed === 0) failed = Math.max(1, failedTargets.length);
if (failedTargets.length) console.log(`failed targets: ${failedTargets.map((m) => `${m[1]}:${m[2]}`).join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
