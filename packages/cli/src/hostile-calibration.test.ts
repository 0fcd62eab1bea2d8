// Hostile calibration archives through the CLI: `sdq quantize --calibration <npz>` answers with one line naming the
// file and the sizes or the member, exit 1, no stack trace, and leaves no output behind.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpz } from '@sdq/calib';
import { DataType } from '@sdq/quant';
import { runSdq } from './testing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tiny = path.join(root, 'fixtures/models/tiny-sd');

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-cli-hostile-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A stored .npz of one tiny-sd UNet input set, then `patch` applied to its bytes (a valid archive made hostile). */
async function patchedNpz(name: string, patch: (bytes: Buffer) => void): Promise<string> {
  const file = path.join(work, name);
  const f32 = (dims: number[]): { type: DataType; dims: number[]; data: Float32Array } => ({ type: DataType.FLOAT, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
  await writeNpz(file, { sample_0: f32([1, 4, 8, 8]), timestep_0: f32([1]), encoder_hidden_states_0: f32([1, 77, 32]), xx_evil_0: f32([1]) });
  const bytes = await fs.readFile(file);
  patch(bytes);
  await fs.writeFile(file, bytes);
  return file;
}

/** Replaces every occurrence of `from` by `to` (same length) in `bytes`. */
function replaceAll(bytes: Buffer, from: string, to: string): void {
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) bytes.write(to, at, 'latin1');
}

async function expectRefused(npz: string, pattern: RegExp): Promise<void> {
  const out = path.join(work, `int8-${path.basename(npz, '.npz')}`);
  const r = await runSdq(['quantize', tiny, out, '--calibration', npz]);
  expect(r.code).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0 && !/: (\d+ steps?\.\.\.|done \d+\/\d+)/.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(npz);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  await expect(fs.access(out)).rejects.toThrow();
}

describe('sdq quantize refuses hostile calibration archives', () => {
  it('a member named ../evil_0.npy', async () => {
    const npz = await patchedNpz('evil-name.npz', (b) => replaceAll(b, 'xx_evil_0.npy', '../evil_0.npy'));
    await expectRefused(npz, /member "\.\.\/evil_0\.npy" is not a plain array name/);
  });

  it('a stored member whose zip headers declare 3 GiB of data', async () => {
    // sample_0 is the first member: its local header starts at 0, its central entry follows every member's data
    const npz = await patchedNpz('huge.npz', (b) => {
      const central = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      b.writeUInt32LE(0xc0000000, 22);
      b.writeUInt32LE(0xc0000000, central + 24);
    });
    await expectRefused(npz, /member 'sample_0' is stored uncompressed but declares 3221225472 bytes \(3072\.0 MiB\) of data and 1152 bytes in the archive/);
  });
});
