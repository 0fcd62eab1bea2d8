// A newcomer's first hour, walked through the CLI: the entry point right after `npm ci`, sizes the model can make,
// --json on every failure, files that are not what they claim, honest progress and outputs, and warnings.
import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runSdq } from './testing.js';
import { WATCH_PARTIAL_OUTPUTS } from './partial-outputs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cliDir = path.join(root, 'packages/cli');
const tiny = path.join(root, 'fixtures/models/tiny-sd');
const shapes = path.join(root, 'fixtures/models/shapes-sd');
const run = promisify(execFile);

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-newcomer-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** stderr without the plain progress lines. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.length > 0 && !/: (\d+ steps?\.\.\.|done \d+\/\d+)/.test(l));
}

describe('the entry point after npm ci', () => {
  it('the sdq bin is a committed file in the package (npm links it at install time) and ships in the tarball', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(cliDir, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    const bin = path.join(cliDir, pkg.bin.sdq);
    await fs.access(bin, fsConstants.X_OK);
    expect(path.relative(cliDir, bin).split(path.sep)[0]).not.toBe('dist'); // build outputs do not exist at install time
    expect(pkg.files).toContain(path.relative(cliDir, bin).split(path.sep)[0]);
    const { stdout } = await run('git', ['ls-files', '-s', path.relative(root, bin)], { cwd: root });
    expect(stdout).toMatch(/^100755 /); // tracked, executable
    // the partial-output watcher (the same file, a hidden argument) never triggers a build mid-run
    expect(await fs.readFile(bin, 'utf8')).toContain(`process.argv[2] === '${WATCH_PARTIAL_OUTPUTS}'`);
    // `npm run sdq -- ...` runs the same file from the repository root
    const rootPkg = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(rootPkg.scripts.sdq).toBe(`node ${path.relative(root, bin)}`);
  });

  it('as published: runs dist/sdq.js with the arguments; without it, one line saying what to do', async () => {
    const pkg = path.join(work, 'published');
    await fs.mkdir(path.join(pkg, 'bin'), { recursive: true });
    await fs.copyFile(path.join(cliDir, 'bin', 'sdq.js'), path.join(pkg, 'bin', 'sdq.js'));
    await fs.writeFile(path.join(pkg, 'package.json'), '{"type":"module"}');
    const missing = await run(process.execPath, [path.join(pkg, 'bin', 'sdq.js'), '--help']).catch((e: { code: number; stderr: string }) => e);
    expect('code' in missing && missing.code).toBe(1);
    expect(missing.stderr).toBe(`sdq: ${path.join(pkg, 'dist', 'sdq.js')} is missing; reinstall @sdq/cli\n`);
    await fs.mkdir(path.join(pkg, 'dist'));
    await fs.writeFile(path.join(pkg, 'dist', 'sdq.js'), 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\n');
    const ok = await run(process.execPath, [path.join(pkg, 'bin', 'sdq.js'), 'inspect', '--json']);
    expect(JSON.parse(ok.stdout)).toEqual(['inspect', '--json']);
  });

  it('in the checkout: builds the CLI when needed and runs it (node packages/cli/bin/sdq.js --version)', async () => {
    const r = await run(process.execPath, [path.join(cliDir, 'bin', 'sdq.js'), '--version'], { cwd: work });
    expect(r.stdout).toBe('0.1.0\n');
    await fs.access(path.join(cliDir, 'dist', 'sdq.js'));
  });
});

describe('image sizes come from the model', () => {
  it.each([
    ['generate', shapes, '136x136', /^sdq generate: --size 136x136 does not fit shapes-sd: width and height must be multiples of 32 \(VAE factor 8 x 2\^2 UNet downsamplings\); nearest: width 128 or 160, height 128 or 160/],
    ['bench', tiny, '72x64', /^sdq bench: --size 72x64 does not fit tiny-sd: width and height must be multiples of 16 \(VAE factor 8 x 2\^1 UNet downsamplings\); nearest: width 64 or 80, height 64 /],
    ['calibrate', tiny, '64x40', /^sdq calibrate: --size 64x40 does not fit tiny-sd: .* multiples of 16 .*height 32 or 48/],
  ])('sdq %s %s --size %s: usage error before any work, naming the sizes that work', async (command, model, size, pattern) => {
    const out = path.join(work, `size-${command}`);
    const extra = command === 'calibrate' ? ['--prompts', path.join(root, 'packages/calib/prompts/default.txt'), '--out', out] : command === 'bench' ? ['--cache', out] : ['--out', `${out}.png`];
    const r = await runSdq([command, model, '--size', size, ...extra]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    await expect(fs.access(out)).rejects.toThrow();
  });

  it('a size that fits (80x64 on tiny-sd, not square) generates', async () => {
    const out = path.join(work, 'fits.png');
    const r = await runSdq(['generate', tiny, '--size', '80x64', '--steps', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, width: 80, height: 64 });
  });
});

describe('--json answers every failure on stdout', () => {
  it.each([
    [['generate', tiny, '--bogus', '--json'], /^Unknown option '--bogus'/],
    [['bench', tiny, '--runs', '0', '--json'], /^--runs must be an integer >= 1/],
    [['generate', tiny, '--size', '136x136', '--json'], /^--size 136x136 does not fit tiny-sd/],
    [['nope', '--json'], /^unknown command "nope"/],
  ])('%j: exit 2, {"ok":false,"error":{"code":"USAGE",...}}', async (argv, message) => {
    const r = await runSdq(argv, { cwd: work });
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(j).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect(j.error.message).toMatch(message);
    expect(errorLines(r.stderr)).toHaveLength(1); // the one-line error stays on stderr for people
  });
});

/** A real 4x4 PNG's first bytes (signature + IHDR); enough for any reader that looks. */
const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0]);

