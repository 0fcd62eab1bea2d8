// docs/cli.md's transcripts are tests: every `$ sdq ...` block runs (in document order, from a scratch copy of the
// repository root) and its output must have the documented shape: the same lines, the same counts and sizes, any
// timings (a number followed by s, ms or ms/step). A line "..." in the docs stands for any number of lines; a block
// after `<!-- docs-test: skip (why) -->` is not run.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSdq } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOC = path.join(root, 'docs', 'cli.md');
/** The repository root and the temp dir as docs/cli.md writes them. */
const DOC_ROOT = '/work/main';
const DOC_TMP = '/tmp';

interface Step {
  /** The command line after "$ ". */
  command: string;
  /** Documented output lines (stderr then stdout, as a terminal shows them). */
  expected: string[];
}

/**
 * The transcript blocks: fenced blocks whose lines include "$ sdq ...", unless the line before the fence is
 * `<!-- docs-test: skip (why) -->` (a run this machine cannot repeat, e.g. on a GPU).
 */
function transcripts(markdown: string): Step[][] {
  const blocks: Step[][] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```/.test(lines[i])) continue;
    const open = i;
    while (++i < lines.length && !/^\s*```/.test(lines[i]));
    const skipped = open > 0 && /^\s*<!-- docs-test: skip\b/.test(lines[open - 1]);
    const raw = lines.slice(open + 1, i).filter((l) => l.trim().length > 0);
    const first = raw.find((l) => l.trim().startsWith('$ sdq '));
    if (!first || skipped) continue;
    // a block inside a list item is indented: the first command's indentation is the block's
    const indent = first.length - first.trimStart().length;
    const steps: Step[] = [];
    for (const line of raw.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))) {
      const t = line.trim();
      if (t.startsWith('$ ')) steps.push({ command: t.slice(2), expected: [] });
      else steps.at(-1)?.expected.push(line.trimEnd());
    }
    blocks.push(steps);
  }
  return blocks;
}

/** Shell words: spaces split, "..." and '...' group. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One documented line as a pattern: timings (number + s / ms / ms/step) match any number, all else is literal. */
function linePattern(line: string): string {
  const parts = line.split(/(\d+(?:\.\d+)?(?= ?(?:ms\/step|ms|s)\b))/);
  return parts.map((p, i) => (i % 2 === 1 ? '\\d+(?:\\.\\d+)?' : escape(p))).join('');
}

/** The whole documented output as one anchored pattern; a "..." line matches any lines. */
function outputPattern(expected: readonly string[]): RegExp {
  const body = expected.map((l) => (l.trim() === '...' ? '(?:[^\\n]*\\n)*?' : `${linePattern(l)}\\n`)).join('');
  return new RegExp(`^${body}$`);
}

describe('docs/cli.md transcripts run as documented', () => {
  let scratch: string;
  beforeAll(async () => {
    // A scratch "repository root": fixtures and packages linked in, outputs (out/, tmp/) written here.
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-docs-'));
    for (const d of ['fixtures', 'packages']) await fs.symlink(path.join(root, d), path.join(scratch, d));
    await fs.mkdir(path.join(scratch, 'tmp'));
  });
  afterAll(async () => {
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('the guide has transcripts of the commands it documents', async () => {
    const commands = transcripts(await fs.readFile(DOC, 'utf8')).flat().map((s) => words(s.command)[1]);
    for (const c of ['generate', 'bench', 'inspect', 'convert', 'calibrate', 'quantize', 'build']) expect(commands).toContain(c);
  });

  it('every transcript, in document order', async () => {
    const blocks = transcripts(await fs.readFile(DOC, 'utf8'));
    // Documented paths -> this run's: /tmp/... -> <scratch>/tmp/..., relative paths resolve in <scratch>.
    const toRun = (w: string): string => (w.startsWith(`${DOC_TMP}/`) ? path.join(scratch, w) : w);
    const normalise = (text: string): string =>
      text.split(path.join(scratch, 'tmp')).join(DOC_TMP).split(scratch).join(DOC_ROOT).split(root).join(DOC_ROOT);
    let lastCode = 0;
    for (const steps of blocks) {
      for (const step of steps) {
        const argv = words(step.command);
        let actual: string;
        if (argv[0] === 'echo' && argv[1] === '$?') {
          actual = `${lastCode}\n`;
        } else {
          expect(argv[0]).toBe('sdq');
          const r = await runSdq(argv.slice(1).map(toRun), { cwd: scratch });
          lastCode = r.code;
          actual = normalise(r.stderr + r.stdout);
        }
        const pattern = outputPattern(step.expected);
        if (!pattern.test(actual)) {
          // the message shows the command, what the docs say and what it printed
          expect(`$ ${step.command}\n${actual}`).toBe(`$ ${step.command}\n${step.expected.join('\n')}\n`);
        }
      }
    }
  });
});
