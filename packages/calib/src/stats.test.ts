import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { collectRanges, groupTensors } from './stats.js';
import type { CalibrationMethod, RangesFile } from './stats.js';
import { openCalibrationData } from './reader.js';
import { FIXTURES } from './testing/paths.js';

// onnxruntime 1.30's MinMax and Entropy calibrators on the tiny UNet with its 8 input sets (every float tensor).
interface Reference { methods: Record<string, { ranges: Record<string, [number, number]> }> }
const reference = JSON.parse(await readFile(join(FIXTURES, 'quant/calibration-ranges.json'), 'utf8')) as Reference;
const MODEL = join(FIXTURES, 'models/tiny-sd/unet/model.onnx');
const INPUTS = join(FIXTURES, 'quant/unet_calibration_inputs.npz');

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

async function calibrate(method: CalibrationMethod): Promise<RangesFile> {
  const reader = await openCalibrationData(INPUTS);
  try {
    return await collectRanges(MODEL, reader, { method });
  } finally {
    await reader.close();
  }
}

describe.each([
  ['minmax', 1e-6],
  ['entropy', 1e-3],
] as const)('collectRanges %s on the tiny UNet matches onnxruntime', (method, tolerance) => {
  let got: RangesFile;
  beforeAll(async () => {
    got = await calibrate(method);
  });

  it('calibrates exactly the tensors onnxruntime calibrates', () => {
    expect(Object.keys(got.ranges).sort()).toEqual(Object.keys(reference.methods[method].ranges).sort());
    expect(got.batches).toBe(8);
    expect(got.method).toBe(method);
  });

  it(`every range is within ${tolerance} relative`, () => {
    const bad: string[] = [];
    for (const [name, [lo, hi]] of Object.entries(reference.methods[method].ranges)) {
      const [glo, ghi] = got.ranges[name];
      if (relErr(lo, glo) > tolerance || relErr(hi, ghi) > tolerance) bad.push(`${name}: [${glo}, ${ghi}] vs [${lo}, ${hi}]`);
    }
    expect(bad).toEqual([]);
  });
});

describe('collectRanges percentile', () => {
  it('gives the same ranges however many tensors or bytes one run exposes (memory caps)', async () => {
    const run = async (maxTensorsPerRun: number, maxBytesPerRun?: number): Promise<RangesFile> => {
      const reader = await openCalibrationData(INPUTS, { limit: 3 });
      try {
        return await collectRanges(MODEL, reader, { method: 'percentile', opTypes: ['Conv'], maxTensorsPerRun, maxBytesPerRun });
      } finally {
        await reader.close();
      }
    };
    const [one, many, byBytes] = [await run(10_000), await run(7), await run(10_000, 64 * 1024)];
    expect(Object.keys(one.ranges).length).toBeGreaterThan(7);
    expect(many.ranges).toEqual(one.ranges);
    expect(byBytes.ranges).toEqual(one.ranges);
    expect(one.options).toEqual({ numBins: 2048, percentile: 99.999, symmetric: true });
    // symmetric percentile: |x| histogram, then clamped to the observed [min, max] as onnxruntime does
    for (const [lo, hi] of Object.values(one.ranges)) expect(lo).toBeLessThanOrEqual(hi);
    // Three full collections, one of them a session per tensor: 34 s alone, over jest's 120 s default on a loaded 2-core machine.
  }, 300_000);
});

describe('groupTensors (tensors exposed per run)', () => {
  const size: Record<string, number> = { a: 10, b: 30, c: 100, d: 5, e: 5, f: 5 };
  it.each([
    [10, 1000, [['a', 'b', 'c', 'd', 'e', 'f']]],
    [2, 1000, [['a', 'b'], ['c', 'd'], ['e', 'f']]],
    [10, 40, [['a', 'b'], ['c'], ['d', 'e', 'f']]],
    [10, 1, [['a'], ['b'], ['c'], ['d'], ['e'], ['f']]],
  ])('at most %i tensors and %i bytes', (maxCount, maxBytes, expected) => {
    expect(groupTensors(Object.keys(size), (n) => size[n], maxCount, maxBytes)).toEqual(expected);
  });
  it('keeps every tensor once, in order, within both caps (a tensor over the byte cap alone)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 200 }), (sizes, maxCount, maxBytes) => {
        const names = sizes.map((_, i) => `t${i}`);
        const groups = groupTensors(names, (n) => sizes[Number(n.slice(1))], maxCount, maxBytes);
        expect(groups.flat()).toEqual(names);
        for (const g of groups) {
          expect(g.length).toBeGreaterThan(0);
          expect(g.length).toBeLessThanOrEqual(maxCount);
          const bytes = g.reduce((s, n) => s + sizes[Number(n.slice(1))], 0);
          if (g.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
        }
      }),
    );
  });
});
