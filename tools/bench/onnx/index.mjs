#!/usr/bin/env node
/**
 * @sdq/onnx benchmark: model parse time against ONNX's own loader (python onnx, C++ protobuf) in the same run, and
 * peak memory while loading an SD-size UNet with its external data.
 *
 *   (cd packages/onnx && npx tsup) && node tools/bench/onnx/index.mjs [--rounds 5] [--iters 20] [--sd-preset sd15] [--skip-big]
 *
 * `first` lines time the first decodeModel in a fresh process against python's first onnx.load (the CLI parses each
 * model once per process, before V8 has warmed up); `parse` lines are warmed-up minimums.
 *
 * The SD-size UNet is made by the package's own builder (packages/onnx/src/builder, preset sd15 ~860M params, 3.4 GB
 * FP32, zero weights, external data) once into $TMPDIR/sdq-bench-onnx/ and reused by later runs.
 * Ratios are JS/Python on the minimum of interleaved rounds (this machine is shared and noisy).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST = join(ROOT, 'packages/onnx/dist/index.js');
if (!existsSync(DIST)) {
  console.error(`build the package first: (cd packages/onnx && npx tsup)  [missing ${DIST}]`);
  process.exit(1);
}
const onnx = await import(DIST);

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROUNDS = Number(opt('rounds', 5));
const ITERS = Number(opt('iters', 20));
const PRESET = opt('sd-preset', 'sd15');
const SKIP_BIG = args.includes('--skip-big');

// --- python with onnx -------------------------------------------------------------------------------------------
function findPython() {
  for (const py of ['/usr/bin/python3', 'python3', 'python']) {
    const r = spawnSync(py, ['-c', 'import onnx, google.protobuf; from google.protobuf.internal import api_implementation as a; print(onnx.__version__, google.protobuf.__version__, a.Type())'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
  }
  return undefined;
}
const python = findPython();
console.log(`node ${process.version}; python onnx: ${python ? `${python.py} (onnx, protobuf, backend: ${python.version})` : 'NOT IMPORTABLE in /usr/bin/python3, python3 or python -- install python3-onnx (apt-get install -y python3-onnx); Python columns are skipped'}`);

const PY_PARSE = `
import sys, time, onnx
path, iters = sys.argv[1], int(sys.argv[2])
best = 1e9
for _ in range(iters):
    t = time.perf_counter()
    m = onnx.load(path, load_external_data=False)
    best = min(best, time.perf_counter() - t)
print(best * 1000)
`;
const PY_LOAD_RSS = `
import sys, time, resource, onnx
t = time.perf_counter()
m = onnx.load(sys.argv[1])
ms = (time.perf_counter() - t) * 1000
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, ms)
`;

function pythonParseMs(path, iters) {
  const r = spawnSync(python.py, ['-c', PY_PARSE, path, String(iters)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** onnx.load-equivalent in JS: read the file and decode the protobuf (external data not loaded). */
function jsParseMs(path, iters) {
  let best = Infinity;
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    onnx.decodeModel(readFileSync(path));
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

function parseBench(label, path) {
  const size = readFileSync(path).byteLength;
  jsParseMs(path, 5); // JIT warm-up
  let js = Infinity;
  let py = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    js = Math.min(js, jsParseMs(path, ITERS));
    if (python) py = Math.min(py, pythonParseMs(path, ITERS));
  }
  const nodes = onnx.decodeModel(readFileSync(path)).graph?.node.length ?? 0;
  const ratio = python ? js / py : NaN;
  console.log(
    `parse ${label.padEnd(22)} ${(size / 1e6).toFixed(2).padStart(7)} MB ${String(nodes).padStart(6)} nodes   sdq ${js.toFixed(2).padStart(7)} ms   onnx.load ${python ? py.toFixed(2).padStart(7) : '    n/a'} ms   ratio ${python ? ratio.toFixed(2) : 'n/a'} (target <= 1.5)`,
  );
  return { label, bytes: size, nodes, sdqMs: js, onnxMs: python ? py : null, ratio: python ? ratio : null };
}

/** Cold start: one process that imports the library and loads the model once (what a CLI pays). */
function coldBench(label, path) {
  const nodeCode = `const t0 = performance.now(); const m = await import(${JSON.stringify(DIST)}); m.decodeModel((await import('node:fs')).readFileSync(${JSON.stringify(path)})); console.log(performance.now() - t0);`;
  const pyCode = `import time; t0 = time.perf_counter(); import onnx; onnx.load(${JSON.stringify(path)}, load_external_data=False); print((time.perf_counter() - t0) * 1000)`;
  let js = Infinity;
  let py = Infinity;
  for (let r = 0; r < 3; r++) {
    js = Math.min(js, Number(spawnSync(process.execPath, ['--input-type=module', '-e', nodeCode], { encoding: 'utf8' }).stdout.trim()));
    if (python) py = Math.min(py, Number(spawnSync(python.py, ['-c', pyCode], { encoding: 'utf8' }).stdout.trim()));
  }
  console.log(`cold  ${label.padEnd(22)} import + load in a fresh process: sdq ${js.toFixed(1)} ms   python onnx ${python ? py.toFixed(1) : 'n/a'} ms`);
  return { label, sdqMs: js, onnxMs: python ? py : null };
}

