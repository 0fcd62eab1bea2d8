// The TensorRT flow a user walks: fixture -> convert -> calibrate -> quantize -> build, on TensorRT 10.16 and 11.1,
// against the STAND-IN trtexec (packages/tensorrt/test/fake-trtexec.mjs: checks each release's flags, builds nothing).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEngineManifest } from '@sdq/tensorrt';
import { readMadeFrom, quantizeModelDir } from '@sdq/pipeline';
import { runSdq } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FAKE_TRTEXEC = path.join(root, 'packages/tensorrt/test/fake-trtexec.mjs');

interface EngineJson {
  component: string;
  precision: string;
  onnx: string;
  engine: string;
  status: string;
  performance: unknown;
  buildTimeSec?: number;
}

let work: string;
let model: string;
let fp16: string;
let int8: string;
let ortInt8: string;
let benchCache: string;
const savedVersion = process.env.FAKE_TRTEXEC_VERSION;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-build-flow-'));
  model = path.join(work, 'tiny');
  fp16 = path.join(work, 'out', 'fp16');
  int8 = path.join(work, 'out', 'int8');
  ortInt8 = path.join(work, 'ort-int8');
  const calib = path.join(work, 'calib');
  const steps: string[][] = [
    ['fixture', 'create', '--preset', 'tiny', '--out', model],
    ['convert', model, fp16, '--to', 'fp16'],
    ['calibrate', model, '--out', calib, '--samples', '2', '--steps', '2', '--size', '64x64'],
    ['quantize', model, int8, '--calibration', calib, '--activations', 'int8'],
    ['quantize', model, ortInt8, '--calibration', calib],
    ['convert', model, path.join(work, 'w8a16'), '--to', 'int8-weights'],
    ['convert', model, path.join(work, 'fused'), '--to', 'fp32', '--fuse-attention'],
  ];
  for (const argv of steps) {
    const r = await runSdq(argv);
    if (r.code !== 0) throw new Error(`sdq ${argv.join(' ')}: ${r.stderr}`);
  }
  // bench's cache, made as sdq bench makes it (onnxruntime layouts: fused attention, uint8 INT8)
  benchCache = path.join(work, 'bench-cache');
  await quantizeModelDir(model, benchCache, { int8: { samples: 2, steps: 2, size: { width: 64, height: 64 } } });
});
afterAll(async () => {
  if (savedVersion === undefined) delete process.env.FAKE_TRTEXEC_VERSION;
  else process.env.FAKE_TRTEXEC_VERSION = savedVersion;
  await fs.rm(work, { recursive: true, force: true });
});

describe('every dir sdq makes says what it is', () => {
  it.each([
    ['convert', () => fp16, { madeBy: 'sdq convert --to fp16', precision: 'fp16', components: { unet: { precision: 'fp16' }, text_encoder: { precision: 'fp16' } } }],
    ['quantize --activations int8', () => int8, { madeBy: 'sdq quantize', precision: 'int8', components: { unet: { precision: 'int8' }, text_encoder: { precision: 'fp32' } } }],
    ['quantize (onnxruntime layout)', () => ortInt8, { madeBy: 'sdq quantize', precision: 'int8', components: { unet: { precision: 'int8', onnxruntimeOnly: expect.stringMatching(/uint8 .*MultiHeadAttention/) } } }],
    ['convert --to int8-weights', () => path.join(work, 'w8a16'), { madeBy: 'sdq convert --to int8-weights', precision: 'int8', components: { unet: { precision: 'int8', onnxruntimeOnly: expect.stringMatching(/^weight-only INT8 .*MultiHeadAttention/) } } }],
    ['convert --to fp32 --fuse-attention', () => path.join(work, 'fused'), { madeBy: 'sdq convert --to fp32 --fuse-attention', precision: 'fp32', components: { unet: { precision: 'fp32', onnxruntimeOnly: expect.stringMatching(/MultiHeadAttention/) } } }],
    ['bench cache fp16', () => path.join(benchCache, 'fp16'), { madeBy: 'sdq bench', precision: 'fp16', components: { unet: { precision: 'fp16', onnxruntimeOnly: expect.stringMatching(/MultiHeadAttention/) } } }],
    ['bench cache int8', () => path.join(benchCache, 'int8'), { madeBy: 'sdq bench', precision: 'int8', components: { unet: { precision: 'int8', onnxruntimeOnly: expect.stringMatching(/uint8/) } } }],
  ])('%s', async (_, dir, contents) => {
    const stamp = await readMadeFrom(dir());
    expect(stamp?.source).toBe(model);
    expect(stamp?.contents).toMatchObject(contents);
  });
});

