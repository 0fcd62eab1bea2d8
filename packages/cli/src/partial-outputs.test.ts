import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isProcessAlive, removePartialOutputs, removePartialOutputsAfterExit, WATCH_PARTIAL_OUTPUTS } from './partial-outputs.js';
import { runCli } from './main.js';
import { runSdq } from './testing.js';
import type { Command } from './command.js';

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      out.push(path.join(rel, e.name));
      if (e.isDirectory()) walk(path.join(dir, e.name), path.join(rel, e.name));
    }
  };
  walk(root, '');
  return out.sort();
}

describe('removePartialOutputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sdq-partial-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("removes one process's partial files next to and under the roots, and nothing else", () => {
    const out = path.join(dir, 'out');
    mkdirSync(path.join(out, 'int8', 'unet'), { recursive: true });
    writeFileSync(path.join(out, 'int8', 'unet', 'model.onnx.tmp-42'), 'partial');
    writeFileSync(path.join(out, 'int8', 'unet', 'model.onnx.tmp-7'), 'another process');
    writeFileSync(path.join(out, 'fp16.json'), 'complete');
    mkdirSync(path.join(out, 'fp16.tmp-42', 'unet'), { recursive: true });
    writeFileSync(path.join(out, 'fp16.tmp-42', 'unet', 'model.onnx'), 'partial dir');
    mkdirSync(path.join(dir, 'made.tmp-42'));
    writeFileSync(path.join(dir, 'unet.onnx.tmp-42'), 'partial model');
    writeFileSync(path.join(dir, 'unet.onnx.data.tmp-42'), 'partial weights');
    writeFileSync(path.join(dir, 'other.onnx.tmp-42'), 'not under a declared root');
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'sdq-partial-elsewhere-'));
    writeFileSync(path.join(elsewhere, 'x.tmp-42'), 'behind a symlink');
    symlinkSync(elsewhere, path.join(out, 'link'));

    const removed = removePartialOutputs([out, path.join(dir, 'made'), path.join(dir, 'unet.onnx'), path.join(dir, 'missing', 'x')], 42);

    expect(removed.map((p) => path.relative(dir, p)).sort()).toEqual(
      ['made.tmp-42', 'out/fp16.tmp-42', 'out/int8/unet/model.onnx.tmp-42', 'unet.onnx.data.tmp-42', 'unet.onnx.tmp-42'].sort(),
    );
    expect(tree(dir)).toEqual(['other.onnx.tmp-42', 'out', 'out/fp16.json', 'out/int8', 'out/int8/unet', 'out/int8/unet/model.onnx.tmp-7', 'out/link'].sort());
    expect(readdirSync(elsewhere)).toEqual(['x.tmp-42']);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('waits for the writing process to die (here by SIGINT) before removing its partial output', async () => {
    const writer = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = writer.pid as number;
    const partial = path.join(dir, `made.tmp-${pid}`);
    mkdirSync(partial);
    writeFileSync(path.join(partial, 'model.onnx'), 'half a model');
    const cleaned = removePartialOutputsAfterExit(pid, [path.join(dir, 'made')], 20);
    await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(dir)).toEqual([`made.tmp-${pid}`]);
    expect(isProcessAlive(pid)).toBe(true);
    writer.kill('SIGINT');
    expect(await cleaned).toEqual([partial]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('sdq commands declare where they write', () => {
  it('starts one watcher per declared output with the hidden argument, pid and path', async () => {
    const watched: string[] = [];
    const cmd: Command = {
      name: 'write',
      summary: 'test command',
      help: 'Usage: sdq write',
      options: {},
      async run(_args, ctx) {
        ctx.writesTo('/data/out');
        ctx.writesTo('/data/report');
      },
    };
    const io = { stdout: () => undefined, stderr: () => undefined, stderrIsTty: false, columns: 80, cwd: '/', watchPartialOutputs: (t: string) => void watched.push(t) };
    expect(await runCli(['write'], io, [cmd])).toBe(0);
    expect(watched).toEqual(['/data/out', '/data/report']);
  });

  it('the hidden watcher argument removes a dead process\'s partial outputs and prints nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdq-partial-cli-'));
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    mkdirSync(path.join(dir, `made.tmp-${dead.pid}`));
    const r = await runSdq([WATCH_PARTIAL_OUTPUTS, String(dead.pid), path.join(dir, 'made')]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