describe('files that are not what they claim get one line saying what they are', () => {
  it('a PNG as --prompts: calibrate fails naming it, writes nothing', async () => {
    const png = path.join(work, 'cat.png');
    await fs.writeFile(png, PNG_HEAD);
    const out = path.join(work, 'calib-png');
    const r = await runSdq(['calibrate', tiny, '--prompts', png, '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`sdq calibrate: prompt file ${png} is a PNG image, not a text file; pass a .txt file (one prompt per line) or a .jsonl file ({"prompt": ...} per line)`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_FORMAT' } });
    await expect(fs.access(out)).rejects.toThrow();
  });

  it('a PNG renamed to .onnx: quantize blames the file, not the calibration', async () => {
    const fake = path.join(work, 'unet.onnx');
    await fs.writeFile(fake, PNG_HEAD);
    const r = await runSdq(['quantize', fake, path.join(work, 'unet-int8.onnx'), '--calibration', path.join(work, 'no-calibration')]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`sdq quantize: UNet ${fake} is a PNG image, not an ONNX model; pass a UNet .onnx file or a model dir`]);
  });

  it('an ONNX model as --calibration, and a PNG as a model dir\'s UNet', async () => {
    const unet = path.join(tiny, 'unet', 'model.onnx');
    const q = await runSdq(['quantize', unet, path.join(work, 'q.onnx'), '--calibration', unet]);
    expect(errorLines(q.stderr)).toEqual([`sdq quantize: calibration ${unet} is an ONNX model (protobuf), not a NumPy .npz archive; pass the --out dir of "sdq calibrate", its unet_inputs.npz or its ranges.json`]);
    const dir = path.join(work, 'png-unet');
    await fs.cp(tiny, dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'unet', 'model.onnx'), PNG_HEAD);
    const g = await runSdq(['generate', dir, '--out', path.join(work, 'png-unet.png')]);
    expect(g.code).toBe(1);
    expect(errorLines(g.stderr)).toEqual([`sdq generate: unet model ${path.join(dir, 'unet', 'model.onnx')} is a PNG image, not an ONNX model; re-export or re-copy the unet folder`]);
  });
});

