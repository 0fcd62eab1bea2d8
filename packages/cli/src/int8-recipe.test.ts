// The CLI's INT8 is the recipe's INT8: `sdq calibrate` + `sdq quantize` with their defaults reach the UNet that
// `sdq bench` makes (quantizeModelDir), measured side by side on held-out shapes-sd UNet inputs; on an SDXL dir both
// apply the SDXL recipe (tiny-sdxl).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { sqnr } from '@sdq/quant';
import { npzSampleSource } from '@sdq/calib';
import { readModel, type ModelProto } from '@sdq/onnx';
import { captureCalibrationSet, quantizeModelDir } from '@sdq/pipeline';
import { runSdq } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shapes = path.join(root, 'fixtures/models/shapes-sd');
const tinySdxl = path.join(root, 'fixtures/models/tiny-sdxl');
/** Prompts and seeds no calibration uses (the recipe's prompts skip the fidelity set; these are outside both). */
const HELD_OUT = ['a green triangle on a white background', 'a orange square on a blue background', 'a white circle on a purple background', 'a red triangle on a yellow background'];
// Small enough for CI, the same for both paths. SDQ_INT8_RECIPE_FULL=1 runs both at the recipe's full defaults (no
// --steps/--samples) on 10-step held-out generations: the docs/results.md numbers.
const FULL = process.env.SDQ_INT8_RECIPE_FULL === '1';
const STEPS = FULL ? 10 : 4;
const SAMPLES = FULL ? 40 : 16;
const sizeFlags = FULL ? [] : ['--steps', String(STEPS), '--samples', String(SAMPLES)];

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-int8-recipe-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** The UNet's outputs over every feed, concatenated (SQNR over all sets together, as docs/calibration.md). */
async function unetOutputs(unet: string, feeds: readonly Record<string, ort.Tensor>[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(unet, { intraOpNumThreads: 2, logSeverityLevel: 3 });
  const parts: Float32Array[] = [];
  for (const f of feeds) parts.push((await session.run(f))[session.outputNames[0]!]!.data as Float32Array);
  await session.release();
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

async function heldOutFeeds(): Promise<Record<string, ort.Tensor>[]> {
  const npz = path.join(work, 'held-out.npz');
  await captureCalibrationSet(shapes, npz, { prompts: HELD_OUT, steps: STEPS, guidance: 5, samples: 4 * STEPS, seed: 1000, width: 128, height: 128, threads: 2 });
  const source = await npzSampleSource(npz);
  const feeds: Record<string, ort.Tensor>[] = [];
  for (let i = 0; i < source.count; i++) {
    const sample = await source.load(i);
    feeds.push(Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, new ort.Tensor('float32', v.data as Float32Array, [...v.dims])])));
  }
  await source.close?.();
  return feeds;
}

describe('sdq calibrate + sdq quantize with their defaults = the INT8 recipe (shapes-sd)', () => {
  it('reach the recipe UNet\'s SQNR against the FP32 UNet on held-out inputs', async () => {
    const calib = path.join(work, 'calib');
    const c = await runSdq(['calibrate', shapes, '--out', calib, ...sizeFlags, '--json']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ ok: true, method: 'percentile', prompts: 8, generations: 8, sets: SAMPLES });
    const cli = path.join(work, 'cli-int8');
    const q = await runSdq(['quantize', shapes, cli, '--calibration', calib]);
    expect(q.code).toBe(0);

    const recipe = await quantizeModelDir(shapes, path.join(work, 'bench-cache'), { precisions: ['int8'], int8: FULL ? {} : { steps: STEPS, samples: SAMPLES } });

    const feeds = await heldOutFeeds();
    expect(feeds).toHaveLength(4 * STEPS);
    const reference = await unetOutputs(path.join(shapes, 'unet', 'model.onnx'), feeds);
    const recipeDb = sqnr(reference, await unetOutputs(path.join(recipe.int8!, 'unet', 'model.onnx'), feeds));
    const cliDb = sqnr(reference, await unetOutputs(path.join(cli, 'unet', 'model.onnx'), feeds));
    process.stdout.write(`held-out SQNR vs FP32 UNet (${feeds.length} sets): recipe ${recipeDb.toFixed(2)} dB, sdq calibrate + sdq quantize ${cliDb.toFixed(2)} dB\n`);
    // Same capture, same ranges, same layout: the same model, so the same SQNR (not merely close to it).
    expect(cliDb).toBeGreaterThanOrEqual(recipeDb - 0.01);
    expect(recipeDb).toBeGreaterThan(0);
  });
});

/** Per Conv/MatMul with a weight: whether it reads a DequantizeLinear weight (quantized), and whether a QuantizeLinear reads its output. */
function quantizedLayers(model: ModelProto): Map<string, { quantized: boolean; outputQdq: boolean }> {
  const nodes = model.graph?.node ?? [];
  const producer = new Map(nodes.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
  const quantizeInputs = new Set(nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input[0]));
  const layers = new Map<string, { quantized: boolean; outputQdq: boolean }>();
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  for (const n of nodes) {
    if (n.opType !== 'Conv' && n.opType !== 'MatMul') continue;
    const quantized = producer.get(n.input[1]!) === 'DequantizeLinear';
    if (!quantized && !initializers.has(n.input[1]!)) continue; // attention's activation x activation MatMuls
    layers.set(n.name!, { quantized, outputQdq: quantizeInputs.has(n.output[0]!) });
  }
  return layers;
}

describe('sdq quantize on an SDXL dir applies the SDXL recipe, as sdq bench does (tiny-sdxl)', () => {
  it('keeps conv_in, conv_out and every conv_shortcut float, in the layout of the latents the model makes', async () => {
    const calib = path.join(work, 'sdxl-calib');
    expect((await runSdq(['calibrate', tinySdxl, '--out', calib, '--steps', '2', '--samples', '2', '--quiet'])).code).toBe(0);
    const cli = path.join(work, 'sdxl-cli-int8');
    const q = await runSdq(['quantize', tinySdxl, cli, '--calibration', calib, '--json']);
    expect(q.code).toBe(0);
    const layers = quantizedLayers(await readModel(path.join(cli, 'unet', 'model.onnx'), { externalData: 'lazy' }));
    const float = [...layers].filter(([, l]) => !l.quantized).map(([name]) => name.replace(/\d+/g, 'N'));
    expect([...new Set(float)].sort()).toEqual(['/m/conv_in/Conv', '/m/conv_out/Conv', '/m/down_blocks.N/resnets.N/conv_shortcut/Conv', '/m/up_blocks.N/resnets.N/conv_shortcut/Conv']);
    expect(JSON.parse(q.stdout)).toMatchObject({ quantizedNodes: layers.size - float.length, skippedNodes: float.length });
    // tiny-sdxl's sample_size is 16: the layout of 16x16 latents, Q/DQ on every quantized output (SDXL's 128 gets
    // the FAST layout, MatMul outputs float: int8.test.ts).
    for (const [name, l] of layers) if (l.quantized) expect([name, l.outputQdq]).toEqual([name, true]);

    // sdq bench's INT8 dir: the same layers quantized, the same layout.
    const bench = await quantizeModelDir(tinySdxl, path.join(work, 'sdxl-bench-cache'), { precisions: ['int8'], int8: { steps: 2, samples: 2 } });
    expect(quantizedLayers(await readModel(path.join(bench.int8!, 'unet', 'model.onnx'), { externalData: 'lazy' }))).toEqual(layers);
    expect(bench.notes.join('\n')).toMatch(/SDXL recipe: conv_shortcut and add_embedding float too/);
  });
});
