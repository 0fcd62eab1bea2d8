// sdq calibrate: capture UNet inputs from FP32 generations and compute activation ranges.
import * as path from 'node:path';
import { calibrateModelDir, readPromptFile, checkModelDir, DEFAULT_INT8_RECIPE } from '@sdq/pipeline';
import { DEVICE_HELP, readDevice } from './generation-options.js';
import { COMMON_HELP, type Command } from '../command.js';
import { checkSizeFits } from './generation-options.js';
import { choiceOption, intOption, noExtraPositionals, positional, requireString, sizeOption, stringOption } from '../usage.js';

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'capture real UNet inputs over prompts and compute activation ranges',
  help: `Usage: sdq calibrate <model dir> --out <dir> [--prompts <file>] [--method percentile|minmax|entropy] [--samples N] [--steps N]

Runs the FP32 pipeline over the prompts (DDIM, guidance 5, seeds 1234, 1235, ...) and keeps
the UNet inputs of every k-th step (both guidance halves, as the UNet sees them), then runs
the UNet over them and records a range per activation of the layers INT8 quantizes.
The defaults are the INT8 recipe of "sdq bench": "sdq calibrate" + "sdq quantize" with no
options give the UNet bench's INT8 dir has. Each generation gives at least half its steps,
so at most ceil(samples / ceil(steps/2)) prompts are used, spread evenly through the file.
Writes <out>/unet_inputs.npz, <out>/ranges.json, <out>/calibration.json (amax and scale per
tensor) and <out>/calibration.cache (TensorRT 10 INT8 calibration cache for trtexec --calib);
<out> appears complete or not at all. Feed <out> to "sdq quantize".

Options:
  --out DIR             output dir (required)
  --prompts FILE        .txt (one prompt per line, # comments) or .jsonl ({"prompt": ...});
                        default: the recipe's 8 prompts (the model's own prompt language when it
                        has one, else generic ones)
  --method M            percentile (default: asymmetric 99.999th percentile, 2048 bins), minmax
                        or entropy (KL, 2048 bins)
  --samples N           UNet input sets to keep (default ${DEFAULT_INT8_RECIPE.samples})
  --steps N             denoising steps per generation (default ${DEFAULT_INT8_RECIPE.steps})
  --size WxH            generation size, multiples of the model's size step as in "sdq generate"
                        (default: the UNet's sample_size x 8)
  --threads N           onnxruntime intra-op threads (default 2)
${DEVICE_HELP}
                        (the capture generations run there; statistics are collected on the CPU)
  --queue URL           split the work into jobs on a Redis queue (redis://host:port) for "sdq worker"s
                        and merge their results: the same ranges as one process; <out> then has no
                        unet_inputs.npz (the inputs stay with the workers)
  --shard-size N        with --queue: generations per job (default 1)
  --shard-store DIR     with --queue: where shard results are kept for reruns (default ~/.cache/sdq/shards)

${COMMON_HELP}

Examples:
  sdq calibrate fixtures/models/shapes-sd --out out/calib
  sdq calibrate fixtures/models/shapes-sd --prompts packages/calib/prompts/shapes-sd.txt --out out/calib --samples 80
  sdq calibrate my-sd15 --prompts prompts.txt --out calib-sd15 --method entropy --steps 20`,
  options: { prompts: { type: 'string' }, out: { type: 'string' }, method: { type: 'string' }, samples: { type: 'string' }, steps: { type: 'string' }, size: { type: 'string' }, threads: { type: 'string' }, device: { type: 'string' },
    queue: { type: 'string' }, 'shard-size': { type: 'string' }, 'shard-store': { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const name = 'calibrate';
    noExtraPositionals(positionals, 1, name);
    const modelDir = path.resolve(ctx.io.cwd, positional(positionals, 0, 'model dir', name));
    const promptsArg = stringOption(values, 'prompts');
    const out = path.resolve(ctx.io.cwd, requireString(values, 'out', name));
    ctx.writesTo(out);
    const method = choiceOption(values, 'method', ['percentile', 'minmax', 'entropy'] as const, name);
    const samples = intOption(values, 'samples', name, 1);
    const steps = intOption(values, 'steps', name, 1);
    const threads = intOption(values, 'threads', name, 1);
    const size = sizeOption(values, name);
    const info = await checkModelDir(modelDir);
    if (size) checkSizeFits(info, size.width, size.height, name);
    const prompts = promptsArg === undefined ? undefined : await readPromptFile(path.resolve(ctx.io.cwd, promptsArg));
    const device = readDevice(values, name);
    const queue = stringOption(values, 'queue');
    const shardStoreArg = stringOption(values, 'shard-store');
    const settings = { prompts, method, samples, steps, threads, size, device, onProgress: ctx.progress };
    // The queue (BullMQ, ioredis) loads only for --queue: an in-process calibration needs neither.
    // Ctrl-C while the coordinator waits on the queue stops the wait: nothing written, the way to resume said, exit
    // 130 (SIGTERM 143). Once every shard is in, Ctrl-C ends the process at once, as for every command.
    let interrupted: { signal: NodeJS.Signals; code: number } | undefined;
    const onQueue = async (url: string): ReturnType<typeof import('@sdq/queue').calibrateOnQueue> => {
      const { calibrateOnQueue, defaultShardStore } = await import('@sdq/queue');
      const shardStore = shardStoreArg ? path.resolve(ctx.io.cwd, shardStoreArg) : defaultShardStore();
      ctx.writesTo(shardStore);
      const stop = new AbortController();
      const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal, i) => {
        const handler = () => {
          interrupted = { signal, code: [130, 143][i] };
          stop.abort();
        };
        process.once(signal, handler);
        return () => void process.off(signal, handler);
      });
      const release = () => handlers.forEach((off) => off());
      try {
        return await calibrateOnQueue(modelDir, out, { ...settings, queue: url, shardSize: intOption(values, 'shard-size', name, 1), shardStore, signal: stop.signal, onAllShardsIn: release });
      } finally {
        release();
      }
    };
    let r;
    try {
      r = queue ? await onQueue(queue) : await calibrateModelDir(modelDir, out, settings);
    } catch (e) {
      if (!interrupted || (e as { code?: unknown } | undefined)?.code !== 'INTERRUPTED') throw e;
      ctx.progress.end();
      const message = `${interrupted.signal}: ${(e as Error).message}`;
      ctx.io.stderr(`sdq ${name}: ${message}\n`);
      if (ctx.json) ctx.printJson({ ok: false, error: { code: 'INTERRUPTED', message } });
      return interrupted.code;
    }
    if (ctx.json) ctx.printJson({ ok: true, ...r });
    else {
      const given = prompts ? `${r.prompts} prompts given` : `the recipe's ${r.prompts} prompts`;
      ctx.io.stdout(`${r.outDir}: ${r.sets} UNet input sets from ${r.generations} generations (${given}), ranges of ${r.tensors} tensors (${r.method})\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
    }
  },
};
