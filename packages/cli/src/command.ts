// The shape of one `sdq` subcommand.
import type { CliIo } from './io.js';
import type { ProgressReporter } from './progress.js';
import type { OptionSpec, OptionValues } from './usage.js';

export interface CommandContext {
  io: CliIo;
  progress: ProgressReporter;
  json: boolean;
  debug: boolean;
  /** Print a JSON document on stdout (for --json). */
  printJson: (value: unknown) => void;
  /** Declare a file or dir the command writes: if the run dies midway, its partial `*.tmp-<pid>` files there are removed. */
  writesTo: (target: string) => void;
}

export interface Command {
  /** e.g. "inspect" or "fixture create" */
  name: string;
  summary: string;
  /** Full --help text (usage line, options, examples). */
  help: string;
  options: OptionSpec;
  run(args: { values: OptionValues; positionals: string[] }, ctx: CommandContext): Promise<number | void>;
}

/** Common options every --help ends with. */
export const COMMON_HELP = `Common options:
  --json          print a machine-readable JSON result on stdout
  --quiet, -q     no progress output on stderr
  --debug         show stack traces on errors
  --help, -h      show this help

Exit codes: 0 ok, 1 runtime failure (one-line error on stderr), 2 usage error.`;
