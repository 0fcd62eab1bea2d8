#!/usr/bin/env node
// STAND-IN FOR NVIDIA's trtexec, FOR TESTS ONLY. It builds nothing and needs no GPU.
//
// It checks its arguments the way trtexec's option parser does (samples/common/sampleOptions.cpp and
// samples/trtexec/trtexec.cpp of the emulated release): every flag must be one that release parses (the lists in
// trtexec-flags.json were extracted from the sources), an unknown flag prints the help to stdout and
// `[E] Unknown option: <flag> <value>` to stderr and exits 1; --memPoolSize pools and the min/opt/max shape lists are
// validated; 10.x's --stronglyTyped + --fp16/--int8 warnings and --best/--stronglyTyped conflict are reproduced.
// It then writes a placeholder engine file at --saveEngine and prints a log in trtexec's format:
// `[MM/DD/YYYY-HH:MM:SS] [I] ...`, `[I] [TRT] ...`, `&&&& PASSED TensorRT.trtexec [TensorRT v101600] [b72] # ...`.
// [I]/[V] lines and the &&&& lines go to stdout, [W]/[E] to stderr, as samples/common/logging.h routes them.
//
// Environment:
//   FAKE_TRTEXEC_VERSION   emulated TensorRT, e.g. 10.16.0 (default), 11.1.0, 8.6.1
//   FAKE_TRTEXEC_SCENARIO  success (default) | parse-failure | oom
//   FAKE_TRTEXEC_GPU       GPU name (default "NVIDIA GeForce RTX 4090")
//   FAKE_TRTEXEC_ARGS_LOG  if set, each invocation's argv is appended to this file as one JSON line
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FLAGS = JSON.parse(readFileSync(join(here, 'trtexec-flags.json'), 'utf8'));
const BUILD_NUMBERS = { 8: 0, 10: 72, 11: 106 }; // NV_TENSORRT_BUILD of release/10.16 and release/11.1

const versionText = process.env.FAKE_TRTEXEC_VERSION ?? '10.16.0';
const [major, minor, patch = 0] = versionText.split('.').map(Number);
const versionNumber = major >= 10 ? major * 10000 + minor * 100 + patch : major * 1000 + minor * 100 + patch;
const flagTable = FLAGS[`${major}.${minor}`] ?? FLAGS[{ 8: '8.6', 10: '10.16', 11: '11.1' }[major]];
if (!flagTable) {
  process.stderr.write(`fake-trtexec: no flag table for TensorRT ${versionText}\n`);
  process.exit(2);
}
const scenario = process.env.FAKE_TRTEXEC_SCENARIO ?? 'success';
const gpu = process.env.FAKE_TRTEXEC_GPU ?? 'NVIDIA GeForce RTX 4090';
const argv = process.argv.slice(2);
if (process.env.FAKE_TRTEXEC_ARGS_LOG) appendFileSync(process.env.FAKE_TRTEXEC_ARGS_LOG, JSON.stringify(argv) + '\n');

const pad = (n, w = 2) => String(n).padStart(w, '0');
function stamp() {
  const d = new Date();
  return `[${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${d.getFullYear()}-${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}] `;
}
const out = (s) => process.stdout.write(s + '\n');
const log = {
  I: (m) => out(stamp() + '[I] ' + m),
  W: (m) => process.stderr.write(stamp() + '[W] ' + m + '\n'),
  E: (m) => process.stderr.write(stamp() + '[E] ' + m + '\n'),
  trtI: (m) => out(stamp() + '[I] [TRT] ' + m),
  trtW: (m) => process.stderr.write(stamp() + '[W] [TRT] ' + m + '\n'),
  trtE: (m) => process.stderr.write(stamp() + '[E] [TRT] ' + m + '\n'),
  trtV: (m) => { if (argv.includes('--verbose')) out(stamp() + '[V] [TRT] ' + m); },
};

const testName = `TensorRT.trtexec [TensorRT v${versionNumber}]` + (major >= 10 ? ` [b${BUILD_NUMBERS[major]}]` : '');
const cmdline = ['trtexec', ...argv].join(' ');
const report = (result) => out(`&&&& ${result} ${testName} # ${cmdline}`);

function help() {
  out('=== Model Options ===');
  out('  --onnx=<file>               ONNX model');
  out('=== Build Options ===');
  out(`  (stand-in help: this fake emulates the ${flagTable.length} flags of TensorRT ${major}.${minor}'s trtexec)`);
}

// argsToArgumentsMap: `--key=value` -> key/value, else key with empty value (a multimap in trtexec).
const args = argv.map((a, i) => {
  const eq = a.indexOf('=');
  return eq >= 0 ? { key: a.slice(0, eq), value: a.slice(eq + 1), i } : { key: a, value: '', i };
});

