import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, readModel, tensorFromTypedArray } from '@sdq/onnx';
import { SdqError } from '@sdq/quant';
import { buildEngines, hashOnnxSource, readEngineManifest } from './build.js';
import { modelInputsFromModel } from './model-inputs.js';
import { planEngines, type ComponentModels } from './plan.js';
import { detectTrtexecVersion, resolveTrtexec, runTrtexec, TrtexecError, type TrtexecLine } from './run.js';
import { FAKE_TRTEXEC, FIXTURES_DIR } from './testing/paths.js';
import { qdqConv } from './testing/qdq-model.js';

// Every test here runs the real code path (spawn, streaming, log parsing, errors) against test/fake-trtexec.mjs,
// a STAND-IN for NVIDIA's trtexec: no TensorRT exists on this machine, so no real engine is ever built here.

let work: string;
let unetOnnx: string;
let unet: ComponentModels;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sdq-trt-'));
  // A private copy of tiny-sd's UNet (graph + external weights.pb) so the tests can change its bytes.
  const dir = join(work, 'tiny-sd/unet');
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.onnx', 'weights.pb']) copyFileSync(join(FIXTURES_DIR, 'models/tiny-sd/unet', f), join(dir, f));
  unetOnnx = join(dir, 'model.onnx');
  const model = await readModel(unetOnnx, { externalData: 'lazy' });
  unet = { component: 'unet', inputs: modelInputsFromModel(model), onnx: { fp32: unetOnnx, fp16: unetOnnx, int8: unetOnnx } };
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const envFor = (version: string, scenario = 'success'): NodeJS.ProcessEnv => ({
  ...process.env,
  FAKE_TRTEXEC_VERSION: version,
  FAKE_TRTEXEC_SCENARIO: scenario,
  FAKE_TRTEXEC_GPU: 'NVIDIA A10G',
});

function planFor(version: string, outDir: string, precision: 'fp32' | 'fp16' | 'int8' = 'fp16') {
  return planEngines({ trtVersion: version, components: [unet], precisions: [precision], outDir })[0];
}

async function failure(p: Promise<unknown>): Promise<SdqError> {
  try {
    await p;
  } catch (e) {
    return e as SdqError;
  }
  throw new Error('expected the promise to reject');
}

