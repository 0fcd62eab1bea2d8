import { SdqError } from '@sdq/quant';
import type { Command } from './command.js';
import { runSdq } from './testing.js';
import { COMMANDS } from './commands/index.js';
import { intOption, sizeOption, listOption } from './usage.js';

/** A command that exercises every failure path of the dispatcher. */
const probe: Command = {
  name: 'probe run',
  summary: 'test command',
  help: 'Usage: sdq probe run [--fail kind] [--count N]',
  options: { fail: { type: 'string' }, count: { type: 'string' } },
  async run({ values }, ctx) {
    const count = intOption(values, 'count', 'probe run', 1);
    if (values.fail === 'sdq') throw new SdqError('NOT_FOUND', 'model dir /x does not exist;\n  pass a model dir');
    if (values.fail === 'crash') throw new TypeError('Cannot read properties of undefined (reading "dims")');
    ctx.progress({ task: 'work', done: 1, total: 2 });
    ctx.progress({ task: 'work', done: 2, total: 2 });
    if (ctx.json) ctx.printJson({ ok: true, count: count ?? 0, inf: Number.POSITIVE_INFINITY });
    else ctx.io.stdout(`count ${count ?? 0}\n`);
    return 0;
  },
};
const commands = [probe, ...COMMANDS];

describe('sdq dispatcher', () => {
  it('no arguments: help on stderr, exit 2', async () => {
    const r = await runSdq([], { commands });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: sdq <command>');
    expect(r.stderr).toContain('probe run');
  });

  it('--help and help <command> print to stdout, exit 0', async () => {
    expect((await runSdq(['--help'], { commands })).stdout).toContain('Commands:');
    const r = await runSdq(['help', 'probe', 'run'], { commands });
    expect([r.code, r.stdout]).toEqual([0, 'Usage: sdq probe run [--fail kind] [--count N]\n']);
    const r2 = await runSdq(['probe', 'run', '--help'], { commands });
    expect([r2.code, r2.stdout]).toEqual([0, 'Usage: sdq probe run [--fail kind] [--count N]\n']);
  });

  it.each([
    [['nope'], /^sdq: unknown command "nope"; run "sdq --help" for the list\n$/],
    [['probe'], /^sdq: unknown command "probe"; did you mean "sdq probe run"\?\n$/],
    [['probe', 'run', '--bogus'], /^sdq probe run: Unknown option '--bogus' \(see "sdq probe run --help"\)\n$/],
    [['probe', 'run', '--count', 'x'], /^sdq probe run: --count must be an integer >= 1, got "x" \(see "sdq probe run --help"\)\n$/],
    [['probe', 'run', '--count'], /^sdq probe run: Option '--count <value>' argument missing/],
  ])('usage error %j: one line, exit 2', async (argv, message) => {
    const r = await runSdq(argv, { commands });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('an SdqError is one line naming the thing, exit 1, no stack', async () => {
    const r = await runSdq(['probe', 'run', '--fail', 'sdq'], { commands });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sdq probe run: model dir /x does not exist; pass a model dir\n');
  });

  it('an unexpected error is one line with a --debug hint; --debug adds the stack', async () => {
    const r = await runSdq(['probe', 'run', '--fail', 'crash'], { commands });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sdq probe run: unexpected error: Cannot read properties of undefined (reading "dims"); rerun with --debug for the stack trace\n');
    const d = await runSdq(['probe', 'run', '--fail', 'crash', '--debug'], { commands });
    expect(d.stderr).toMatch(/TypeError: Cannot read properties[\s\S]*at /);
  });

  it('--json: the result on stdout (non-finite numbers as null), errors as JSON too', async () => {
    const ok = await runSdq(['probe', 'run', '--json', '--count', '3'], { commands });
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, count: 3, inf: null });
    const bad = await runSdq(['probe', 'run', '--json', '--fail', 'sdq'], { commands });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'model dir /x does not exist; pass a model dir' } });
  });

  it('progress: plain lines when stderr is not a terminal, a redrawn bar when it is, nothing with --quiet', async () => {
    const plain = await runSdq(['probe', 'run'], { commands });
    expect(plain.stderr).toMatch(/^work: 2 steps\.\.\.\nwork: done 2\/2 in \d+\.\ds\n$/);
    const tty = await runSdq(['probe', 'run'], { commands, tty: true });
    expect(tty.stderr).toContain(`\r\u001b[2Kwork [${"#".repeat(24)}] 2/2`);
    expect((await runSdq(['probe', 'run', '--quiet'], { commands })).stderr).toBe('');
  });
});

describe('option parsing helpers', () => {
  it.each([
    ['512x512', { width: 512, height: 512 }],
    ['128', { width: 128, height: 128 }],
    ['640x512', { width: 640, height: 512 }],
  ])('--size %s', (v, expected) => {
    expect(sizeOption({ size: v }, 'generate')).toEqual(expected);
  });
  it.each(['512x', 'ax5', '100x100', '0x8', '-8x8'])('--size %s is a usage error', (v) => {
    expect(() => sizeOption({ size: v }, 'generate')).toThrow(/--size/);
  });
  it('lists and integers', () => {
    expect(listOption({ precisions: 'fp32, int8,' }, 'precisions')).toEqual(['fp32', 'int8']);
    expect(intOption({ runs: '10' }, 'runs', 'bench', 1)).toBe(10);
    expect(() => intOption({ runs: '0' }, 'runs', 'bench', 1)).toThrow('--runs must be an integer >= 1, got "0"');
    expect(() => intOption({ runs: '1.5' }, 'runs', 'bench', 1)).toThrow(/integer/);
  });
});