report('RUNNING');
if (args.length === 0 || args.some((a) => a.key === '--help' || a.key === '-h')) {
  help();
  process.exit(0);
}
const unknown = args.filter((a) => !flagTable.includes(a.key));
if (unknown.length) {
  help();
  for (const a of unknown) log.E(`Unknown option: ${a.key} ${a.value}`);
  process.exit(1);
}
const get = (k) => args.find((a) => a.key === k)?.value;
const has = (k) => args.some((a) => a.key === k);
function invalidArgument(message) {
  help();
  log.E(message);
  process.exit(1);
}

// --memPoolSize=workspace:4096M[,dlaSRAM:...]: unit suffix optional (M by default); pools as in BuildOptions::parse.
const memPools = {};
for (const spec of (get('--memPoolSize') ?? '').split(',').filter(Boolean)) {
  const colon = spec.lastIndexOf(':');
  const name = spec.slice(0, colon);
  const size = spec.slice(colon + 1);
  if (colon < 0 || !/^\d+(\.\d+)?[GMK]?$/.test(size)) {
    invalidArgument(`${spec} conversion failure: failed to parse --memPoolSize. Please double check your input string.`);
  }
  if (!['workspace', 'dlaSRAM', 'dlaLocalDRAM', 'dlaGlobalDRAM', 'tacticSharedMem'].includes(name)) {
    invalidArgument(`Unknown memory pool: ${name}`);
  }
  memPools[name] = size;
}

// --minShapes/--optShapes/--maxShapes=name:AxBxC,...  (name = everything before the last ':').
function parseShapes(flag) {
  const text = get(flag);
  if (text === undefined) return undefined;
  const shapes = {};
  for (const item of text.split(',')) {
    const colon = item.lastIndexOf(':');
    const dims = item.slice(colon + 1).split('x');
    if (colon <= 0 || !dims.every((d) => /^\d+$/.test(d))) {
      invalidArgument(`${item} conversion failure: failed to parse minShapes/optShapes/maxShapes. Please double check your input string.`);
    }
    shapes[item.slice(0, colon)] = dims.map(Number);
  }
  return shapes;
}
const shapes = { min: parseShapes('--minShapes'), opt: parseShapes('--optShapes'), max: parseShapes('--maxShapes') };
if (args.filter((a) => a.key === '--minShapes').length > 1) {
  invalidArgument('Multiple --minShapes/--optShapes/--maxShapes without --profile are not allowed. ');
}

// trtexec reads --builderOptimizationLevel as an int (stringToValue); a non-number fails the conversion.
const level = get('--builderOptimizationLevel');
if (level !== undefined && !/^-?\d+$/.test(level)) invalidArgument(`invalid value for --builderOptimizationLevel: ${level}`);

let fp16 = has('--fp16');
let int8 = has('--int8');
const strongly = has('--stronglyTyped');
if (major === 10) {
  if (has('--best') && strongly) {
    invalidArgument('--best and --stronglyTyped cannot be both set. --best enables implicit precisions, while --stronglyTyped enforces explicit precisions.');
  }
  if (strongly) {
    for (const [flag, on, builderFlag] of [['fp16', fp16, 'kFP16'], ['int8', int8, 'kINT8']]) {
      if (on) log.W(`Invalid usage, setting ${flag} mode is not allowed if graph is strongly typed. Disabling BuilderFlag::${builderFlag}.`);
    }
    fp16 = false;
    int8 = false;
  }
  if (fp16 || int8 || has('--best')) {
    log.W('Weakly-typed networks have been deprecated in TensorRT. You can use the AutoCast tool (https://nvidia.github.io/TensorRT-Model-Optimizer/guides/8_autocast.html) to convert the network to be strongly typed.');
  }
}
// 11.x parses --stronglyTyped as a silent no-op (its help says "[Deprecated] ... This flag is a no-op.").

const onnx = get('--onnx');
if (!onnx && !has('--loadEngine')) invalidArgument('Model missing or format not recognized');
const engine = get('--saveEngine');
const timingCache = get('--timingCacheFile');
const calib = get('--calib');

