// Where the CLI writes: results to stdout, progress and errors to stderr. Injected so tests run in-process.
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal: draw progress bars; otherwise print plain progress lines. */
  stderrIsTty: boolean;
  /** Terminal width for progress bars. */
  columns: number;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTty: Boolean(process.stderr.isTTY),
    columns: process.stderr.columns ?? 80,
    cwd: process.cwd(),
  };
}
