// The model dir's identity: the bytes' sha256, remembered across runs through the store while no file changed.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createModelHasher } from './model-hash.js';
import { openShardStore } from './store.js';

let work: string;
beforeEach(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-model-hash-'));
  await fs.mkdir(path.join(work, 'model/unet'), { recursive: true });
  await fs.writeFile(path.join(work, 'model/model_index.json'), '{"_class_name": "StableDiffusionPipeline"}');
  await fs.writeFile(path.join(work, 'model/unet/model.onnx'), Buffer.from([1, 2, 3, 4]));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** sha256 over each file's relative path (sorted, NUL after it) and bytes: the definition the workers share. */
function expectedHash(files: [string, Buffer | string][]): string {
  const h = createHash('sha256');
  for (const [name, bytes] of files) h.update(`${name}\0`).update(bytes);
  return h.digest('hex');
}

describe('createModelHasher', () => {
  it('hashes every file with its relative path, in name order', async () => {
    const hash = await createModelHasher()(path.join(work, 'model'));
    expect(hash).toBe(expectedHash([['model_index.json', '{"_class_name": "StableDiffusionPipeline"}'], [path.join('unet', 'model.onnx'), Buffer.from([1, 2, 3, 4])]]));
  });

  it('a new process (a new hasher) takes the hash from the store while no file changed, and hashes again once one did', async () => {
    const dir = path.join(work, 'model');
    const store = openShardStore(path.join(work, 'store'));
    const first = await createModelHasher(store)(dir);
    const [remembered] = (await fs.readdir(path.join(work, 'store'))).filter((f) => f.startsWith('model-dir-'));
    const file = path.join(work, 'store', remembered);
    // Mark the stored hash: a hasher that returns the mark read it from the store instead of the bytes.
    const entry = JSON.parse(await fs.readFile(file, 'utf8')) as { stamp: string; hash: string };
    await fs.writeFile(file, JSON.stringify({ ...entry, hash: 'remembered' }));
    expect(await createModelHasher(store)(dir)).toBe('remembered');

    await fs.writeFile(path.join(dir, 'unet/model.onnx'), Buffer.from([1, 2, 3, 5])); // same size, new bytes
    const changed = await createModelHasher(store)(dir);
    expect(changed).not.toBe('remembered');
    expect(changed).not.toBe(first);
    expect(changed).toBe(await createModelHasher()(dir));
  });
});
