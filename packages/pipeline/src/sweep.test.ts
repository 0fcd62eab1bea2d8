import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSweep, readSweepFile } from './sweep-file.js';
import { planSweep, resolveSweep, runSweep, writeSweepReport, sweepInt8Folder, sweepInt8Recipe } from './sweep.js';
import { compareImages } from './compare.js';
import { readMadeFrom } from './freshness.js';
import { tableHeader, tableRows } from './report/rows.js';

const TINY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models/tiny-sd');
const FILE = '/sweeps/sweep.json';
const DEFAULTS = { prompt: 'a cat on a sofa', guidance: 7.5, steps: 25, threads: 1 };

describe('sweep.json', () => {
  it.each([
    [[], /sweep\.json: "" must be a JSON object, got \[\]/],
    [{ precision: ['fp32'] }, /sweep\.json: "precision" is not a sweep key; known keys: model, prompt, .*precisions/],
    [{ precisions: [] }, /"precisions" must be a non-empty list, got \[\]/],
    [{ precisions: ['fp32', 'fp8'] }, /"precisions\[1\]" must be one of fp32, fp16, int8, got "fp8"/],
    [{ precisions: ['fp32', 'fp32'] }, /"precisions\[1\]" repeats "fp32"; list each value once/],
    [{ steps: [4, 0] }, /"steps\[1\]" must be an integer >= 1, got 0/],
    [{ sizes: ['64'] }, /"sizes\[0\]" must be "WIDTHxHEIGHT" \(e\.g\. "512x512"\), got "64"/],
    [{ schedulers: ['ddim', 'warp'] }, /"schedulers\[1\]" must be one of ddim, .*got "warp"/],
    [{ recipes: [{ method: 'minmax' }] }, /"recipes\[0\]\.name" is required/],
    [{ recipes: [{ name: 'a b' }] }, /"recipes\[0\]\.name" may hold letters, digits/],
    [{ recipes: [{ name: 'a', percentile: 101 }] }, /"recipes\[0\]\.percentile" must be a number above 0 and at most 100/],
    [{ recipes: [{ name: 'a', method: 'minmax', percentile: 99 }] }, /"recipes\[0\]\.percentile" applies to method "percentile" only \(this recipe's method is "minmax"\)/],
    [{ recipes: [{ name: 'a', keepfloat: ['MatMul'] }] }, /"recipes\[0\]\.keepfloat" is not a sweep key; known keys: name, method, percentile, keepFloat/],
    [{ recipes: [{ name: 'a' }, { name: 'a', method: 'minmax' }] }, /"recipes\[1\]" repeats "a"/],
    [{ precisions: ['fp32'], recipes: [{ name: 'a' }] }, /"recipes" are INT8 recipes, but "precisions" has no "int8"/],
    [{ device: 'cuda', recipes: [{ name: 'a' }] }, /"recipes" are calibrated INT8 recipes for the CPU; on cuda/],
    [{ runs: 1.5 }, /"runs" must be an integer >= 1, got 1\.5/],
  ])('%j is refused naming the file and the key', (value, message) => {
    expect(() => parseSweep(value, FILE)).toThrow(message);
    expect(() => parseSweep(value, FILE)).toThrow(/^\/sweeps\/sweep\.json: .*; see "sweep\.json" in docs\/cli\.md$/);
  });

  it('reads every key, paths from the file\'s folder', () => {
    const spec = parseSweep({
      model: '../models/tiny', prompt: 'p', seed: 3, runs: 2, warmup: 0, threads: 1, calibrationPrompts: 'prompts.txt',
      precisions: ['fp32', 'int8'], recipes: [{ name: 'p99.9', method: 'percentile', percentile: 99.9, keepFloat: ['MatMul'], activations: 'int8', samples: 2, calibrationSteps: 2 }],
      schedulers: ['ddim', 'euler'], steps: [2, 4], sizes: ['64x64'],
    }, FILE);
    expect(spec).toEqual({
      file: FILE, model: '/models/tiny', prompt: 'p', seed: 3, runs: 2, warmup: 0, threads: 1, calibrationPrompts: '/sweeps/prompts.txt',
      precisions: ['fp32', 'int8'], recipes: [{ name: 'p99.9', method: 'percentile', percentile: 99.9, keepFloat: ['MatMul'], activations: 'int8', samples: 2, calibrationSteps: 2 }],
      schedulers: ['ddim', 'euler'], steps: [2, 4], sizes: [{ width: 64, height: 64 }],
    });
    // precisions x recipes x schedulers x steps x sizes: (FP32 + 1 recipe) x 2 x 2 x 1
    expect(planSweep({ ...spec, precisions: spec.precisions!, recipes: spec.recipes!, schedulers: spec.schedulers!, steps: spec.steps!, sizes: spec.sizes! })).toHaveLength(8);
  });

  it('a missing or broken file, and a size the model cannot make, are one line naming the file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-sweep-file-'));
    try {
      await expect(readSweepFile(path.join(dir, 'none.json'))).rejects.toThrow(/sweep file .*none\.json does not exist; pass --sweep/);
      await fs.writeFile(path.join(dir, 'bad.json'), '{"precisions": [');
      await expect(readSweepFile(path.join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not JSON: /);
      const spec = parseSweep({ sizes: ['64x64', '72x64'] }, path.join(dir, 'sizes.json'));
      await expect(resolveSweep(spec, TINY, DEFAULTS)).rejects.toThrow(/sizes\.json: "sizes\[1\]" 72x64 does not fit tiny-sd: width and height must be multiples of/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('runSweep on tiny-sd (in process)', () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-sweep-'));
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it('one INT8 dir per distinct recipe; each cell compared with the FP32 cell of its scheduler and steps', async () => {
    // Two names for one recipe share its dir; the third recipe gets its own.
    const recipes = [
      { name: 'mm', method: 'minmax', samples: 2, calibrationSteps: 2 },
      { name: 'mm-again', method: 'minmax', samples: 2, calibrationSteps: 2 },
      { name: 'p99', method: 'percentile', percentile: 99, keepFloat: ['MatMul'], samples: 2, calibrationSteps: 2 },
    ];
    const spec = parseSweep({ precisions: ['fp32', 'int8'], recipes, steps: [2], schedulers: ['ddim'], sizes: ['64x64'], runs: 1, warmup: 0 }, path.join(work, 'sweep.json'));
    const sweep = await resolveSweep(spec, TINY, DEFAULTS);
    const cache = path.join(work, 'cache');
    const outcome = await runSweep(sweep, { cacheDir: cache });
    const rows = outcome.report.precisions;
    expect(rows.map((r) => [r.precision, r.cell?.recipe])).toEqual([['fp32', null], ['int8', 'mm'], ['int8', 'mm-again'], ['int8', 'p99']]);
    expect((await fs.readdir(cache)).sort()).toEqual([sweepInt8Folder(sweepInt8Recipe(sweep.recipes[0], sweep)), sweepInt8Folder(sweepInt8Recipe(sweep.recipes[2], sweep))].sort());
    expect(rows[1].modelDir).toBe(rows[2].modelDir);
    expect(rows[3].modelDir).not.toBe(rows[1].modelDir);
    // The made dir's stamp carries the recipe: percentile 99, MatMul kept in float, calibrated at the sweep's size.
    expect((await readMadeFrom(rows[3].modelDir))?.recipe).toMatchObject({ int8: { method: 'percentile', percentile: 99, exclude: ['MatMul'], size: { width: 64, height: 64 } } });
    // The report of `sdq bench` plus `sweep`; the header's steps/scheduler/size are the first cell's.
    expect(Object.keys(outcome.report).sort()).toEqual([
      'createdAt', 'guidance', 'height', 'machine', 'model', 'negativePrompt', 'notes', 'precisions', 'prompt', 'runs', 'scheduler', 'seed', 'steps', 'sweep', 'threads', 'tool', 'totalMs', 'warmup', 'width',
    ]);
    expect(outcome.report.sweep).toEqual({ file: path.join(work, 'sweep.json'), cells: 4, axes: { precisions: ['fp32', 'int8'], recipes: ['mm', 'mm-again', 'p99'], schedulers: ['ddim'], steps: [2], sizes: ['64x64'] } });
    expect(rows[0].quality).toBeNull();
    expect(rows[0].speedup).toBe(1);
    for (const i of [1, 2, 3]) expect(rows[i].quality).toEqual(compareImages(outcome.images[i], outcome.images[0]));
    // Same recipe, same dir, same seed: the same image.
    expect(outcome.images[2].data).toEqual(outcome.images[1].data);
    expect(tableHeader(outcome.report).slice(0, 6)).toEqual(['precision', 'recipe', 'scheduler', 'steps', 'image', 'mean ms']);
    expect(tableRows(outcome.report).map((r) => r.slice(0, 5))).toEqual([
      ['FP32', '-', 'ddim', '2', '64x64'], ['INT8', 'mm', 'ddim', '2', '64x64'], ['INT8', 'mm-again', 'ddim', '2', '64x64'], ['INT8', 'p99', 'ddim', '2', '64x64'],
    ]);

    const written = await writeSweepReport(path.join(work, 'report'), outcome);
    const html = await fs.readFile(written.html, 'utf8');
    expect(html).toContain('<th>recipe</th><th>scheduler</th><th>steps</th><th>image</th>');
    expect(html).toContain('INT8 p99 ddim 2 64x64');
    expect((await fs.readdir(path.join(work, 'report'))).filter((f) => f.endsWith('.png'))).toHaveLength(4);
  });
});
