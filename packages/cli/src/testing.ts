// CLI runs for tests: in process (captured stdout/stderr, exit code), or the sdq executable as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './io.js';
import type { Command } from './command.js';
import { runCli } from './main.js';

const SDQ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/sdq.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runSdq(argv: readonly string[], options: { cwd?: string; tty?: boolean; commands?: readonly Command[] } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTty: options.tty ?? false,
    columns: 100,
    cwd: options.cwd ?? process.cwd(),
  };
  const code = await runCli(argv, io, options.commands);
  return { code, stdout, stderr };
}

export interface SdqProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves once `pattern` has matched `times` lines of stdout and stderr. */
  waitFor(pattern: RegExp, times?: number): Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The sdq executable (bin/sdq.js) as a child process, for tests of signals and of several processes at once. */
export function startSdq(args: readonly string[], cwd: string): SdqProcess {
  const child = spawn(process.execPath, [SDQ, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const checks: (() => void)[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    checks.forEach((c) => c());
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    checks.forEach((c) => c());
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    output: () => stdout + stderr,
    exit,
    waitFor: (pattern, times = 1) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sdq ${args[0]} printed ${pattern} fewer than ${times} times in 60 s:\n${stdout}${stderr}`)), 60000);
        const check = () => {
          if ((stdout + stderr).split('\n').filter((l) => pattern.test(l)).length < times) return;
          clearTimeout(timer);
          resolve();
        };
        checks.push(check);
        check();
      }),
  };
}
