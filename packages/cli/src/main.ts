// `sdq` dispatch: parse, run one command, turn every failure into one line and an exit code (0 ok, 1 runtime, 2 usage).
import type { SdqError } from '@sdq/quant';
import type { CliIo } from './io.js';
import type { Command, CommandContext } from './command.js';
import { createProgress } from './progress.js';
import { UsageError, parseCommandArgs } from './usage.js';
import { COMMANDS } from './commands/index.js';
import { WATCH_PARTIAL_OUTPUTS, removePartialOutputsAfterExit } from './partial-outputs.js';

export const VERSION = '0.1.0';

export function globalHelp(commands: readonly Command[]): string {
  const width = Math.max(0, ...commands.map((c) => c.name.length));
  return `sdq ${VERSION}: make Stable Diffusion ONNX models fast (FP16, INT8, TensorRT) and measure what it costs.

Usage: sdq <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "sdq <command> --help" for a command's options and examples.
With no model argument, "sdq bench" and "sdq generate" use the bundled shapes-sd model.
`;
}

/** SdqError by shape, not identity: a bundled copy of @sdq/quant has its own class. */
export function isSdqError(err: unknown): err is SdqError {
  return err instanceof Error && err.name === 'SdqError' && typeof (err as { code?: unknown }).code === 'string';
}

/** Errors are one line: collapse any newlines a lower layer put into a message. */
export function oneLine(message: string): string {
  return message.replace(/;?\s*\n\s*/g, '; ').trim();
}

/** With --json every failure is also one JSON document on stdout (usage errors too), so scripts always get one. */
function printJsonError(io: CliIo, code: string, message: string): void {
  io.stdout(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
}

function findCommand(commands: readonly Command[], argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

export async function runCli(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  if (argv.length === 0) {
    io.stderr(globalHelp(commands));
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const sub = argv[1] ? findCommand(commands, argv.slice(1)) : undefined;
    io.stdout(sub ? `${sub.command.help}\n` : globalHelp(commands));
    return 0;
  }
  if (argv[0] === WATCH_PARTIAL_OUTPUTS) {
    await removePartialOutputsAfterExit(Number(argv[1]), argv.slice(2));
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
    const hint = group.length > 0 ? `; did you mean ${group.map((c) => `"sdq ${c.name}"`).join(' or ')}?` : '; run "sdq --help" for the list';
    const message = `unknown command "${argv.filter((a) => a !== '--json').join(' ').slice(0, 60)}"${hint}`;
    io.stderr(`sdq: ${message}\n`);
    if (argv.includes('--json')) printJsonError(io, 'USAGE', message);
    return 2;
  }
  const { command, rest } = found;
  const debug = rest.includes('--debug');
  const json = rest.includes('--json');
  const progress = createProgress(io, { quiet: rest.includes('--quiet') || rest.includes('-q') });
  try {
    const args = parseCommandArgs(command.name, rest, command.options);
    if (args.values.help) {
      io.stdout(`${command.help}\n`);
      return 0;
    }
    const ctx: CommandContext = {
      io,
      progress,
      json,
      debug,
      printJson: (value) => io.stdout(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`),
      writesTo: (target) => io.watchPartialOutputs?.(target),
    };
    const code = await command.run(args, ctx);
    progress.end();
    return code ?? 0;
  } catch (err) {
    progress.end();
    if (err instanceof UsageError) {
      const message = `${oneLine(err.message)} (see "sdq ${command.name} --help")`;
      io.stderr(`sdq ${command.name}: ${message}\n`);
      if (json) printJsonError(io, 'USAGE', message);
      return 2;
    }
    const known = isSdqError(err);
    const message = known
      ? oneLine(err.message)
      : `unexpected error: ${oneLine(String((err as Error)?.message ?? err)).slice(0, 300)}; rerun with --debug for the stack trace`;
    io.stderr(`sdq ${command.name}: ${message}\n`);
    if (json) printJsonError(io, known ? err.code : 'INTERNAL', message);
    if (debug && err instanceof Error && err.stack) {
      io.stderr(`${err.stack}\n`);
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof Error && cause.stack) io.stderr(`caused by: ${cause.stack}\n`);
    }
    return 1;
  }
}
