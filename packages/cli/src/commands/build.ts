// sdq build: TensorRT engines (or their trtexec commands with --dry-run).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { buildEngines, PRECISIONS } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { choiceOption, noExtraPositionals, positional, stringOption, UsageError } from '../usage.js';

export const buildCommand: Command = {
  name: 'build',
  summary: 'build TensorRT engine plans with trtexec (or print the commands)',
  help: `Usage: sdq build <model dir> --precision fp32|fp16|int8 [--trtexec PATH] [--dry-run] [--out DIR]

Plans one engine per component (text encoder, UNet, VAE decoder) with optimization profiles
from the model's inputs, picks the ONNX each precision needs (FP32 export; the FP16 model
dir; the QDQ INT8 model dir: TensorRT 11 builds strongly typed networks, so the ONNX types
set the precision) and runs trtexec. Engines already built from the same ONNX are reused.
<model dir> may be an FP32 export or a model dir made by sdq (its FP32 source and sibling
fp16/ and int8/ dirs are found from its stamp).

Options:
  --precision P         fp32, fp16 or int8 (required)
  --trtexec PATH        trtexec executable (default: $TRTEXEC, then PATH)
  --trt-version V       TensorRT version to plan for in --dry-run without trtexec (default 10.16)
  --dry-run             print the trtexec commands, build nothing
  --out DIR             engines dir (default: out/<model>/engines-<precision>, or next to a dir sdq made)

${COMMON_HELP}

Examples:
  sdq build out/shapes-sd/int8 --precision int8 --dry-run
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
    const made = existsSync(path.join(modelDir, 'sdq-made-from.json'));
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
    if (ctx.json) {
      ctx.printJson({ ok: true, dryRun: summary.dryRun, plans: summary.plans, engines: summary.result?.engines.map((e) => ({ component: e.plan.component, engine: e.plan.engine, status: e.status })) ?? null });
      return;
    }
    if (summary.dryRun) ctx.io.stdout(summary.script);
    else for (const e of summary.result!.engines) ctx.io.stdout(`${e.plan.engine}  ${e.status}${e.reason ? ` (${e.reason})` : ''}\n`);
  },
};
