// Usage errors (exit code 2) and typed option parsing on top of node:util parseArgs.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies OptionSpec;

/** parseArgs with strict checking; its errors become one-line UsageErrors for `command`. */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: OptionSpec,
): { values: OptionValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(msg, command);
  }
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireString(values: OptionValues, name: string, command: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new UsageError(`missing --${name}`, command);
  return v;
}

export function intOption(values: OptionValues, name: string, command: string, min = 0): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`, command);
  return Number(v);
}

export function floatOption(values: OptionValues, name: string, command: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`, command);
  return n;
}

export function choiceOption<T extends string>(
  values: OptionValues, name: string, choices: readonly T[], command: string,
): T | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${v}"`, command);
  }
  return v as T;
}

export function listOption(values: OptionValues, name: string): string[] | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** --<name> "WIDTHxHEIGHT" or "N" (square) -> { width, height } in pixels, each a multiple of `multiple`. */
export function pixelSizeOption(values: OptionValues, name: string, command: string, multiple = 1): { width: number; height: number } | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--${name} must be WIDTHxHEIGHT like 512x512, got "${v}"`, command);
  const width = Number(m[1]);
  const height = Number(m[2] ?? m[1]);
  if (width <= 0 || height <= 0 || width % multiple !== 0 || height % multiple !== 0) {
    throw new UsageError(`--${name} ${v}: width and height must be positive ${multiple === 1 ? 'integers' : `multiples of ${multiple}`}`, command);
  }
  return { width, height };
}

/** --size: "512x512" or "512" -> { width, height }; multiples of 8 (the VAE factor). */
export function sizeOption(values: OptionValues, command: string): { width: number; height: number } | undefined {
  return pixelSizeOption(values, 'size', command, 8);
}

/** --<name> "TOP,LEFT" -> { top, left }: a pixel position, non-negative integers. */
export function topLeftOption(values: OptionValues, name: string, command: string): { top: number; left: number } | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const m = /^(\d+),(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--${name} must be TOP,LEFT in pixels like 0,0, got "${v}"`, command);
  return { top: Number(m[1]), left: Number(m[2]) };
}

export function positional(positionals: readonly string[], index: number, name: string, command: string): string {
  const v = positionals[index];
  if (v === undefined) throw new UsageError(`missing <${name}>`, command);
  return v;
}

export function noExtraPositionals(positionals: readonly string[], max: number, command: string): void {
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}"`, command);
}
