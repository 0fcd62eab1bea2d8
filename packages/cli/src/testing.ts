// In-process CLI runs for tests: captured stdout/stderr, exit code.
import type { CliIo } from './io.js';
import type { Command } from './command.js';
import { runCli } from './main.js';

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