describe('runTrtexec against the stand-in trtexec', () => {
  it.each(['8.6.1', '10.16.0', '11.1.0'])('builds with the plan for TensorRT %s: engine written, progress streamed, log parsed', async (version) => {
    const out = join(work, `ok-${version}`);
    mkdirSync(out, { recursive: true });
    const plan = planFor(version, out);
    const lines: TrtexecLine[] = [];
    const run = await runTrtexec([...plan.argv, '--verbose'], { trtexec: FAKE_TRTEXEC, env: envFor(version), label: 'unet FP16', onLine: (l) => lines.push(l) });
    expect(existsSync(plan.engine)).toBe(true);
    expect(lines.some((l) => l.text.includes('Engine built in'))).toBe(true);
    expect(lines.find((l) => l.text.includes('Selected Device'))?.severity).toBe('I');
    expect(lines.filter((l) => l.severity === 'V')).toHaveLength(5); // --verbose lines are streamed...
    expect(run.output).not.toContain('[V]'); // ...but not kept
    const log = run.log;
    expect(log.result).toBe('PASSED');
    const [major, minor, patch] = version.split('.').map(Number);
    expect(log.version).toEqual({ major, minor, patch });
    expect(log.gpu?.name).toBe('NVIDIA A10G');
    expect(log.precision).toBe(version.startsWith('11') ? 'Strongly Typed' : 'FP32+FP16');
    expect(log.buildTimeSec).toBeGreaterThan(0);
    expect(log.engineSizeMiB).toBeGreaterThan(0);
    expect(log.performance?.gpuComputeTimeMs?.percentiles['99']).toBeGreaterThan(0);
    expect(log.performance?.throughputQps).toBeGreaterThan(0);
    expect(log.errors).toEqual([]);
  });

  it('turns an ONNX parse failure into TOOL_FAILED naming the component with the [E] lines only', async () => {
    const out = join(work, 'parse');
    mkdirSync(out, { recursive: true });
    const err = await failure(runTrtexec(planFor('10.16.0', out).argv, { trtexec: FAKE_TRTEXEC, env: envFor('10.16.0', 'parse-failure'), label: 'unet FP16' }));
    expect(err).toBeInstanceOf(TrtexecError);
    expect(err.code).toBe('TOOL_FAILED');
    expect(err.message).toMatch(/^trtexec failed building unet FP16: it exited with code 1\./);
    expect(err.message).toContain('While parsing node number 3 [FancyAttention');
    expect(err.message).toContain('Plugin not found');
    expect(err.message).toContain('Failed to parse onnx file');
    expect(err.message).toMatch(/lintForTensorRT/);
    expect(err.message).not.toContain('Selected Device'); // no info dump
    expect(err.message).not.toContain('Input filename');
    expect((err as TrtexecError).log.result).toBe('FAILED');
  });

  it('turns an out-of-memory build into TOOL_FAILED with the OOM lines and what to lower', async () => {
    const out = join(work, 'oom');
    mkdirSync(out, { recursive: true });
    const err = await failure(runTrtexec(planFor('11.1.0', out).argv, { trtexec: FAKE_TRTEXEC, env: envFor('11.1.0', 'oom'), label: 'unet FP16' }));
    expect(err.code).toBe('TOOL_FAILED');
    expect(err.message).toContain('Error Code 2: OutOfMemory');
    expect(err.message).toContain('Could not find any implementation for node');
    expect(err.message).toMatch(/ran out of memory.*max shapes.*--memPoolSize/);
    expect(err.message).not.toContain('Requested amount of GPU memory'); // a [W] line, not an [E] line
  });

  it('reports a flag the installed version does not have (a 10.x plan run on TensorRT 11.1)', async () => {
    const out = join(work, 'flags');
    mkdirSync(out, { recursive: true });
    const err = await failure(runTrtexec(planFor('10.16', out).argv, { trtexec: FAKE_TRTEXEC, env: envFor('11.1.0'), label: 'unet FP16' }));
    expect(err.code).toBe('TOOL_FAILED');
    expect(err.message).toContain('Unknown option: --fp16');
    expect(err.message).toContain("TensorRT 11.1's trtexec does not take --fp16: plan for the installed version (--trt-version 11.1");
    expect(err.message).not.toContain('Model Options'); // the help dump trtexec prints is left out
    expect(existsSync(join(out, 'unet.fp16.plan'))).toBe(false);
  });

  it('the stand-in accepts every flag of a TensorRT 11.1 plan and rejects --calib there', async () => {
    const out = join(work, 'calib11');
    mkdirSync(out, { recursive: true });
    const argv = [...planFor('11.1', out, 'int8').argv, '--calib=x.cache'];
    const err = await failure(runTrtexec(argv, { trtexec: FAKE_TRTEXEC, env: envFor('11.1.0') }));
    expect(err.message).toContain('Unknown option: --calib x.cache');
    expect(err.message).toContain(`trtexec failed building the engine for ${unetOnnx}:`);
  });

  it('TOOL_MISSING when trtexec is nowhere, saying what to install, --trtexec, and --dry-run', async () => {
    const env = { PATH: join(work, 'empty-bin') };
    const err = await failure(runTrtexec(['--help'], { env }));
    expect(err.code).toBe('TOOL_MISSING');
    expect(err.message).toMatch(/Install TensorRT 10\.x or 11\.x/);
    expect(err.message).toContain('--trtexec /path/to/trtexec');
    expect(err.message).toContain('TRTEXEC=');
    expect(err.message).toContain('--dry-run');
    const explicit = await failure(runTrtexec(['--help'], { trtexec: join(work, 'no-such-trtexec'), env }));
    expect(explicit.code).toBe('TOOL_MISSING');
    expect(explicit.message).toContain('no-such-trtexec');
  });

  it('finds trtexec through TRTEXEC and through PATH', async () => {
    expect(await resolveTrtexec(undefined, { TRTEXEC: FAKE_TRTEXEC })).toBe(FAKE_TRTEXEC);
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(FAKE_TRTEXEC, join(bin, 'trtexec'));
    writeFileSync(join(bin, 'trtexec-flags.json'), readFileSync(join(FAKE_TRTEXEC, '../trtexec-flags.json')));
    expect(await resolveTrtexec(undefined, { PATH: bin })).toBe(join(bin, 'trtexec'));
    const PATH = `${bin}:${process.env.PATH ?? ''}`; // the stand-in itself needs node from PATH
    expect(await detectTrtexecVersion({ env: { ...envFor('11.1.0'), PATH, TRTEXEC: '' } })).toEqual({ major: 11, minor: 1, patch: 0 });
  });
});

