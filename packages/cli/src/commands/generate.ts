// sdq generate: one image from a prompt (default model: the bundled shapes-sd).
import * as path from 'node:path';
import { generateImage, checkModelDir, readPromptLanguage, SCHEDULERS } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { floatOption, intOption, noExtraPositionals, sizeOption, stringOption, UsageError } from '../usage.js';
import { defaultModelDir } from '../fixtures.js';
import { SHAPES_DEFAULT_PROMPT, GENERIC_DEFAULT_PROMPT } from './bench.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'text to image: one PNG from a prompt, with per-stage timings',
  help: `Usage: sdq generate [<model dir>] --prompt TEXT [options]

Runs the text encoder, the denoising loop (classifier-free guidance) and the VAE decoder on
onnxruntime (CPU) and writes a PNG. With no <model dir>, uses the bundled shapes-sd model.

Options:
  --prompt TEXT          what to draw (default: "${SHAPES_DEFAULT_PROMPT}" on shapes-sd)
  --negative-prompt TEXT
  --steps N              denoising steps (default 25)
  --scheduler NAME       ${Object.keys(SCHEDULERS).join(', ')} (default ddim)
  --guidance X           guidance scale; 1 disables the unconditional pass (default 5 on shapes-sd, else 7.5)
  --seed N               (default 42)
  --size WxH             multiples of 8 (default: the UNet's sample_size x 8)
  --threads N            onnxruntime intra-op threads (default 2)
  --out FILE             PNG to write (default out.png)

${COMMON_HELP}

Examples:
  sdq generate --prompt "a yellow square on a black background" --out square.png
  sdq generate fixtures/models/tiny-sd --prompt "a cat on a sofa" --steps 25 --scheduler euler_a --guidance 7.5 --seed 42 --size 512x512 --out cat.png`,
  options: {
    prompt: { type: 'string' },
    'negative-prompt': { type: 'string' },
    steps: { type: 'string' },
    scheduler: { type: 'string' },
    guidance: { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
  },
  async run({ values, positionals }, ctx) {
    const name = 'generate';
    noExtraPositionals(positionals, 1, name);
    const steps = intOption(values, 'steps', name, 1) ?? 25;
    const seed = intOption(values, 'seed', name, 0) ?? 42;
    const threads = intOption(values, 'threads', name, 1) ?? 2;
    const guidanceArg = floatOption(values, 'guidance', name);
    const size = sizeOption(values, name);
    const scheduler = stringOption(values, 'scheduler') ?? 'ddim';
    if (!(scheduler in SCHEDULERS)) throw new UsageError(`--scheduler must be one of ${Object.keys(SCHEDULERS).join(', ')}, got "${scheduler}"`, name);
    const modelDir = path.resolve(ctx.io.cwd, positionals[0] ?? defaultModelDir(ctx.io.cwd));
    const info = await checkModelDir(modelDir);
    const language = await readPromptLanguage(modelDir);
    const side = (info.sampleSize ?? 64) * 8;
    const { width, height } = size ?? { width: side, height: side };
    const out = path.resolve(ctx.io.cwd, stringOption(values, 'out') ?? 'out.png');
    ctx.writesTo(out);
    const prompt = stringOption(values, 'prompt') ?? (language ? SHAPES_DEFAULT_PROMPT : GENERIC_DEFAULT_PROMPT);
    const result = await generateImage(modelDir, {
      prompt,
      negativePrompt: stringOption(values, 'negative-prompt') ?? '',
      steps,
      guidance: guidanceArg ?? (language ? 5 : 7.5),
      seed,
      width,
      height,
      scheduler,
      threads,
      out,
      onStep: (done, total) => ctx.progress({ task: 'generate', done, total }),
    });
    const t = result.timings;
    if (ctx.json) {
      ctx.printJson({ ok: true, out, model: modelDir, prompt, width, height, steps, scheduler, seed, timings: t });
      return;
    }
    ctx.io.stdout(
      `${out}  ${width}x${height}, ${scheduler} ${steps} steps, seed ${seed}\n` +
        `total ${t.totalMs.toFixed(0)} ms: text encoder ${t.textEncoderMs.toFixed(1)} ms, UNet ${t.unetMs.toFixed(0)} ms (${(t.unetMs / t.unetCalls).toFixed(1)} ms/step), ` +
        `scheduler ${t.schedulerMs.toFixed(1)} ms, VAE decoder ${t.vaeDecoderMs.toFixed(0)} ms\n`,
    );
  },
};
