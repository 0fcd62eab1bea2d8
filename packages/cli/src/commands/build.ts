// sdq build: TensorRT engines (or their trtexec commands with --dry-run).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { buildEngines, PRECISIONS, STAMP_FILE, type PerformanceSummary } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { choiceOption, noExtraPositionals, positional, stringOption, UsageError } from '../usage.js';

/** trtexec's figures for one engine, as engines.json records them: build time, size, throughput, GPU compute time. */
function engineFigures(e: { buildTimeSec?: number; engineSizeMiB?: number; gpu?: string; performance: PerformanceSummary | null }): string {
  const parts: string[] = [];
  if (e.buildTimeSec !== undefined) parts.push(`built in ${e.buildTimeSec.toFixed(1)} s`);
  if (e.engineSizeMiB !== undefined) parts.push(`${e.engineSizeMiB.toFixed(1)} MiB`);
  const p = e.performance;
  if (p?.throughputQps !== undefined) parts.push(`${p.throughputQps.toFixed(1)} qps`);
  if (p?.gpuComputeTimeMs) parts.push(`GPU compute mean ${p.gpuComputeTimeMs.mean.toFixed(3)} ms, median ${p.gpuComputeTimeMs.median.toFixed(3)} ms`);
  if (p?.latencyMs) parts.push(`latency mean ${p.latencyMs.mean.toFixed(3)} ms`);
  if (e.gpu) parts.push(e.gpu);
  return parts.length ? `  ${parts.join(', ')}\n` : '';
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'build TensorRT engine plans with trtexec (or print the commands)',
  help: `Usage: sdq build <model dir> --precision fp32|fp16|int8 [--trtexec PATH] [--dry-run] [--out DIR]

Plans one engine per component (text encoder, UNet, VAE decoder) with optimization profiles
from the model's inputs, picks the ONNX each precision needs and runs trtexec. Engines already
built from the same ONNX are reused. <model dir> may be an FP32 export or any dir sdq made
(sdq convert, sdq quantize, sdq bench's cache): each says what it holds in sdq-made-from.json,
and the models are taken from it, bench's sibling fp16/ and int8/ dirs, and the dirs it was
made from back to the FP32 export.
  TensorRT 10.x: FP32 and FP16 build from the FP32 model (FP16 with --fp16), INT8 from the QDQ
  UNet (--fp16 --int8). TensorRT 11.x builds strongly typed networks: each engine needs a model
  of its precision (sdq convert --to fp16; sdq quantize --activations int8).
  An INT8 set quantizes the UNet only: the text encoder and VAE decoder are built FP16 where
  the TensorRT version can, else FP32 (their engines are named so).
Models made for onnxruntime (attention as MultiHeadAttention, uint8 Q/DQ) are passed over;
when no dir has what a precision needs, sdq says which dir and what to run.

Options:
  --precision P         fp32, fp16 or int8 (required)
  --trtexec PATH        trtexec executable (default: $TRTEXEC, then PATH)
  --trt-version V       TensorRT version to plan for in --dry-run without trtexec (default 10.16)
  --dry-run             print the trtexec commands, build nothing
  --out DIR             engines dir (default: out/<model>/engines-<precision>, or next to a dir sdq made)

${COMMON_HELP}

Examples:
  sdq quantize fixtures/models/shapes-sd out/int8-trt --calibration out/calib --activations int8
  sdq build out/int8-trt --precision int8 --dry-run --trt-version 11.1
  sdq build my-sd15 --precision fp16 --trtexec /usr/src/tensorrt/bin/trtexec --out engines/`,
  options: { precision: { type: 'string' }, trtexec: { type: 'string' }, 'trt-version': { type: 'string' }, 'dry-run': { type: 'boolean' }, out: { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const name = 'build';
    noExtraPositionals(positionals, 1, name);
    const modelDir = path.resolve(ctx.io.cwd, positional(positionals, 0, 'model dir', name));
    const precision = choiceOption(values, 'precision', PRECISIONS, name);
    if (!precision) throw new UsageError('missing --precision fp32|fp16|int8', name);
    const outArg = stringOption(values, 'out');
    // Engines never go into the model dir: next to a dir sdq made (out/<model>/engines-P), else ./out/<model>/engines-P.
    const made = existsSync(path.join(modelDir, STAMP_FILE));
    const out = outArg ?? (made ? path.join(path.dirname(modelDir), `engines-${precision}`) : path.join('out', path.basename(modelDir), `engines-${precision}`));
    ctx.writesTo(path.resolve(ctx.io.cwd, out));
    const summary = await buildEngines(modelDir, {
      precision,
      outDir: path.resolve(ctx.io.cwd, out),
      trtexec: stringOption(values, 'trtexec'),
      trtVersion: stringOption(values, 'trt-version'),
      dryRun: values['dry-run'] === true,
      onProgress: ctx.progress,
    });
    const engines = summary.engines?.map((e) => ({
      component: e.plan.component,
      precision: e.plan.precision,
      onnx: e.plan.onnx,
      engine: e.plan.engine,
      status: e.status,
      ...(e.reason ? { reason: e.reason } : {}),
      trtVersion: e.entry.trtVersion,
      ...(e.entry.gpu ? { gpu: e.entry.gpu } : {}),
      ...(e.entry.buildTimeSec !== undefined ? { buildTimeSec: e.entry.buildTimeSec } : {}),
      ...(e.entry.engineSizeMiB !== undefined ? { engineSizeMiB: e.entry.engineSizeMiB } : {}),
      performance: e.entry.performance ?? null,
    }));
    if (ctx.json) {
      ctx.printJson({ ok: true, dryRun: summary.dryRun, trtVersion: summary.trtVersion, plans: summary.plans, engines: engines ?? null, manifest: summary.manifestPath ?? null });
      return;
    }
    if (summary.dryRun) ctx.io.stdout(summary.script);
    else for (const e of engines ?? []) ctx.io.stdout(`${e.engine}  ${e.status}${e.reason ? ` (why: ${e.reason})` : ''}\n${engineFigures(e)}`);
  },
};
