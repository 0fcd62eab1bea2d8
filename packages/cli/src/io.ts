// Where the CLI writes: results to stdout, progress and errors to stderr. Injected so tests run in-process.
import { spawn } from 'node:child_process';
import { WATCH_PARTIAL_OUTPUTS } from './partial-outputs.js';
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal: draw progress bars; otherwise print plain progress lines. */
  stderrIsTty: boolean;
  /** Terminal width for progress bars. */
  columns: number;
  cwd: string;
  /**
   * Watch `target` for partial outputs of this process: start the detached watcher that removes them once this
   * process has ended, however it ends (partial-outputs.ts). Absent in in-process test runs.
   */
  watchPartialOutputs?: (target: string) => void;
}

export function processIo(): CliIo {
  // Outputs declared in the same tick (bench's cache and report dirs) share one watcher process.
  let pending: string[] = [];
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTty: Boolean(process.stderr.isTTY),
    columns: process.stderr.columns ?? 80,
    cwd: process.cwd(),
    watchPartialOutputs: (target) => {
      const script = process.argv[1];
      if (!script) return;
      pending.push(target);
      if (pending.length > 1) return;
      queueMicrotask(() => {
        const targets = pending;
        pending = [];
        spawn(process.execPath, [script, WATCH_PARTIAL_OUTPUTS, String(process.pid), ...targets], { detached: true, stdio: 'ignore' }).unref();
      });
    },
  };
}
