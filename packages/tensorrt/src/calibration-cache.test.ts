import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  calibrationCacheFromRanges, formatCalibrationCache, hexToScale, parseCalibrationCache, readCalibrationCache, scaleToHex, writeCalibrationCache,
} from './calibration-cache.js';
import { FIXTURES_DIR } from './testing/paths.js';

const CACHE = 'TRT-8601-EntropyCalibration2\ninput_ids: 3c010a14\n/conv_in/Conv_output_0: 3d895e44\n(Unnamed Layer* 4) [Fully Connected]_output: 3d65992f\n';

describe('TensorRT calibration cache', () => {
  it('parses header and big-endian float32 scales', () => {
    const c = parseCalibrationCache(CACHE);
    expect(c.version).toBe('8601');
    expect(c.algorithm).toBe('EntropyCalibration2');
    expect(c.entries.map((e) => e.name)).toEqual(['input_ids', '/conv_in/Conv_output_0', '(Unnamed Layer* 4) [Fully Connected]_output']);
    expect(c.entries[0].scale).toBe((1 + 0x010a14 / 2 ** 23) * 2 ** -7); // 0x3c010a14: exponent 0x78 = 2^-7, mantissa 0x010a14
    expect(scaleToHex(1)).toBe('3f800000');
    expect(hexToScale('40000000')).toBe(2);
  });

  it('round-trips the bytes exactly', () => {
    expect(formatCalibrationCache(parseCalibrationCache(CACHE))).toBe(CACHE);
    const crlf = CACHE.replace(/\n/g, '\r\n').slice(0, -2); // CRLF, no final newline
    expect(formatCalibrationCache(parseCalibrationCache(crlf))).toBe(crlf);
  });

  it('round-trips any cache TensorRT could write (property)', () => {
    const name = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\r\n]/.test(s));
    const bits = fc.integer({ min: 0, max: 0x7f7fffff }); // finite, non-negative float32 bit patterns
    fc.assert(fc.property(fc.array(fc.tuple(name, bits), { maxLength: 20 }), fc.constantFrom('EntropyCalibration2', 'MinMaxCalibration'), (rows, algo) => {
      const text = [`TRT-101600-${algo}`, ...rows.map(([n, b]) => `${n}: ${b.toString(16).padStart(8, '0')}`)].join('\n') + '\n';
      expect(formatCalibrationCache(parseCalibrationCache(text))).toBe(text);
      expect(Buffer.from(formatCalibrationCache(parseCalibrationCache(Buffer.from(text)))).equals(Buffer.from(text))).toBe(true);
    }));
  });

  it.each([
    ['not a cache\n', /not a TensorRT calibration cache header/],
    ['TRT-8601-Foo\n', /algorithm "Foo"/],
    ['TRT-8601-EntropyCalibration2\nx 3f800000\n', /line 2/],
    ['TRT-8601-EntropyCalibration2\nx: 3F800000\n', /upper-case/],
    ['TRT-8601-EntropyCalibration2\nx: 7fc00000\n', /NaN/],
  ])('rejects %j', (text, message) => expect(() => parseCalibrationCache(text, 'c.cache')).toThrow(message));

  it('builds a cache from ranges: scale = max(|min|, |max|) / 127, header for the TensorRT version', () => {
    const c = calibrationCacheFromRanges({ sample: { min: -3.5, max: 2 }, t: { min: 0, max: 127 } }, { trtVersion: { major: 10, minor: 16, patch: 0 } });
    const text = formatCalibrationCache(c);
    expect(text).toBe(`TRT-101600-EntropyCalibration2\nsample: ${scaleToHex(3.5 / 127)}\nt: 3f800000\n`);
    const v = { major: 10, minor: 16, patch: 0 };
    expect(() => calibrationCacheFromRanges({ z: { min: 0, max: 0 } }, { trtVersion: v, zeroRange: 'error' })).toThrow(/positive scale/);
    const skipped: string[] = [];
    const fromTuples = calibrationCacheFromRanges(new Map([['z', { min: 0, max: 0 }], ['a', { min: -1, max: 0.5 }]]), { trtVersion: v, onSkip: (n) => skipped.push(n) });
    expect(fromTuples.entries).toEqual([{ name: 'a', scale: Math.fround(1 / 127) }]);
    expect(skipped).toEqual(['z']);
    expect(() => calibrationCacheFromRanges({ z: { min: 1, max: NaN } }, { trtVersion: { major: 10, minor: 16, patch: 0 } })).toThrow(/finite/);
  });

  it.each([
    ['10.16', 'TRT-101600-EntropyCalibration2'],
    ['8.6.1', 'TRT-8601-EntropyCalibration2'],
    ['v110100', 'TRT-110100-EntropyCalibration2'],
  ])('takes the TensorRT version as a string too: %s writes %s', (trtVersion, header) => {
    expect(formatCalibrationCache(calibrationCacheFromRanges({ a: { min: -1, max: 1 } }, { trtVersion })).split('\n')[0]).toBe(header);
  });

  it.each(['10.x', ''])('rejects the version string %j instead of writing a NaN header', (trtVersion) => {
    expect(() => calibrationCacheFromRanges({ a: { min: -1, max: 1 } }, { trtVersion })).toThrow(/TensorRT version/);
  });

  it('rejects a version object without integer fields', () => {
    const bad = JSON.parse('{"major":"10","minor":16}') as { major: number; minor: number; patch: number };
    expect(() => calibrationCacheFromRanges({ a: { min: -1, max: 1 } }, { trtVersion: bad })).toThrow(/integer major, minor and patch/);
  });

  it('converts the ranges of a real calibration (onnxruntime MinMax ranges of tiny-sd, [min, max] pairs)', () => {
    const file = JSON.parse(readFileSync(join(FIXTURES_DIR, 'quant/calibration-ranges.json'), 'utf8')) as { methods: { minmax: { ranges: Record<string, [number, number]> } } };
    const ranges = file.methods.minmax.ranges;
    const cache = calibrationCacheFromRanges(ranges, { trtVersion: { major: 10, minor: 16, patch: 0 } });
    const nonzero = Object.entries(ranges).filter(([, [a, b]]) => Math.max(Math.abs(a), Math.abs(b)) > 0);
    expect(cache.entries.map((e) => e.name)).toEqual(nonzero.map(([n]) => n));
    for (const e of cache.entries) {
      const [a, b] = ranges[e.name];
      expect(e.scale).toBe(Math.fround(Math.max(Math.abs(a), Math.abs(b)) / 127));
    }
    const text = formatCalibrationCache(cache);
    expect(formatCalibrationCache(parseCalibrationCache(text))).toBe(text);
  });

  it('writes atomically and reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdq-cache-'));
    try {
      const file = join(dir, 'unet.cache');
      await writeCalibrationCache(file, parseCalibrationCache(CACHE));
      expect(readFileSync(file, 'utf8')).toBe(CACHE);
      expect(readdirSync(dir)).toEqual(['unet.cache']);
      writeFileSync(join(dir, 'bad.cache'), Buffer.from([0xff, 0xfe]));
      await expect(readCalibrationCache(join(dir, 'bad.cache'))).rejects.toThrow(/not UTF-8/);
      await expect(readCalibrationCache(join(dir, 'none.cache'))).rejects.toThrow(/cannot read calibration cache/);
      expect((await readCalibrationCache(file)).entries).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