describe('buildEngines against the stand-in trtexec', () => {
  it('builds, writes the manifest, reuses fresh engines and rebuilds stale ones', async () => {
    const out = join(work, 'engines');
    const argsLog = join(work, 'args.jsonl');
    const env = { ...envFor('10.16.0'), FAKE_TRTEXEC_ARGS_LOG: argsLog };
    const options = { trtexec: FAKE_TRTEXEC, env, components: [unet], precisions: ['fp32', 'fp16'] as const, outDir: out };
    const first = await buildEngines({ ...options, precisions: [...options.precisions] });
    expect(first.trtVersion).toEqual({ major: 10, minor: 16, patch: 0 });
    expect(first.engines.map((e) => e.status)).toEqual(['built', 'built']);
    const manifest = await readEngineManifest(out);
    const entry = manifest.engines['unet.fp16'];
    expect(entry.trtVersion).toBe('10.16.0');
    expect(entry.trtVersionNumber).toBe(101600);
    expect(entry.gpu).toBe('NVIDIA A10G');
    expect(entry.precision).toBe('fp16');
    expect(entry.profiles.map((p) => p.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(entry.source.files.map((f) => f.path.split('/').pop())).toEqual(['model.onnx', 'weights.pb']);
    expect(entry.source.sha256).toBe((await hashOnnxSource(unetOnnx)).sha256);
    expect(entry.performance?.gpuComputeTimeMs?.mean).toBeGreaterThan(0);
    expect(readdirSync(out).sort()).toEqual(['engines.json', 'timing.cache', 'unet.fp16.plan', 'unet.fp32.plan']);
    // trtexec got the plan's argv, with the engine written under a temporary name first.
    const calls = readFileSync(argsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(calls[0]).toEqual(['--help']);
    expect(calls[2]).toEqual(first.engines[1].plan.argv.map((a) => (a.startsWith('--saveEngine=') ? `${a}.tmp-${process.pid}` : a)));

    const second = await buildEngines({ ...options, precisions: [...options.precisions] });
    expect(second.engines.map((e) => e.status)).toEqual(['reused', 'reused']);

    // One byte of the external weights changes: both engines are stale.
    const weights = join(unetOnnx, '../weights.pb');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(weights, bytes);
    const third = await buildEngines({ ...options, precisions: [...options.precisions] });
    expect(third.engines.map((e) => e.status)).toEqual(['built', 'built']);
    expect(third.engines[0].reason).toMatch(/changed/);

    // Changed build options (opt level) rebuild too.
    const fourth = await buildEngines({ ...options, precisions: ['fp16'], builderOptimizationLevel: 5 });
    expect(fourth.engines[0].status).toBe('built');
    expect(fourth.engines[0].reason).toBe('build options changed');
  });

  it('leaves no half-written engine when the build runs out of memory', async () => {
    const out = join(work, 'engines-oom');
    const err = await failure(buildEngines({ trtexec: FAKE_TRTEXEC, env: envFor('11.1.0', 'oom'), components: [unet], precisions: ['fp16'], outDir: out }));
    expect(err.code).toBe('TOOL_FAILED');
    expect(err.message).toContain('unet FP16');
    expect(readdirSync(out)).toEqual([]);
  });

  it('lints each model before building: errors stop the build before trtexec runs, unless lint is warn', async () => {
    const file = join(work, 'u8-conv.onnx');
    writeFileSync(file, encodeModel(qdqConv({ xZp: tensorFromTypedArray('x_zp', [], new Uint8Array([128])) })));
    const conv: ComponentModels = {
      component: 'unet',
      inputs: [{ name: 'x', elemType: 1, dims: ['batch', 4, 8, 8] }],
      onnx: { int8: file },
    };
    const target = { overrides: { x: { min: [1, 4, 8, 8], opt: [2, 4, 8, 8], max: [4, 4, 8, 8] } } };
    const argsLog = join(work, 'lint-args.jsonl');
    const env = { ...envFor('11.1.0'), FAKE_TRTEXEC_ARGS_LOG: argsLog };
    const err = await failure(buildEngines({ trtexec: FAKE_TRTEXEC, env, components: [conv], precisions: ['int8'], outDir: join(work, 'lint'), target }));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain(`unet INT8: ${file} has 4 TensorRT compatibility error(s)`);
    expect(err.message).toContain('QDQ_NONZERO_ZERO_POINT [x_q]');
    expect(readFileSync(argsLog, 'utf8').trim().split('\n')).toEqual(['["--help"]']); // only the version check ran
    const seen: string[] = [];
    const ok = await buildEngines({ trtexec: FAKE_TRTEXEC, env, components: [conv], precisions: ['int8'], outDir: join(work, 'lint'), target, lint: 'warn', onLint: (_p, f) => seen.push(...f.map((x) => x.code)) });
    expect(ok.engines[0].status).toBe('built');
    expect(seen).toEqual(['QDQ_UINT8', 'QDQ_NONZERO_ZERO_POINT', 'QDQ_UINT8', 'QDQ_NONZERO_ZERO_POINT']);
    expect(ok.engines[0].lint).toHaveLength(4);
  });

  it('refuses a --trt-version that does not match the installed trtexec', async () => {
    const err = await failure(buildEngines({ trtVersion: '10.16', trtexec: FAKE_TRTEXEC, env: envFor('11.1.0'), components: [unet], precisions: ['fp16'], outDir: join(work, 'x') }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('TensorRT 11.1.0');
  });

  it('needs the calibration cache to exist before an INT8 calibration-cache build', async () => {
    const c = { ...unet, calibrationCache: join(work, 'missing.cache') };
    const err = await failure(buildEngines({ trtexec: FAKE_TRTEXEC, env: envFor('10.16.0'), int8Source: 'calibration-cache', components: [c], precisions: ['int8'], outDir: join(work, 'y') }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(/random data/);
  });
});
