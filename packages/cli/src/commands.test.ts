// The real commands, in-process: --help, one-line errors with exit codes, no partial outputs, a tiny end-to-end bench.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCalibrationCache } from '@sdq/tensorrt';
import { MADE_DIR_LAYOUT } from '@sdq/pipeline';
import { runSdq } from './testing.js';
import { COMMANDS } from './commands/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tiny = path.join(root, 'fixtures/models/tiny-sd');
const shapes = path.join(root, 'fixtures/models/shapes-sd');
const tinySdxl = path.join(root, 'fixtures/models/tiny-sdxl');

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-cli-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Every entry under `dir` (recursively), relative. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      out.push(r);
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out.sort();
}

function expectOneLineError(r: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  // progress lines and warnings (e.g. tiny-sd's random weights) are not part of the error
  const lines = r.stderr.split('\n').filter((l) => l.length > 0 && !/: (\d+ steps?\.\.\.|done \d+\/\d+)|^sdq [a-z ]+: warning: /.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('every command', () => {
  it.each(COMMANDS.map((c) => [c.name]))('sdq %s --help: usage, options, examples, exit 0', async (name) => {
    const r = await runSdq([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: sdq ${name}`);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--json');
    expect(r.stderr).toBe('');
  });

  it('the global help lists every DESIGN.md command', async () => {
    const r = await runSdq(['--help']);
    for (const c of ['inspect', 'convert', 'calibrate', 'quantize', 'build', 'generate', 'bench', 'fixture create']) expect(r.stdout).toContain(`  ${c} `);
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['bench', tiny, '--runs', '0'], /^sdq bench: --runs must be an integer >= 1, got "0"/],
    [['bench', tiny, '--precisions', 'fp32,fp64'], /^sdq bench: --precisions: unknown precision "fp64"; use fp32, fp16, int8/],
    [['generate', tiny, '--size', '100x100'], /^sdq generate: --size 100x100: width and height must be positive multiples of 8/],
    [['generate', tiny, '--scheduler', 'magic'], /^sdq generate: --scheduler must be one of ddim, /],
    [['generate', tiny, '--original-size', '1024x768'], /^sdq generate: --original-size is SDXL size conditioning \(the UNet's time_ids\); .*tiny-sd is an SD 1.x\/2.x model dir/],
    [['generate', tinySdxl, '--negative-original-size', '512x512', '--size', '64x32'], /^sdq generate: --negative-original-size needs --negative-target-size too .*the image size, 64x32/],
    [['generate', tinySdxl, '--negative-crops-coords-top-left', '0,0'], /^sdq generate: --negative-crops-coords-top-left needs --negative-original-size and --negative-target-size too/],
    [['generate', tinySdxl, '--target-size', '64x'], /^sdq generate: --target-size must be WIDTHxHEIGHT like 512x512, got "64x"/],
    [['generate', tinySdxl, '--crops-coords-top-left', '8'], /^sdq generate: --crops-coords-top-left must be TOP,LEFT in pixels like 0,0, got "8"/],
    [['convert', tiny, path.join(os.tmpdir(), 'x')], /^sdq convert: missing --to fp16/],
    [['convert', tiny, path.join(os.tmpdir(), 'x'), '--to', 'fp32'], /^sdq convert: --to fp32 changes nothing by itself; add --fuse-attention/],
    [['calibrate', tiny, '--prompts', 'p.txt'], /^sdq calibrate: missing --out/],
    [['build', tiny], /^sdq build: missing --precision fp32\|fp16\|int8/],
    [['fixture', 'create', '--preset', 'huge', '--out', 'x'], /^sdq fixture create: --preset must be one of tiny, small/],
    [['inspect'], /^sdq inspect: missing <model.onnx \| model dir>/],
  ])('%j', async (argv, pattern) => {
    expectOneLineError(await runSdq(argv, { cwd: work }), 2, pattern);
  });
});

describe('runtime errors exit 1 with one line naming the thing and the fix, and leave nothing behind', () => {
  it('missing model dir', async () => {
    const missing = path.join(work, 'no-such-model');
    const r = await runSdq(['bench', missing, '--cache', path.join(work, 'cache-missing')], { cwd: work });
    expectOneLineError(r, 1, new RegExp(`^sdq bench: model dir ${missing} does not exist; pass a Stable Diffusion ONNX export in optimum layout`));
    await expect(fs.access(path.join(work, 'cache-missing'))).rejects.toThrow();
  });

  it('a model dir without a component', async () => {
    const dir = path.join(work, 'no-vae');
    await fs.cp(tiny, dir, { recursive: true });
    await fs.rm(path.join(dir, 'vae_decoder'), { recursive: true });
    const r = await runSdq(['generate', dir, '--out', path.join(work, 'no-vae.png')]);
    expectOneLineError(r, 1, /has no vae_decoder\/model\.onnx; re-export the model .* or copy the vae_decoder folder in/);
  });

  it('a corrupt (truncated) component: generate and bench fail naming it; no PNG, no half-made model dirs', async () => {
    const dir = path.join(work, 'corrupt');
    await fs.cp(tiny, dir, { recursive: true });
    const weights = path.join(dir, 'unet', 'weights.pb');
    await fs.truncate(weights, Math.floor((await fs.stat(weights)).size / 3));
    const png = path.join(work, 'corrupt.png');
    const g = await runSdq(['generate', dir, '--steps', '1', '--size', '64x64', '--out', png]);
    expectOneLineError(g, 1, /unet .*corrupt or truncated: re-export or re-copy the unet folder/);
    await expect(fs.access(png)).rejects.toThrow();

    const cache = path.join(work, 'corrupt-cache');
    const b = await runSdq(['bench', dir, '--cache', cache, '--runs', '1', '--steps', '1', '--size', '64x64', '--precisions', 'fp32,fp16']);
    expectOneLineError(b, 1, /weights\.pb/);
    expect(await listTree(cache)).toEqual([]);
  });

  it('a prompt file that does not exist', async () => {
    const out = path.join(work, 'calib-none');
    const r = await runSdq(['calibrate', tiny, '--prompts', path.join(work, 'nope.txt'), '--out', out]);
    expectOneLineError(r, 1, /prompt file .*nope\.txt does not exist; pass a \.txt file \(one prompt per line\)/);
    await expect(fs.access(out)).rejects.toThrow();
  });

  it('an output path that is not writable (under a file)', async () => {
    const file = path.join(work, 'a-file');
    await fs.writeFile(file, 'x');
    const g = await runSdq(['generate', tiny, '--steps', '1', '--size', '64x64', '--out', path.join(file, 'img.png')]);
    expectOneLineError(g, 1, /cannot write .*a-file\/img\.png: a parent of the path is a file, not a directory; choose another path/);
    const b = await runSdq(['bench', tiny, '--report', path.join(file, 'report'), '--cache', path.join(work, 'c2')]);
    expectOneLineError(b, 1, /cannot write .*a-file\/report/);
    const c = await runSdq(['convert', tiny, path.join(file, 'fp16'), '--to', 'fp16']);
    expectOneLineError(c, 1, /cannot write .*a-file\/fp16/);
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });

  it('a calibration set that does not match the model', async () => {
    const calib = path.join(work, 'calib-tiny');
    const prompts = path.join(work, 'prompts.txt');
    await fs.writeFile(prompts, 'a cat on a sofa\n');
    const c = await runSdq(['calibrate', tiny, '--prompts', prompts, '--out', calib, '--samples', '1', '--steps', '1', '--size', '64x64', '--json']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ ok: true, sets: 1, generations: 1 });
    // TensorRT's calibration cache: TRT 10.16 EntropyCalibration2 header, one amax/127 scale per calibrated tensor
    const cache = parseCalibrationCache(await fs.readFile(path.join(calib, 'calibration.cache'), 'utf8'));
    const ranges = JSON.parse(await fs.readFile(path.join(calib, 'calibration.json'), 'utf8')) as { tensors?: Record<string, { scale: number; amax: number }> };
    expect([cache.version, cache.algorithm]).toEqual(['101600', 'EntropyCalibration2']);
    const tensors = Object.entries(ranges.tensors ?? {}).filter(([, r]) => r.amax > 0);
    expect(tensors.length).toBeGreaterThan(10);
    expect(cache.entries.length).toBe(tensors.length);
    for (const [name, r] of tensors) expect(cache.entries.find((e) => e.name === name)?.scale).toBe(Math.fround(r.amax / 127));
    const out = path.join(work, 'shapes-int8');
    const q = await runSdq(['quantize', shapes, out, '--calibration', calib]);
    expectOneLineError(q, 1, /calibration .*calib-tiny was made for .*tiny-sd\/unet\/model.onnx, not for .*shapes-sd\/unet\/model.onnx; run "sdq calibrate" on this model/);
    // raw UNet inputs of another model: the reader names the input that does not fit
    const q2 = await runSdq(["quantize", shapes, out, "--calibration", path.join(calib, "unet_inputs.npz")]);
    expectOneLineError(q2, 1, /encoder_hidden_states/);
    await expect(fs.access(out)).rejects.toThrow();
    expect((await fs.readdir(work)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('commands that work', () => {
  it('inspect --json describes every component of a model dir', async () => {
    const r = await runSdq(['inspect', tiny, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, kind: 'dir' });
    expect(Object.keys(j.report.components)).toEqual(expect.arrayContaining(['text_encoder', 'unet', 'vae_decoder']));
    expect(j.report.components.unet.inputs.map((i: { name: string }) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
  });

  it('build --dry-run prints trtexec commands for the FP32 export', async () => {
    const r = await runSdq(['build', tiny, '--precision', 'fp32', '--dry-run', '--out', path.join(work, 'engines')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/trtexec/);
    expect(r.stdout).toContain(path.join(tiny, "unet", "model.onnx"));
    expect(r.stdout).toContain(path.join(work, "engines", "unet.fp32.plan"));
  });

  it('fixture create writes a model dir and refuses to overwrite it', async () => {
    const out = path.join(work, 'fixture-tiny');
    const r = await runSdq(['fixture', 'create', '--preset', 'tiny', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, preset: 'tiny' });
    for (const f of ['model_index.json', 'unet/model.onnx', 'unet/weights.pb', 'text_encoder/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/vocab.json', 'scheduler/scheduler_config.json']) {
      await fs.access(path.join(out, f));
    }
    expectOneLineError(await runSdq(['fixture', 'create', '--preset', 'tiny', '--out', out]), 1, /already exists; choose a new --out or pass --force/);
  });

  it('fixture create --preset tiny-sdxl writes an SDXL dir that sdq generate runs', async () => {
    const out = path.join(work, 'fixture-tiny-sdxl');
    const r = await runSdq(['fixture', 'create', '--preset', 'tiny-sdxl', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tiny-sdxl preset, .* text encoder 2 1\.6M/);
    const g = await runSdq(['generate', out, '--prompt', 'a cat', '--steps', '2', '--size', '32x32', '--out', path.join(work, 'xl-fixture.png'), '--json']);
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ family: 'sdxl', width: 32, height: 32 });
  });

  it('bench on tiny-sd (1 run, 2 steps, 64x64): --json report shape, report files, cache reused on the second run', async () => {
    const cache = path.join(work, 'bench-cache');
    const report = path.join(work, 'bench-report');
    const argv = ['bench', tiny, '--runs', '1', '--warmup', '0', '--steps', '2', '--size', '64x64', '--cache', cache, '--report', report, '--json'];
    const r = await runSdq(argv);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.report).toMatchObject({ model: 'tiny-sd', prompt: 'a cat on a sofa', steps: 2, width: 64, height: 64, runs: 1 });
    expect(j.report.precisions.map((p: { precision: string }) => p.precision)).toEqual(['fp32', 'fp16', 'int8']);
    for (const p of j.report.precisions) {
      expect(p.runsMs).toHaveLength(1);
      expect(p.latency.meanMs).toBeGreaterThan(0);
      expect(p.unetMsPerStep).toBeGreaterThan(0);
      expect(p.modelBytes).toBeGreaterThan(0);
      expect(p.fidelity).toBeNull(); // tiny-sd has no prompt language
    }
    const [fp32, fp16, int8] = j.report.precisions;
    expect(fp32.quality).toBeNull();
    expect(fp32.speedup).toBe(1);
    expect(fp16.quality.ssim).toBeGreaterThan(0.9);
    expect(fp16.modelBytes).toBeLessThan(fp32.modelBytes);
    expect(int8.quality.psnr).toBeGreaterThan(0);
    expect((await fs.readdir(report)).sort()).toEqual(['fp16.png', 'fp32.png', 'int8.png', 'report.html', 'report.json', 'report.md']);
    expect(await listTree(cache)).toEqual(expect.arrayContaining(['fp16', 'int8', path.join('int8', 'calibration', 'ranges.json'), path.join('int8', 'unet', 'model.onnx')]));
    expect((await listTree(work)).filter((f) => /\.(tmp|old|dir)-\d+/.test(f))).toEqual([]);

    const again = await runSdq(argv.filter((a) => a !== '--json'));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^precision +mean ms +speed-up +median ms +p90 ms +UNet ms\/step +size +PSNR dB +SSIM +max abs diff +fidelity +colour$/m);
    expect(again.stdout).toMatch(/note: reused FP16 and INT8 model dir\(s\)/);
    // how the INT8 dir was made is reported on reuse too: calibration and the measured float components
    expect(again.stdout).toMatch(/note: INT8: UNet calibrated \(\w+\) on \d+ UNet input sets/);
    expect(again.stdout).toMatch(/note: INT8 dir float components, measured here \(min of 3\): text encoder FP(32|16) \(FP32 [\d.]+ ms, FP16 [\d.]+ ms\), vae decoder FP(32|16)/);

    // A dir made by an older layout of sdq (same recipe, same version) is made again, not reused.
    const stampFile = path.join(cache, 'fp16', 'sdq-made-from.json');
    const stamp = JSON.parse(await fs.readFile(stampFile, 'utf8')) as { layout: number };
    expect(stamp.layout).toBe(MADE_DIR_LAYOUT);
    await fs.writeFile(stampFile, JSON.stringify({ ...stamp, layout: MADE_DIR_LAYOUT - 1 }));
    const third = await runSdq(argv.filter((a) => a !== '--json'));
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/note: reused INT8 model dir\(s\)/);
    expect(JSON.parse(await fs.readFile(stampFile, 'utf8')).layout).toBe(MADE_DIR_LAYOUT);
  });

  it('generate on tiny-sdxl: the negative size conditioning reaches the UNet (another image, the same one every run)', async () => {
    const common = ['generate', tinySdxl, '--prompt', 'a cat', '--steps', '2', '--size', '64x64', '--seed', '7'];
    const negative = ['--negative-original-size', '256x256', '--negative-crops-coords-top-left', '8,0', '--negative-target-size', '64x64'];
    const pngs = ['default', 'negative', 'negative-again'].map((n) => path.join(work, `xl-${n}.png`));
    const runs = [await runSdq([...common, '--out', pngs[0]]), await runSdq([...common, ...negative, '--out', pngs[1], '--json']), await runSdq([...common, ...negative, '--out', pngs[2]])];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(JSON.parse(runs[1].stdout).sizeConditioning).toEqual({
      negativeOriginalSize: { width: 256, height: 256 },
      negativeCropsCoordsTopLeft: { top: 8, left: 0 },
      negativeTargetSize: { width: 64, height: 64 },
    });
    const [plain, conditioned, again] = await Promise.all(pngs.map((p) => fs.readFile(p)));
    expect(conditioned.equals(plain)).toBe(false);
    expect(again.equals(conditioned)).toBe(true);
  });

  it('generate and bench on tiny-sdxl: SDXL family, both text encoders converted and timed for the INT8 dir', async () => {
    const png = path.join(work, 'xl.png');
    const g = await runSdq(['generate', tinySdxl, '--prompt', 'a cat', '--steps', '2', '--size', '64x32', '--out', png, '--json']);
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ ok: true, family: 'sdxl', width: 64, height: 32 });
    const cache = path.join(work, 'bench-cache-xl');
    const r = await runSdq(['bench', tinySdxl, '--runs', '1', '--warmup', '0', '--steps', '2', '--size', '32x32', '--calibration-samples', '4', '--calibration-steps', '2', '--cache', cache, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.report.precisions.map((p: { precision: string }) => p.precision)).toEqual(['fp32', 'fp16', 'int8']);
    expect(j.report.precisions[1].quality.ssim).toBeGreaterThan(0.9);
    const tree = await listTree(cache);
    expect(tree).toEqual(expect.arrayContaining([path.join('fp16', 'text_encoder_2', 'model.onnx'), path.join('fp16', 'tokenizer_2', 'vocab.json'), path.join('int8', 'text_encoder_2', 'model.onnx')]));
    expect(j.report.notes.join('\n')).toMatch(/text encoder 2 FP(32|16)/);
  });
});
