// sdq generate: one image from a prompt (default model: the bundled shapes-sd).
import * as path from 'node:path';
import { ensureWritableFile, generateImage, SCHEDULERS } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { noExtraPositionals, stringOption } from '../usage.js';
import {
  DEVICE_HELP, GENERATION_OPTIONS, SHAPES_DEFAULT_PROMPT, SIZE_CONDITIONING_HELP, SIZE_CONDITIONING_OPTIONS, printWarnings, readGenerationSettings, readSizeConditioning,
} from './generation-options.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'text to image: one PNG from a prompt, with per-stage timings',
  help: `Usage: sdq generate [<model dir>] --prompt TEXT [options]

Runs the text encoder(s), the denoising loop (classifier-free guidance) and the VAE decoder on
onnxruntime (CPU, or the GPU with --device webgpu) and writes a PNG. SD 1.x/2.x and SDXL dirs
(model_index.json naming an SDXL pipeline: both text encoders, text_embeds/time_ids conditioning, as
diffusers runs it). With no <model dir>, uses the bundled shapes-sd model.

Options:
  --prompt TEXT          what to draw (default: "${SHAPES_DEFAULT_PROMPT}" on shapes-sd)
  --negative-prompt TEXT  (left out: SDXL uses zero unconditional embeddings, force_zeros_for_empty_prompt)
  --steps N              denoising steps (default 25)
  --scheduler NAME       ${Object.keys(SCHEDULERS).join(', ')} (default ddim)
  --guidance X           guidance scale; 1 disables the unconditional pass (default 5 on shapes-sd, else 7.5)
  --seed N               (default 42)
  --size WxH             multiples of the model's size step: VAE factor x 2^(UNet downsamplings),
                         32 on shapes-sd, 64 on SD 1.5 (default: the UNet's sample_size x 8)
  --threads N            onnxruntime intra-op threads (default 2)
${DEVICE_HELP}
  --out FILE             PNG to write (default out.png)

${SIZE_CONDITIONING_HELP}

${COMMON_HELP}

Examples:
  sdq generate --prompt "a yellow square on a black background" --out square.png
  sdq generate fixtures/models/tiny-sdxl --prompt "a cat on a sofa" --steps 20 --scheduler euler --size 128x64 --out cat-xl.png
  sdq generate sdxl-base --prompt "a lighthouse at dusk" --negative-original-size 512x512 --negative-target-size 1024x1024
  sdq generate fixtures/models/tiny-sd --prompt "a cat on a sofa" --steps 25 --scheduler euler_a --guidance 7.5 --seed 42 --size 512x512 --out cat.png`,
  options: { ...GENERATION_OPTIONS, ...SIZE_CONDITIONING_OPTIONS, out: { type: 'string' } },
  async run({ values, positionals }, ctx) {
    const name = 'generate';
    noExtraPositionals(positionals, 1, name);
    const g = await readGenerationSettings(values, positionals[0], ctx.io.cwd, name, 25);
    const { sizeConditioning, warnings } = readSizeConditioning(values, g, name);
    const out = path.resolve(ctx.io.cwd, stringOption(values, 'out') ?? 'out.png');
    await ensureWritableFile(out); // an output that cannot be written fails first, alone
    printWarnings([...g.warnings, ...warnings], ctx, name);
    ctx.writesTo(out);
    const result = await generateImage(g.modelDir, {
      prompt: g.prompt,
      negativePrompt: g.negativePrompt,
      steps: g.steps,
      guidance: g.guidance,
      seed: g.seed,
      width: g.width,
      height: g.height,
      sizeConditioning,
      scheduler: g.scheduler,
      threads: g.threads ?? 2,
      device: g.device,
      out,
      onStep: (done, total) => ctx.progress({ task: 'generate', done, total }),
    });
    const t = result.timings;
    if (ctx.json) {
      ctx.printJson({ ok: true, out, device: g.device, model: g.modelDir, family: g.info.family, prompt: g.prompt, width: g.width, height: g.height, steps: g.steps, scheduler: g.scheduler, seed: g.seed, ...(sizeConditioning && { sizeConditioning }), timings: t, warnings: [...g.warnings, ...warnings] });
      return;
    }
    ctx.io.stdout(
      `${out}  ${g.width}x${g.height}, ${g.scheduler} ${g.steps} steps, seed ${g.seed}${g.device === 'cpu' ? '' : `, on ${g.device}`}\n` +
        `total ${t.totalMs.toFixed(0)} ms: text encoder ${t.textEncoderMs.toFixed(1)} ms, UNet ${t.unetMs.toFixed(0)} ms (${(t.unetMs / t.unetCalls).toFixed(1)} ms/step), ` +
        `scheduler ${t.schedulerMs.toFixed(1)} ms, VAE decoder ${t.vaeDecoderMs.toFixed(0)} ms\n`,
    );
  },
};
