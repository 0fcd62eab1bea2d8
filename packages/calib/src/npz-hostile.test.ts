import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { DataType, SdqError } from '@sdq/quant';
import { openNpz, readNpz, writeNpz } from './npz.js';
import { buildZip, deflatedBomb, npyHeader } from './testing/zip.js';
import type { ZipMemberSpec } from './testing/zip.js';

const MiB = 1024 * 1024;

async function npzFile(members: readonly ZipMemberSpec[]): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'sdq-npz-hostile-')), 'calib.npz');
  await writeFile(path, buildZip(members));
  return path;
}

/** A well-formed float32 member `name` of `count` values 0, 1, 2, ... */
function npyMember(fileName: string, count: number, method: 0 | 8 = 8): ZipMemberSpec {
  const npy = Buffer.concat([npyHeader([count]), Buffer.from(Float32Array.from({ length: count }, (_, i) => i).buffer)]);
  return { fileName, payload: method === 8 ? deflateRawSync(npy) : npy, method, size: npy.length, crc: crc32(npy) };
}

/** The error a read gives: an SdqError whose message names the archive. */
async function failure(path: string, read: (p: string) => Promise<unknown>): Promise<SdqError> {
  const error = await read(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SdqError);
  expect((error as SdqError).message).toContain(path);
  return error as SdqError;
}

describe('readNpz refuses hostile archives before they cost memory', () => {
  it('reads a well-formed hand-built archive (the builder itself is sound)', async () => {
    const path = await npzFile([npyMember('sample_0.npy', 6), npyMember('timestep_0.npy', 2, 0)]);
    const arrays = await readNpz(path);
    expect(Array.from(arrays.sample_0.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(arrays.timestep_0.type).toBe(DataType.FLOAT);
  });

  it('a member declaring 1 KiB that inflates to 1 GiB stops at the declared size (RSS stays bounded)', async () => {
    const head = npyHeader([224]); // 128-byte header + 224 float32 = 1024 bytes, what the zip declares
    const bomb = deflatedBomb(head, 1024);
    const path = await npzFile([{ fileName: 'sample_0.npy', payload: bomb.payload, method: 8, size: 1024, crc: 0 }]);
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const error = await failure(path, readNpz);
    expect(error.message).toMatch(/member 'sample_0' inflates past its declared 1024 bytes \(\d+ bytes \(1\.\d MiB\) compressed\): a compression bomb/);
    // Inflating it whole would add a GiB to the process's peak RSS; the bound keeps the growth to buffers of ~1 MiB.
    expect(process.resourceUsage().maxRSS * 1024 - peakBefore).toBeLessThan(256 * MiB);
  });

  it('the .npy header disagreeing with the zip size is refused before inflating', async () => {
    const bomb = deflatedBomb(npyHeader([224]), 64);
    const path = await npzFile([{ fileName: 'sample_0.npy', payload: bomb.payload, method: 8, size: 64 * MiB, crc: 0 }]);
    const error = await failure(path, readNpz);
    expect(error.message).toMatch(/\.npy header \(shape \[224\] float32\) makes 1024 bytes but the zip directory declares 67108864 bytes \(64\.0 MiB\)/);
  });

  it('a declared size over the limit is refused before reading data, naming the sizes and the limit', async () => {
    const count = 2 * MiB; // 8 MiB of float32, declared honestly; the data itself is cut short
    const head = npyHeader([count]);
    const path = await npzFile([{ fileName: 'big.npy', payload: deflateRawSync(head), method: 8, size: head.length + 4 * count, crc: 0 }]);
    const error = await failure(path, (p) => readNpz(p, { maxArrayBytes: 4 * MiB }));
    expect(error.message).toMatch(/member 'big' declares 8388736 bytes \(8\.0 MiB\) inflated .* over the 4194304 bytes \(4\.0 MiB\) limit/);
    // The default limit (1 GiB) reads the header, then finds the stream short of what it declared.
    expect((await failure(path, readNpz)).message).toMatch(/inflated to 128 bytes, 8388736 bytes \(8\.0 MiB\) declared/);
  });

  it('a local header that disagrees with the central directory is refused', async () => {
    const path = await npzFile([{ ...npyMember('sample_0.npy', 4), localSize: 4 * MiB }]);
    expect((await failure(path, readNpz)).message).toMatch(/local header declares 4194304 bytes .* the central directory 144 bytes/);
  });

  it('a compressed size that runs past the central directory is refused before allocating it', async () => {
    const member = npyMember('sample_0.npy', 4);
    const zip = buildZip([member]);
    new DataView(zip.buffer, zip.byteOffset).setUint32(30 + 'sample_0.npy'.length + member.payload.length + 20, 0x7fffffff, true);
    const path = join(await mkdtemp(join(tmpdir(), 'sdq-npz-hostile-')), 'calib.npz');
    await writeFile(path, zip);
    expect((await failure(path, readNpz)).message).toMatch(/member 'sample_0' claims 2147483647 compressed bytes .* does not fit before the central directory/);
  });

  it('a CRC mismatch is refused', async () => {
    const path = await npzFile([{ ...npyMember('sample_0.npy', 4), crc: 1234 }]);
    expect((await failure(path, readNpz)).message).toMatch(/member 'sample_0': CRC-32 mismatch/);
  });

  it.each([['../../evil.npy'], ['/etc/passwd.npy'], ['dir/sample_0.npy'], ['.hidden.npy'], ['a..b.npy'], ['sample 0.npy'], ['C:\\x.npy']])(
    'member name %s is refused when the archive is opened',
    async (fileName) => {
      const path = await npzFile([npyMember('sample_0.npy', 4), npyMember(fileName, 4)]);
      const error = await failure(path, openNpz);
      expect(error.message).toContain(`member ${JSON.stringify(fileName)} is not a plain array name`);
    },
  );

  it('accepts identifiers with dots, and the writer refuses what the reader would', async () => {
    const path = await npzFile([npyMember('unet.sample_0.npy', 2), npyMember('arr_0.npy', 2)]);
    expect(Object.keys(await readNpz(path))).toEqual(['unet.sample_0', 'arr_0']);
    const t = { type: DataType.FLOAT, dims: [1], data: Float32Array.from([1]) };
    await expect(writeNpz(join(await mkdtemp(join(tmpdir(), 'sdq-npz-')), 'x.npz'), { '../x': t })).rejects.toThrow(/array name "\.\.\/x" is not letters, digits/);
  });
});