/**
 * First parse in a fresh process (what the CLI pays per model; the import is not counted): a new node process imports
 * the library, reads the file and times its first decodeModel; a new python process imports onnx and times its first
 * onnx.load. Interleaved rounds, minimum of each (the machine is shared and noisy).
 */
function firstParseBench(label, path, rounds = Math.max(ROUNDS, 7)) {
  const nodeCode = `const m = await import(${JSON.stringify(DIST)}); const { readFileSync } = await import('node:fs'); const t = performance.now(); m.decodeModel(readFileSync(${JSON.stringify(path)})); console.log(performance.now() - t);`;
  const pyCode = `import time, onnx\nt = time.perf_counter(); onnx.load(${JSON.stringify(path)}, load_external_data=False); print((time.perf_counter() - t) * 1000)`;
  let js = Infinity;
  let py = Infinity;
  for (let r = 0; r < rounds; r++) {
    js = Math.min(js, Number(spawnSync(process.execPath, ['--input-type=module', '-e', nodeCode], { encoding: 'utf8' }).stdout.trim()));
    if (python) py = Math.min(py, Number(spawnSync(python.py, ['-c', pyCode], { encoding: 'utf8' }).stdout.trim()));
  }
  const ratio = python ? js / py : NaN;
  const floor = nativeMaterializeFloorMs(path, rounds);
  console.log(
    `first ${label.padEnd(22)} first parse in a fresh process: sdq ${js.toFixed(2).padStart(7)} ms   onnx.load ${python ? py.toFixed(2).padStart(7) : '    n/a'} ms   ratio ${python ? ratio.toFixed(2) : 'n/a'} (target <= 1.5)`,
  );
  console.log(
    `floor ${label.padEnd(22)} V8's native JSON.parse making the same objects in a fresh process: ${floor.toFixed(2).padStart(7)} ms   ratio to onnx.load ${python ? (floor / py).toFixed(2) : 'n/a'}   sdq / floor ${(js / floor).toFixed(2)}`,
  );
  return { label, sdqMs: js, onnxMs: python ? py : null, ratio: python ? ratio : null, jsonParseFloorMs: floor };
}

/**
 * Lower bound for any decoder whose result is JS objects: V8's own C++ JSON.parse, in a fresh process, building the
 * object graph decodeModel returns (same messages, arrays and strings; byte fields as one string each). The JSON is
 * made here and read by the child before the clock starts, so only object creation is timed.
 */
function nativeMaterializeFloorMs(path, rounds) {
  const json = join(tmpdir(), `sdq-bench-onnx-floor-${process.pid}.json`);
  const asJson = (_key, value) =>
    ArrayBuffer.isView(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : typeof value === 'bigint' ? Number(value) : value;
  writeFileSync(json, JSON.stringify(onnx.decodeModel(readFileSync(path)), asJson));
  const nodeCode = `const { readFileSync } = await import('node:fs'); const text = readFileSync(${JSON.stringify(json)}, 'utf8'); const t = performance.now(); JSON.parse(text); console.log(performance.now() - t);`;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    best = Math.min(best, Number(spawnSync(process.execPath, ['--input-type=module', '-e', nodeCode], { encoding: 'utf8' }).stdout.trim()));
  }
  rmSync(json, { force: true });
  return best;
}

