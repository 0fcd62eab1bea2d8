// Atomic outputs: every file or directory sdq writes appears complete or not at all (temp name + rename).
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { SdqError } from '@sdq/quant';

/**
 * Temp sibling name for `target`: same directory (so rename is atomic), unique per process. `purpose` names a
 * work dir that is not itself renamed into place (`<target>.<purpose>.tmp-<pid>`). Every temp name ends in
 * `.tmp-<pid>`: that is what the sdq CLI's watcher removes when a run dies midway.
 */
export function tempSibling(target: string, purpose?: string): string {
  return `${target}${purpose ? `.${purpose}` : ''}.tmp-${process.pid}`;
}

/** Map a Node fs error on `target` to a one-line SdqError that says what to do. */
export function ioError(err: unknown, target: string, action: string): SdqError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'EACCES' || code === 'EPERM' ? 'permission denied; choose a writable location or fix its permissions'
    : code === 'ENOENT' ? 'a parent directory does not exist; create it first or choose another path'
    : code === 'ENOSPC' ? 'no space left on the device; free some space or choose another disk'
    : code === 'EROFS' ? 'the file system is read-only; choose a writable location'
    : code === 'ENOTDIR' || code === 'EEXIST' ? 'a parent of the path is a file, not a directory; choose another path'
    : code === 'EISDIR' ? 'it is a directory; pass a file path (e.g. inside that directory)'
    : `${code ?? 'unknown error'}: ${(err as Error | undefined)?.message ?? String(err)}`;
  return new SdqError('IO_ERROR', `cannot ${action} ${target}: ${why}`, { cause: err });
}

/**
 * Fail early, before any work, when `target`'s parent directory is not writable. Permission bits are not enough
 * (root passes every access check; /proc and /sys take no new files): a probe file is created there and removed.
 */
export async function assertWritableParent(target: string): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  try {
    const st = await fs.stat(parent);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await fs.access(parent, fsConstants.W_OK);
  } catch (err) {
    throw ioError(err, target, 'write');
  }
  const probe = tempSibling(path.resolve(target), 'probe');
  try {
    await (await fs.open(probe, 'wx')).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    // The parent exists (checked above): ENOENT here means its file system takes no new files.
    if (code === 'ENOENT') throw new SdqError('IO_ERROR', `cannot write ${target}: ${parent} does not accept new files (a virtual or special file system); choose another path`, { cause: err });
    throw ioError(err, target, 'write');
  }
  await fs.rm(probe, { force: true });
}

/**
 * Fail early when `target` cannot be written as a file: it is an existing directory (the error suggests
 * `<target>/<exampleName>`), or its parent is not writable.
 */
export async function ensureWritableFile(target: string, exampleName = 'image.png'): Promise<void> {
  const st = await fs.stat(target).catch(() => undefined);
  if (st?.isDirectory()) throw new SdqError('IO_ERROR', `cannot write ${target}: it is a directory; pass a file path such as ${path.join(target, exampleName)}`);
  await ensureWritableParent(target);
}

/** Create `target`'s parent directories if needed, then check it is writable (one-line IO_ERROR otherwise). */
export async function ensureWritableParent(target: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
  } catch (err) {
    throw ioError(err, target, 'write');
  }
  await assertWritableParent(target);
}

/** Write a file through a temp sibling + rename; the temp file is removed on failure. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(err, target, 'write');
  }
}

/**
 * Build a directory at a temp sibling with `fill`, then move it to `target` (replacing an older one).
 * On any failure the temp directory is removed and `target` is left as it was.
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const tmp = tempSibling(target);
  try {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
  } catch (err) {
    throw ioError(err, target, 'create');
  }
  try {
    const result = await fill(tmp);
    const old = `${target}.old-${process.pid}`;
    const existed = await exists(target);
    if (existed) await fs.rename(target, old);
    await fs.rename(tmp, target);
    if (existed) await fs.rm(old, { recursive: true, force: true });
    return result;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    // Only file-system failures are "cannot write"; anything else (a model that fails to load...) passes through.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (err instanceof SdqError || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw err;
    throw ioError(err, target, 'write');
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Total size in bytes of all files under `p` (a file or a directory). */
export async function sizeOnDisk(p: string): Promise<number> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of await fs.readdir(p, { withFileTypes: true })) {
    total += await sizeOnDisk(path.join(p, entry.name));
  }
  return total;
}
