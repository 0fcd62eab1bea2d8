// sdq calibrate: capture UNet inputs from FP32 generations and compute activation ranges.
import * as path from 'node:path';
import { calibrateModelDir, readPromptFile, checkModelDir } from '@sdq/pipeline';
import { calibrateOnQueue, defaultShardStore } from '@sdq/queue';
import { COMMON_HELP, type Command } from '../command.js';
import { choiceOption, intOption, noExtraPositionals, positional, requireString, sizeOption, stringOption } from '../usage.js';

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'capture real UNet inputs over prompts and compute activation ranges',
  help: `Usage: sdq calibrate <model dir> --prompts <file> --out <dir> [--method minmax|percentile|entropy] [--samples N] [--steps N]

Runs the FP32 pipeline over the prompts (DDIM, guidance 5, seeds 1234, 1235, ...) and keeps
the UNet inputs of every k-th step (both guidance halves, as the UNet sees them), then runs
the UNet over them and records a range per activation of the layers INT8 quantizes.
Writes <out>/unet_inputs.npz, <out>/ranges.json, <out>/calibration.json (amax and scale per
tensor) and <out>/calibration.cache (TensorRT 10 INT8 calibration cache for trtexec --calib);
<out> appears complete or not at all. Feed <out> to "sdq quantize".

Options:
  --prompts FILE        .txt (one prompt per line, # comments) or .jsonl ({"prompt": ...}) (required)
  --out DIR             output dir (required)
  --method M            minmax (default), percentile or entropy
  --samples N           UNet input sets to keep (default 40)
  --steps N             denoising steps per generation (default 10)
  --size WxH            generation size (default: the UNet's sample_size x 8)
  --threads N           onnxruntime intra-op threads (default 2)
  --queue URL           split the work into jobs on a Redis queue (redis://host:port) for "sdq worker"s
                        and merge their results: the same ranges as one process; <out> then has no
                        unet_inputs.npz (the inputs stay with the workers)
  --shard-size N        with --queue: generations per job (default 1)
  --shard-store DIR     with --queue: where shard results are kept for reruns (default ~/.cache/sdq/shards)

${COMMON_HELP}

Examples:
  sdq calibrate fixtures/models/shapes-sd --prompts packages/calib/prompts/shapes-sd.txt --out out/calib --samples 80
  sdq calibrate my-sd15 --prompts prompts.txt --out calib-sd15 --method entropy --steps 20`,
  options: { prompts: { type: 'string' }, out: { type: 'string' }, method: { type: 'string' }, samples: { type: 'string' }, steps: { type: 'string' }, size: { type: 'string' }, threads: { type: 'string' },
    queue: { type: 'string' }, 'shard-size': { type: 'string' }, 'shard-store': { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const name = 'calibrate';
    noExtraPositionals(positionals, 1, name);
    const modelDir = path.resolve(ctx.io.cwd, positional(positionals, 0, 'model dir', name));
    const promptsFile = path.resolve(ctx.io.cwd, requireString(values, 'prompts', name));
    const out = path.resolve(ctx.io.cwd, requireString(values, 'out', name));
    ctx.writesTo(out);
    const method = choiceOption(values, 'method', ['minmax', 'percentile', 'entropy'] as const, name);
    const samples = intOption(values, 'samples', name, 1);
    const steps = intOption(values, 'steps', name, 1);
    const threads = intOption(values, 'threads', name, 1);
    const size = sizeOption(values, name);
    await checkModelDir(modelDir);
    const prompts = await readPromptFile(promptsFile);
    const queue = stringOption(values, 'queue');
    const shardStoreArg = stringOption(values, 'shard-store');
    const shardStore = shardStoreArg ? path.resolve(ctx.io.cwd, shardStoreArg) : defaultShardStore();
    if (queue) ctx.writesTo(shardStore);
    const settings = { prompts, method, samples, steps, threads, size, onProgress: ctx.progress };
    const r = queue
      ? await calibrateOnQueue(modelDir, out, { ...settings, queue, shardSize: intOption(values, 'shard-size', name, 1), shardStore })
      : await calibrateModelDir(modelDir, out, settings);
    if (ctx.json) ctx.printJson({ ok: true, ...r, prompts: prompts.length, method: method ?? 'minmax' });
    else ctx.io.stdout(`${r.outDir}: ${r.sets} UNet input sets from ${r.generations} generations (${prompts.length} prompts given), ranges of ${r.tensors} tensors (${method ?? 'minmax'})\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
  },
};
