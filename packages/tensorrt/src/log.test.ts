import { parseTimingStats, parseTrtexecLog } from './log.js';

// Logs in trtexec's format (samples/common/logging.h prefixes, sampleReporting.cpp summary lines); values are made up.
const SUCCESS_10 = `&&&& RUNNING TensorRT.trtexec [TensorRT v101300] [b9] # trtexec --onnx=unet.onnx --fp16 --saveEngine=unet.plan
[09/28/2025-09:21:51] [I] === Build Options ===
[09/28/2025-09:21:51] [I] Precision: FP32+FP16
[09/28/2025-09:21:51] [I] Selected Device: NVIDIA L4
[09/28/2025-09:21:51] [I] Compute Capability: 8.9
[09/28/2025-09:21:51] [I] Device Global Memory: 22478 MiB
[09/28/2025-09:21:51] [I] TensorRT version: 10.13.3
[09/28/2025-09:21:52] [W] [TRT] onnxOpImporters.cpp:6540: Attribute caseChangeAction not found
[09/28/2025-09:25:10] [I] Created engine with size: 1663.52 MiB
[09/28/2025-09:25:10] [I] Engine built in 198.437 sec.
[09/28/2025-09:25:14] [I] === Performance summary ===
[09/28/2025-09:25:14] [I] Throughput: 19.8817 qps
[09/28/2025-09:25:14] [I] Latency: min = 50.1 ms, max = 51.9 ms, mean = 50.5 ms, median = 50.4 ms, percentile(90%) = 50.9 ms, percentile(95%) = 51.2 ms, percentile(99%) = 51.8 ms
[09/28/2025-09:25:14] [I] GPU Compute Time: min = 1.23 ms, max = 2.5 ms, mean = 1.5 ms, median = 1.45 ms, percentile(90%) = 1.9 ms, percentile(95%) = 2.1 ms, percentile(99%) = 2.4 ms
[09/28/2025-09:25:14] [I] Total Host Walltime: 3.01 s
[09/28/2025-09:25:14] [I] Total GPU Compute Time: 2.98 s
[09/28/2025-09:25:14] [W] * GPU compute time is unstable, with coefficient of variance = 2.1%.
[09/28/2025-09:25:14] [I] Explanations of the performance metrics are printed in the verbose logs.
&&&& PASSED TensorRT.trtexec [TensorRT v101300] [b9] # trtexec --onnx=unet.onnx --fp16 --saveEngine=unet.plan
`;

const PARSE_FAILURE_86 = `&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=model.onnx
[07/18/2023-14:17:05] [E] [TRT] ModelImporter.cpp:729: --- End node ---
[07/18/2023-14:17:05] [E] [TRT] ModelImporter.cpp:732: ERROR: builtin_op_importers.cpp:5428 In function importFallbackPluginImporter:
[8] Assertion failed: creator && "Plugin not found"
[07/18/2023-14:17:05] [E] Failed to parse onnx file
[07/18/2023-14:17:05] [I] Finished parsing network model. Parse time: 1.98327
[07/18/2023-14:17:05] [E] Parsing model failed
[07/18/2023-14:17:05] [E] Engine set up failed
&&&& FAILED TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=model.onnx
`;

describe('parseTrtexecLog', () => {
  it('reads version, GPU, precision, build time, engine size and the performance summary', () => {
    const log = parseTrtexecLog(SUCCESS_10);
    expect(log.version).toEqual({ major: 10, minor: 13, patch: 0 });
    expect(log.versionNumber).toBe(101300);
    expect(log.result).toBe('PASSED');
    expect(log.command).toBe('trtexec --onnx=unet.onnx --fp16 --saveEngine=unet.plan');
    expect(log.gpu).toEqual({ name: 'NVIDIA L4', computeCapability: '8.9', memoryMiB: 22478 });
    expect(log.precision).toBe('FP32+FP16');
    expect(log.buildTimeSec).toBe(198.437);
    expect(log.engineSizeMiB).toBe(1663.52);
    expect(log.performance?.throughputQps).toBe(19.8817);
    expect(log.performance?.gpuComputeTimeMs).toEqual({ min: 1.23, max: 2.5, mean: 1.5, median: 1.45, percentiles: { '90': 1.9, '95': 2.1, '99': 2.4 } });
    expect(log.performance?.latencyMs?.median).toBe(50.4);
    expect(log.performance?.totalHostWalltimeSec).toBe(3.01);
    expect(log.performance?.totalGpuComputeTimeSec).toBe(2.98);
    expect(log.warnings).toHaveLength(2);
    expect(log.entries.find((e) => e.message.startsWith('onnxOpImporters'))?.source).toBe('trt');
    expect(log.errors).toEqual([]);
  });

  it('reads a failed TensorRT 8.6 run: old version numbering, multi-line parser errors', () => {
    const log = parseTrtexecLog(PARSE_FAILURE_86);
    expect(log.version).toEqual({ major: 8, minor: 6, patch: 1 });
    expect(log.result).toBe('FAILED');
    expect(log.errors[1]).toBe('ModelImporter.cpp:732: ERROR: builtin_op_importers.cpp:5428 In function importFallbackPluginImporter:\n[8] Assertion failed: creator && "Plugin not found"');
    expect(log.errors).toContain('Failed to parse onnx file');
    expect(log.buildTimeSec).toBeUndefined();
    expect(log.performance).toBeUndefined();
  });

  it('tolerates an empty or foreign text', () => {
    const log = parseTrtexecLog('Segmentation fault (core dumped)\n');
    expect(log).toEqual({ warnings: [], errors: [], entries: [] });
  });
});

describe('parseTimingStats', () => {
  it.each([
    ['min = 1.23 ms, max = 2 ms, mean = 1.5 ms, median = 1.4 ms, percentile(99%) = 1.9 ms', { min: 1.23, max: 2, mean: 1.5, median: 1.4, percentiles: { '99': 1.9 } }],
    ['min = 0 ms, max = 1e-05 ms, mean = 5e-06 ms, median = 0 ms, percentile(99.9%) = 1e-05 ms', { min: 0, max: 1e-5, mean: 5e-6, median: 0, percentiles: { '99.9': 1e-5 } }],
  ])('%s', (text, stats) => expect(parseTimingStats(text)).toEqual(stats));
  it('is undefined without the four base statistics', () => expect(parseTimingStats('min = 1 ms')).toBeUndefined());
});