describe.each(['10.16', '11.1'])('sdq build on TensorRT %s (stand-in trtexec)', (version) => {
  beforeEach(() => {
    process.env.FAKE_TRTEXEC_VERSION = `${version}.0`;
  });
  const strong = version === '11.1';

  it('INT8 from sdq quantize\'s dir: the QDQ UNet; text encoder and VAE decoder FP16, never --int8 without Q/DQ', async () => {
    const out = path.join(work, `engines-int8-${version}`);
    const r = await runSdq(['build', int8, '--precision', 'int8', '--trtexec', FAKE_TRTEXEC, '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { trtVersion: string; engines: EngineJson[]; plans: { component: string; argv: string[] }[] };
    expect(j.trtVersion).toBe(version);
    expect(j.engines.map((e) => [e.component, e.precision, e.onnx])).toEqual([
      // TensorRT 11 needs an FP16 model: the sibling dir sdq convert made from the same export
      // (10.x builds them from the FP32 model: the INT8 dir's own copies of the export's)
      ['text_encoder', 'fp16', path.join(strong ? fp16 : int8, 'text_encoder', 'model.onnx')],
      ['unet', 'int8', path.join(int8, 'unet', 'model.onnx')],
      ['vae_decoder', 'fp16', path.join(strong ? fp16 : int8, 'vae_decoder', 'model.onnx')],
    ]);
    const flags = (c: string) => j.plans.find((p) => p.component === c)!.argv.filter((a) => /^--(fp16|int8|stronglyTyped)$/.test(a));
    expect(flags('unet')).toEqual(strong ? [] : ['--fp16', '--int8']);
    expect(flags('text_encoder')).toEqual(strong ? [] : ['--fp16']);
    // --json carries trtexec's parsed figures, the same as engines.json
    const manifest = await readEngineManifest(out);
    for (const e of j.engines) {
      expect(e.status).toBe('built');
      const entry = manifest.engines[`${e.component}.${e.precision}`]!;
      expect(e.performance).toEqual(entry.performance);
      expect(e.buildTimeSec).toBe(entry.buildTimeSec);
      expect(entry.performance?.throughputQps).toBeGreaterThan(0);
    }
    // and so does the text output (engines reused on the second run)
    const again = await runSdq(['build', int8, '--precision', 'int8', '--trtexec', FAKE_TRTEXEC, '--out', out]);
    expect(again.code).toBe(0);
    const qps = manifest.engines['unet.int8']!.performance!.throughputQps!.toFixed(1);
    expect(again.stdout).toContain(`${path.join(out, 'unet.int8.plan')}  reused\n  built in `);
    expect(again.stdout).toMatch(new RegExp(`unet\\.int8\\.plan  reused\\n.*, ${qps} qps, GPU compute mean [\\d.]+ ms`));
  });

  it('FP16 from the INT8 dir: never the QDQ model; 10.x the FP32 export with --fp16, 11.x the FP16 model', async () => {
    const r = await runSdq(['build', int8, '--precision', 'fp16', '--dry-run', '--trt-version', version, '--json']);
    expect(r.code).toBe(0);
    const plans = (JSON.parse(r.stdout) as { plans: { component: string; onnx: string; argv: string[] }[] }).plans;
    // 10.x: FP32 models, the INT8 dir's own FP32 text encoder and VAE decoder (copies of the export's) and the export's UNet
    const fp32 = (c: string) => path.join(c === 'unet' ? model : int8, c, 'model.onnx');
    expect(plans.map((p) => p.onnx)).toEqual(['text_encoder', 'unet', 'vae_decoder'].map((c) => (strong ? path.join(fp16, c, 'model.onnx') : fp32(c))));
    expect(plans.every((p) => p.argv.includes('--fp16') === !strong)).toBe(true);
  });

  it('FP32 from the INT8 dir builds the FP32 export', async () => {
    const r = await runSdq(['build', int8, '--precision', 'fp32', '--dry-run', '--trt-version', version, '--json']);
    expect(r.code).toBe(0);
    const unet = (JSON.parse(r.stdout) as { plans: { component: string; onnx: string }[] }).plans.find((p) => p.component === 'unet')!;
    expect(unet.onnx).toBe(path.join(model, 'unet', 'model.onnx'));
  });

  it.each([
    // the onnxruntime layout of sdq quantize: passed over, with why and what to run
    [() => ortInt8, 'int8', /^sdq build: unet: .*an INT8 engine (builds from a QDQ \(INT8\) ONNX model|needs an INT8 ONNX model), and .*ort-int8 \(made by sdq quantize from .*tiny\) and .*tiny hold no INT8 unet model TensorRT can parse; .*ort-int8\/unet\/model\.onnx is for onnxruntime only \(uint8 Q\/DQ activations.*\): run "sdq calibrate .*tiny --out <calib dir>" and "sdq quantize .*tiny <int8 dir> --calibration <calib dir> --activations int8", then "sdq build <int8 dir> --precision int8"/],
    // an export sdq did not make has no INT8 model
    [() => model, 'int8', /^sdq build: unet: .*an INT8 engine (builds from a QDQ \(INT8\) ONNX model|needs an INT8 ONNX model), and .*tiny \(an export sdq did not make, read as FP32\) holds no INT8 unet model TensorRT can parse: run "sdq calibrate /],
  ])('%#: a precision no dir can give: one line naming the dir and what to run', async (dir, precision, message) => {
    const r = await runSdq(['build', dir(), '--precision', precision, '--dry-run', '--trt-version', version]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('bench\'s cache: FP16 builds from the export on 10.x, is refused on 11.x (its FP16 models are for onnxruntime); INT8 is refused', async () => {
    const fp16r = await runSdq(['build', path.join(benchCache, 'int8'), '--precision', 'fp16', '--dry-run', '--trt-version', version, '--json']);
    if (strong) {
      expect(fp16r.code).toBe(1);
      expect(fp16r.stderr).toMatch(/^sdq build: unet: .*bench-cache\/int8 \(made by sdq bench from .*tiny\), .*bench-cache\/fp16 and .*tiny hold no FP16 unet model TensorRT can parse; .*bench-cache\/fp16\/unet\/model\.onnx is for onnxruntime only \(attention fused into onnxruntime's com\.microsoft MultiHeadAttention\).*run "sdq convert /);
    } else {
      expect(fp16r.code).toBe(0);
      const unet = (JSON.parse(fp16r.stdout) as { plans: { component: string; onnx: string }[] }).plans.find((p) => p.component === 'unet')!;
      expect(unet.onnx).toBe(path.join(model, 'unet', 'model.onnx'));
    }
    const int8r = await runSdq(['build', path.join(benchCache, 'fp16'), '--precision', 'int8', '--dry-run', '--trt-version', version]);
    expect(int8r.code).toBe(1);
    expect(int8r.stderr).toMatch(/bench-cache\/int8\/unet\/model\.onnx is for onnxruntime only \(uint8 Q\/DQ activations.*--activations int8/);
  });

  if (strong) {
    it('FP16 on 11.x from a dir with no FP16 model anywhere: names the dir and says to run sdq convert', async () => {
      const r = await runSdq(['build', ortInt8, '--precision', 'fp16', '--dry-run', '--trt-version', version]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^sdq build: text_encoder: TensorRT 11\.1 takes precision only from the model's types, so an FP16 engine needs an FP16 ONNX model, and .*ort-int8 \(made by sdq quantize from .*tiny\) and .*tiny hold no FP16 text_encoder model TensorRT can parse: run "sdq convert .*tiny <fp16 dir> --to fp16", then "sdq build <fp16 dir> --precision fp16"\.$/m);
    });
  }
});