// --- SD-size UNet from the builder ------------------------------------------------------------------------------
function ensureSdUnet() {
  const dir = join(tmpdir(), 'sdq-bench-onnx', `${PRESET}-unet`);
  const model = join(dir, 'model.onnx');
  if (existsSync(model) && existsSync(join(dir, 'weights.pb'))) return model;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  console.log(`building the ${PRESET} UNet with the package's builder into ${dir} (once; zero weights, external data) ...`);
  const t = performance.now();
  const config = onnx.resolveSdConfig(PRESET);
  const writer = new onnx.ExternalDataWriter(tmp, 'weights.pb', { alignment: 4096 });
  const m = onnx.buildUnet(config.unet, { externalData: writer, weights: 'zeros' });
  writer.commit();
  writeFileSync(join(tmp, 'model.onnx'), onnx.encodeModel(m));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  console.log(`  built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return model;
}

/** The SD-size UNet's graph without weights (initializers keep name, type and dims): what parse time is about. */
function ensureSdUnetGraph() {
  const path = join(tmpdir(), 'sdq-bench-onnx', `${PRESET}-unet-graph.onnx`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const m = onnx.buildUnet(onnx.resolveSdConfig(PRESET).unet, { weights: 'shape-only' });
  writeFileSync(`${path}.tmp-${process.pid}`, onnx.encodeModel(m));
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}

/** The same UNet as the dynamo exporter would write it: IR 10, opset 18, node metadata_props (graph only, no data). */
function ensureSdUnetIr10() {
  const path = join(tmpdir(), 'sdq-bench-onnx', `${PRESET}-unet-ir10-graph.onnx`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const m = onnx.buildUnet(onnx.resolveSdConfig(PRESET).unet, { weights: 'shape-only', irVersion: 10, opset: 18 });
  writeFileSync(`${path}.tmp-${process.pid}`, onnx.encodeModel(m));
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}

/** Peak RSS of a fresh process that loads the model with all external data, vs the weight bytes. */
function memoryBench(path) {
  const code = `
    const m = await import(${JSON.stringify(DIST)});
    const t = performance.now();
    const model = await m.readModel(${JSON.stringify(path)}, { externalData: 'load' });
    const ms = performance.now() - t;
    let weights = 0; m.forEachTensor(model, (x) => { weights += m.tensorByteLength(x); });
    const maxRss = process.resourceUsage().maxRSS * 1024;
    // write it back with externalData 'auto': over 2 GiB, so it must choose external data by itself
    const { mkdtempSync, rmSync } = await import('node:fs');
    const out = mkdtempSync(${JSON.stringify(join(tmpdir(), 'sdq-bench-onnx', 'write-'))});
    const tw = performance.now();
    const written = await m.writeModel(model, out + '/model.onnx', { externalData: 'auto' });
    const writeMs = performance.now() - tw;
    rmSync(out, { recursive: true, force: true });
    console.log(JSON.stringify({ maxRss, weights, ms, tensors: model.graph.initializer.length, writeMs, written }));`;
  // interleaved sdq / python runs (disk and page cache are shared and noisy): minimum time, maximum RSS
  let res;
  let pyRss = null;
  let pyMs = null;
  for (let round = 0; round < 2; round++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`memory bench failed: ${r.stderr}`);
    const cur = JSON.parse(r.stdout.trim());
    res = res ? { ...cur, ms: Math.min(res.ms, cur.ms), writeMs: Math.min(res.writeMs, cur.writeMs), maxRss: Math.max(res.maxRss, cur.maxRss) } : cur;
    if (python) {
      const p = spawnSync(python.py, ['-c', PY_LOAD_RSS, path], { encoding: 'utf8' });
      if (p.status === 0) {
        const [rss, ms] = p.stdout.trim().split(/\s+/).map(Number);
        pyRss = Math.max(pyRss ?? 0, rss);
        pyMs = Math.min(pyMs ?? Infinity, ms);
      }
    }
  }
  const ratio = res.maxRss / res.weights;
  console.log(
    `load  SD-size UNet with external data: weights ${(res.weights / 2 ** 30).toFixed(2)} GiB in ${res.tensors} initializers, sdq ${(res.ms / 1000).toFixed(1)} s; ` +
      `peak RSS sdq ${(res.maxRss / 2 ** 30).toFixed(2)} GiB = ${ratio.toFixed(3)}x weights (target <= 1.2)` +
      (pyRss ? `; python onnx.load ${(pyMs / 1000).toFixed(1)} s, peak RSS ${(pyRss / 2 ** 30).toFixed(2)} GiB = ${(pyRss / res.weights).toFixed(3)}x` : ''),
  );
  const w = res.written;
  console.log(
    `write SD-size UNet, externalData 'auto': ${(res.writeMs / 1000).toFixed(1)} s, model.onnx ${(w.modelBytes / 1e6).toFixed(2)} MB + ` +
      `${w.dataFiles.map((f) => `${f.location} ${(f.bytes / 2 ** 30).toFixed(2)} GiB`).join(', ')} (${w.externalTensors} external tensors; over 2 GiB so external data was chosen: ${w.externalTensors > 0})`,
  );
  return { ...res, ratio, pythonMaxRss: pyRss, pythonMs: pyMs };
}

// --- run ----------------------------------------------------------------------------------------------------------
const results = { parse: [], first: [], cold: [], memory: null };
const TINY = join(ROOT, 'fixtures/models/tiny-sd/unet/model.onnx');
results.parse.push(parseBench('tiny-sd UNet', TINY));
results.parse.push(parseBench('shapes-sd UNet', join(ROOT, 'fixtures/models/shapes-sd/unet/model.onnx')));
results.parse.push(parseBench('tiny-sd text encoder', join(ROOT, 'fixtures/models/tiny-sd/text_encoder/model.onnx')));
results.first.push(firstParseBench('shapes-sd UNet', join(ROOT, 'fixtures/models/shapes-sd/unet/model.onnx')));
results.first.push(firstParseBench(`${PRESET} UNet (graph only)`, ensureSdUnetGraph()));
if (!SKIP_BIG) {
  const big = ensureSdUnet();
  results.parse.push(parseBench(`${PRESET} UNet (graph)`, big));
  results.parse.push(parseBench(`${PRESET} UNet IR10+metadata`, ensureSdUnetIr10()));
  results.cold.push(coldBench(`${PRESET} UNet (graph)`, big));
  results.memory = memoryBench(big);
}
results.cold.push(coldBench('tiny-sd UNet', TINY));
writeFileSync(join(tmpdir(), 'sdq-bench-onnx.json'), JSON.stringify(results, null, 2));
console.log(`results: ${join(tmpdir(), 'sdq-bench-onnx.json')}`);