const precision = major >= 11 || strongly ? 'Strongly Typed' : `FP32${fp16 ? '+FP16' : ''}${int8 ? '+INT8' : ''}`;
log.I('=== Model Options ===');
log.I('Format: ONNX');
log.I(`Model: ${onnx}`);
log.I('Output:');
log.I('');
log.I('=== Build Options ===');
log.I(`Memory Pools: workspace: ${memPools.workspace ? memPools.workspace.replace(/M?$/, ' MiB') : 'default'}, dlaSRAM: default, dlaLocalDRAM: default, dlaGlobalDRAM: default, tacticSharedMem: default`);
log.I(`avgTiming: 8`);
log.I(`Precision: ${precision}`);
if (major <= 10) log.I(`Calibration: ${int8 ? (calib ?? 'Dynamic') : ''}`);
log.I(`Save engine: ${engine ?? ''}`);
log.I(`Timing cache mode: ${timingCache ? 'global' : 'local'}`);
log.I(`Timing cache file: ${timingCache ?? ''}`);
for (const [k, label] of [['min', 'MIN'], ['opt', 'OPT'], ['max', 'MAX']]) {
  for (const [name, dims] of Object.entries(shapes[k] ?? {})) log.I(`Input build shape (profile 0): ${name}=${label}:${dims.join('x')}`);
}
log.I('');
log.I('=== Device Information ===');
log.I('Available Devices: ');
log.I(`  Device 0: "${gpu}" UUID: GPU-00000000-0000-0000-0000-000000000000`);
log.I(`Selected Device: ${gpu}`);
log.I('Selected Device ID: 0');
log.I('Compute Capability: 8.9');
log.I('SMs: 128');
log.I('Device Global Memory: 24076 MiB');
log.I('Shared Memory per SM: 100 KiB');
log.I('Memory Bus Width: 384 bits (ECC disabled)');
log.I('');
log.I(`TensorRT version: ${major}.${minor}.${patch}`);
log.I('Loading standard plugins');
log.trtI('[MemUsageChange] Init CUDA: CPU +2, GPU +0, now: CPU 31, GPU 1187 (MiB)');
log.I('Start parsing network model.');

const started = Date.now();
if (!existsSync(onnx)) {
  log.trtE(`ModelImporter.cpp:875: Failed to parse ONNX model from file: ${onnx}!`);
  log.E('Failed to parse onnx file');
  log.I('Finished parsing network model. Parse time: 0.000114');
  log.E('Parsing model failed');
  log.E('Failed to create engine from model or file.');
  log.E('Engine set up failed');
  report('FAILED');
  process.exit(1);
}
log.trtI('----------------------------------------------------------------');
log.trtI(`Input filename:   ${onnx}`);
log.trtI('ONNX IR version:  0.0.8');
log.trtI('Opset version:    17');
log.trtI('Producer name:    pytorch');
log.trtI('----------------------------------------------------------------');

if (scenario === 'parse-failure') {
  // Shape of a real TensorRT 10 parser error: the node dump and the importer's message span unprefixed lines.
  log.trtE('ModelImporter.cpp:957: While parsing node number 3 [FancyAttention -> "/attn/FancyAttention_output_0"]:');
  process.stderr.write(stamp() + '[E] [TRT] ModelImporter.cpp:960: --- Begin node ---\ninput: "/attn/to_q/MatMul_output_0"\noutput: "/attn/FancyAttention_output_0"\nname: "/attn/FancyAttention"\nop_type: "FancyAttention"\n');
  log.trtE('ModelImporter.cpp:961: --- End node ---');
  process.stderr.write(stamp() + '[E] [TRT] ModelImporter.cpp:964: ERROR: onnxOpCheckers.cpp:780 In function checkFallbackPluginImporter:\n[6] creator && "Plugin not found, are the plugin name, version, and namespace correct?"\n');
  log.E('Failed to parse onnx file');
  log.I('Finished parsing network model. Parse time: 0.0123471');
  log.E('Parsing model failed');
  log.E('Failed to create engine from model or file.');
  log.E('Engine set up failed');
  report('FAILED');
  process.exit(1);
}
log.I('Finished parsing network model. Parse time: 0.0123471');

// Profile validity, as IOptimizationProfile::isValid would reject it.
const names = new Set([...Object.keys(shapes.min ?? {}), ...Object.keys(shapes.opt ?? {}), ...Object.keys(shapes.max ?? {})]);
for (const name of names) {
  const [mn, op, mx] = [shapes.min?.[name], shapes.opt?.[name], shapes.max?.[name]].map((s) => s ?? shapes.opt?.[name] ?? shapes.min?.[name] ?? shapes.max?.[name]);
  const ok = mn.length === op.length && op.length === mx.length && mn.every((v, i) => v <= op[i] && op[i] <= mx[i]);
  if (!ok) {
    log.trtE(`IOptimizationProfile::setDimensions: Error Code 3: API Usage Error (Parameter check failed, condition: std::all_of(dims.d, dims.d + dims.nbDims, [](int64_t x) noexcept { return x >= 0; }). ${name})`);
    log.E('Required optimization profile is invalid');
    log.E('Network And Config setup failed');
    log.E('Building engine failed');
    log.E('Failed to create engine from model or file.');
    log.E('Engine set up failed');
    report('FAILED');
    process.exit(1);
  }
  log.I(`Set shape of input tensor ${name} for optimization profile 0 to: MIN=${mn.join('x')} OPT=${op.join('x')} MAX=${mx.join('x')}`);
}
for (let i = 0; i < 5; i++) log.trtV(`Tactic: 0x00000000000${i}0a2 Time: 0.${i}123`);
log.trtI(timingCache ? 'Global timing cache in use. Profiling results in this builder pass will be stored.' : 'Local timing cache in use. Profiling results in this builder pass will not be stored.');

