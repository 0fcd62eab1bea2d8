// Every writer in sdq puts its output at `<target>.tmp-<pid>` and renames it into place only when complete, so a
// run that dies midway (Ctrl-C, SIGTERM, SIGKILL, out of memory) leaves only those partial files behind. A signal
// handler cannot remove them: Node runs it only when the event loop turns, and fixture building, FP16 conversion and
// Q/DQ insertion hold the loop for seconds to minutes (a handler would make Ctrl-C wait for them). Instead each
// command starts a small detached watcher (this same executable, hidden argument) that waits for the sdq process to
// end, however it ends, and then removes that process's partial files under the places the command writes.
import { readdirSync, lstatSync, rmSync } from 'node:fs';
import * as path from 'node:path';

/** Hidden first argument of the watcher process: `sdq <WATCH_PARTIAL_OUTPUTS> <pid> <target>...`. */
export const WATCH_PARTIAL_OUTPUTS = '__remove-partial-outputs-after';

/** The suffix of one process's partial outputs (`<target>.tmp-<pid>`). */
export function partialSuffix(pid: number): string {
  return `.tmp-${pid}`;
}

/**
 * Remove `<root>*.tmp-<pid>` next to each root (a model file's `<root>.data.tmp-<pid>` weights too) and every
 * `*.tmp-<pid>` entry under it. Symlinks are not followed; other processes' partial files stay. Returns what it removed.
 */
export function removePartialOutputs(roots: Iterable<string>, pid: number): string[] {
  const suffix = partialSuffix(pid);
  const removed: string[] = [];
  const remove = (p: string): void => {
    rmSync(p, { recursive: true, force: true });
    removed.push(p);
  };
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return []; // gone, not a directory or unreadable: nothing of ours there
    }
  };
  const walk = (dir: string): void => {
    for (const e of list(dir)) {
      const p = path.join(dir, e.name);
      if (e.name.endsWith(suffix)) remove(p);
      else if (e.isDirectory()) walk(p);
    }
  };
  for (const root of new Set(roots)) {
    const base = path.basename(root);
    for (const e of list(path.dirname(root))) if (e.name.startsWith(base) && e.name.endsWith(suffix)) remove(path.join(path.dirname(root), e.name));
    if (isRealDirectory(root)) walk(root);
  }
  return removed;
}

function isRealDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether process `pid` still exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wait until process `pid` has ended (polling every `pollMs`), then remove its partial outputs under `roots`. */
export async function removePartialOutputsAfterExit(pid: number, roots: readonly string[], pollMs = 200): Promise<string[]> {
  while (isProcessAlive(pid)) await new Promise((r) => setTimeout(r, pollMs));
  return removePartialOutputs(roots, pid);
}