describe('progress, totals and outputs say what happened', () => {
  it('a phase that reported only its start is shown finished when the next begins (quantize read/quantize/write)', async () => {
    const calib = path.join(work, 'calib');
    const prompts = path.join(work, 'prompts.txt');
    await fs.writeFile(prompts, 'a cat on a sofa\n');
    expect((await runSdq(['calibrate', tiny, '--prompts', prompts, '--out', calib, '--samples', '1', '--steps', '1', '--size', '64x64'])).code).toBe(0);
    // (plain lines, "quantize read: done 1/1 in 0.7s", are a transcript of docs/cli.md that docs.test.ts runs)
    const tty = await runSdq(['quantize', path.join(tiny, 'unet', 'model.onnx'), path.join(work, 'unet-int8-tty.onnx'), '--calibration', calib], { tty: true });
    expect(tty.stderr).not.toMatch(/\] 0\/1 [^\r]*\n/); // no bar left behind unfilled
    for (const phase of ['read', 'quantize', 'write']) expect(tty.stderr).toContain(`quantize ${phase} [${'#'.repeat(24)}] 1/1`);
  });

  it('fixture create reports MiB of weights written, per component, up to a full bar', async () => {
    const r = await runSdq(['fixture', 'create', '--preset', 'tiny', '--out', path.join(work, 'fixture'), '--json'], { tty: true });
    expect(r.code).toBe(0);
    // tiny: 1.61M + 1.43M + 0.22M parameters = 13.0 MB = 12.4 MiB of float32 weights, 13 on the bar
    // (the bar redraws at most every 50 ms, so not every event shows)
    expect(r.stderr).toMatch(/fixture tiny \[-+\] 0\/13 [^\r]* MiB of weights, writing text_encoder/);
    expect(r.stderr).toMatch(/fixture tiny \[#+-+\] ([1-9]|1[0-2])\/13 [^\r]* MiB of weights, writing (unet|vae_decoder)/);
    expect(r.stderr).toContain(`fixture tiny [${'#'.repeat(24)}] 13/13`);
  });

  it('convert of one .onnx with external data counts the data in both sizes', async () => {
    const out = path.join(work, 'unet-fp16.onnx');
    const r = await runSdq(['convert', path.join(tiny, 'unet', 'model.onnx'), out, '--to', 'fp16', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { bytesIn: number; bytesOut: number };
    const size = async (f: string): Promise<number> => (await fs.stat(f)).size;
    expect(j.bytesIn).toBe((await size(path.join(tiny, 'unet', 'model.onnx'))) + (await size(path.join(tiny, 'unet', 'weights.pb'))));
    const written = (await fs.readdir(work)).filter((f) => f.startsWith('unet-fp16.onnx'));
    expect(written.length).toBeGreaterThan(1); // the model and its external data
    expect(j.bytesOut).toBe((await Promise.all(written.map((f) => size(path.join(work, f))))).reduce((a, b) => a + b, 0));
    expect(j.bytesOut / j.bytesIn).toBeGreaterThan(0.4); // FP16 halves the weights, it does not grow them 20x
    expect(j.bytesOut / j.bytesIn).toBeLessThan(0.6);
  });

  it('--out that is a directory, and a path on a file system that takes no files: one line, before generating', async () => {
    const dir = path.join(work, 'an-existing-dir');
    await fs.mkdir(dir);
    const d = await runSdq(['generate', tiny, '--size', '64x64', '--out', dir]);
    expect(d.code).toBe(1);
    expect(errorLines(d.stderr)).toEqual([`sdq generate: cannot write ${dir}: it is a directory; pass a file path such as ${path.join(dir, 'image.png')}`]);
    expect(d.stderr).not.toMatch(/generate: \d+ steps/); // nothing was generated
    // a model file's <out> likewise, before converting (quantize shares the check)
    const unet = path.join(tiny, 'unet', 'model.onnx');
    const c = await runSdq(['convert', unet, dir, '--to', 'fp16']);
    expect(errorLines(c.stderr)).toEqual([`sdq convert: cannot write ${dir}: it is a directory; pass a file path such as ${path.join(dir, 'model.onnx')}`]);
    const p = await runSdq(['generate', tiny, '--size', '64x64', '--out', '/proc/x.png']);
    expect(p.code).toBe(1);
    expect(errorLines(p.stderr)).toEqual(['sdq generate: cannot write /proc/x.png: /proc does not accept new files (a virtual or special file system); choose another path']);
    expect(p.stderr).not.toMatch(/generate: \d+ steps/);
  });

  it('bench: total is the wall time of the whole command, and a second run says it replaced the first report', async () => {
    const argv = ['bench', tiny, '--precisions', 'fp32', '--runs', '1', '--warmup', '0', '--steps', '1', '--size', '64x64', '--cache', path.join(work, 'bench-cache'), '--report', path.join(work, 'bench-report')];
    const first = await runSdq(argv);
    expect(first.code).toBe(0);
    // the whole command in parts: making the model dirs (FP32 only: nothing to make) + the benchmark + the report
    const total = /^total ([\d.]+) s wall: model dirs ([\d.]+) s, benchmark ([\d.]+) s, report ([\d.]+) s$/m.exec(first.stdout);
    expect(total).not.toBeNull();
    const [wall, ...parts] = total!.slice(1).map(Number);
    expect(Math.abs(wall - parts.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(0.15); // each part rounded to 0.1 s
    expect(first.stdout).toMatch(/^report: \S+report\.html$/m);
    expect(first.stdout).toContain('note: tiny-sd has random weights (sdq-model.json): its images are noise whatever the prompt');
    const createdAt = (JSON.parse(await fs.readFile(path.join(work, 'bench-report', 'report.json'), 'utf8')) as { createdAt: string }).createdAt;
    const second = await runSdq(argv);
    expect(second.stdout).toContain(`report.html (replaced the report of the run of ${createdAt}; pass --report DIR to keep both)\n`);
  });
});

describe('warnings when the image will not show the prompt', () => {
  it('a random-weight model (tiny-sd): generate warns on stderr and in --json', async () => {
    const r = await runSdq(['generate', tiny, '--size', '64x64', '--steps', '1', '--out', path.join(work, 'noise.png'), '--json']);
    expect(r.code).toBe(0);
    const warning = 'tiny-sd has random weights (sdq-model.json): its images are noise whatever the prompt; it measures speed and conversion, not image quality';
    expect(r.stderr).toContain(`sdq generate: warning: ${warning}\n`);
    expect(JSON.parse(r.stdout).warnings).toEqual([warning]);
    // bench notes it in its output and report: see the bench test above
  });

  it('a prompt outside shapes-sd\'s language warns; one inside it does not', async () => {
    const off = await runSdq(['generate', shapes, '--prompt', 'a cat on a sofa', '--steps', '1', '--out', path.join(work, 'cat.png')]);
    expect(off.code).toBe(0);
    expect(off.stderr).toMatch(/^sdq generate: warning: "a cat on a sofa" is outside shapes-sd's prompt language \("a COLOUR SHAPE on a COLOUR background", colours red, .*\): the image will not follow it; try e\.g\. "a red circle on a green background"$/m);
    const on = await runSdq(['generate', shapes, '--prompt', 'a red circle on a blue background', '--steps', '1', '--out', path.join(work, 'circle.png')]);
    expect(on.stderr).not.toContain('warning');
  });
});

describe('prompt fidelity judges colour and shape', () => {
  it('sdq bench on shapes-sd: verdicts read the drawn shape; the table shows fidelity and colour-only, the legend the rule', async () => {
    const prompts = path.join(work, 'fidelity.txt');
    await fs.writeFile(prompts, 'a yellow circle on a blue background\na red triangle on a blue background\n');
    const argv = ['bench', shapes, '--precisions', 'fp32', '--runs', '1', '--warmup', '0', '--steps', '1', '--fidelity-prompts', prompts, '--fidelity-steps', '10', '--cache', path.join(work, 'fid-cache'), '--report', path.join(work, 'fid-report')];
    const r = await runSdq(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^FP32 .* 2\/2 +2\/2$/m);
    expect(r.stdout).toMatch(/^fidelity = faithful images \/ prompts \(10 steps\); faithful = right colours .* and right shape, read from the largest 4-connected shape-coloured region/m);
    const report = JSON.parse(await fs.readFile(path.join(work, 'fid-report', 'report.json'), 'utf8')) as { precisions: { fidelity: { verdicts: { shape: string; fill: number; cornerGap: number; cornerSpread: number }[] } }[] };
    expect(report.precisions[0].fidelity.verdicts.map((v) => v.shape)).toEqual(['circle', 'triangle']);
    const md = await fs.readFile(path.join(work, 'fid-report', 'report.md'), 'utf8');
    expect(md).toMatch(/\| fidelity \| colour \|/);
    expect(md).toContain('and right shape, read from the largest 4-connected shape-coloured region');
  });
});