if (scenario === 'oom') {
  // trtexec streams the engine to --saveEngine (buildSerializedNetworkToStream), so a failed build leaves a file behind.
  if (engine) writeFileSync(engine, '');
  log.E('Error[1]: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)');
  log.trtW('Requested amount of GPU memory (17179869184 bytes) could not be allocated. There may not be enough free memory for allocation to succeed.');
  log.E('Error[2]: [virtualMemoryBuffer.cpp::resizePhysical::140] Error Code 2: OutOfMemory (no further information)');
  log.E('Error[10]: IBuilder::buildSerializedNetwork: Error Code 10: Internal Error (Could not find any implementation for node {ForeignNode[/down_blocks.0/attentions.0/Transpose.../up_blocks.3/attentions.2/Reshape_1]}.)');
  log.E('Engine could not be created from network');
  log.E('Building engine failed');
  log.E('Failed to create engine from model or file.');
  log.E('Engine set up failed');
  report('FAILED');
  process.exit(1);
}

const engineBytes = Buffer.from(JSON.stringify({ fake: 'STAND-IN ENGINE, NOT A TENSORRT PLAN', version: versionText, onnx, precision, shapes }) + '\n');
if (engine) writeFileSync(engine, engineBytes);
if (timingCache) writeFileSync(timingCache, 'FAKE-TIMING-CACHE\n');
log.trtI('Detected 3 inputs and 1 output network tensors.');
log.trtI(`Total Host Persistent Memory: 912704 bytes`);
log.trtI(`[MemUsageStats] Peak memory usage of TRT CPU/GPU memory allocators: CPU 2 MiB, GPU 2510 MiB`);
log.I(`Created engine with size: ${(engineBytes.length / 1048576).toFixed(4)} MiB`);
log.I(`Engine built in ${((Date.now() - started) / 1000 + 41.2).toFixed(4)} sec.`);
if (has('--skipInference')) {
  log.I('Skipped inference phase since --skipInference is added.');
  report('PASSED');
  process.exit(0);
}
log.I('Starting inference');
log.I('Warmup completed 10 queries over 200 ms');
log.I('Timing trace has 112 queries over 3.02 s');
log.I('');
log.I('=== Trace details ===');
log.I('Trace averages of 10 runs:');
log.I('Average on 10 runs - GPU latency: 26.8211 ms - Host latency: 27.1023 ms (enqueue 0.503 ms)');
log.I('');
log.I('=== Performance summary ===');
log.I('Throughput: 37.0841 qps');
log.I('Latency: min = 26.4487 ms, max = 28.1325 ms, mean = 26.9632 ms, median = 26.9001 ms, percentile(90%) = 27.3716 ms, percentile(95%) = 27.6542 ms, percentile(99%) = 28.0117 ms');
log.I('Enqueue Time: min = 0.412598 ms, max = 0.912842 ms, mean = 0.503125 ms, median = 0.49585 ms, percentile(90%) = 0.55957 ms, percentile(95%) = 0.610352 ms, percentile(99%) = 0.880371 ms');
log.I('H2D Latency: min = 0.190918 ms, max = 0.230957 ms, mean = 0.201172 ms, median = 0.199951 ms, percentile(90%) = 0.20874 ms, percentile(95%) = 0.213379 ms, percentile(99%) = 0.226807 ms');
log.I('GPU Compute Time: min = 26.1851 ms, max = 27.8593 ms, mean = 26.6948 ms, median = 26.6313 ms, percentile(90%) = 27.1005 ms, percentile(95%) = 27.3811 ms, percentile(99%) = 27.7428 ms');
log.I('D2H Latency: min = 0.0627441 ms, max = 0.0805664 ms, mean = 0.0672197 ms, median = 0.0666504 ms, percentile(90%) = 0.0712891 ms, percentile(95%) = 0.0734863 ms, percentile(99%) = 0.0783691 ms');
log.I('Total Host Walltime: 3.02016 s');
log.I('Total GPU Compute Time: 2.98982 s');
log.I('Explanations of the performance metrics are printed in the verbose logs.');
log.I('');
report('PASSED');
