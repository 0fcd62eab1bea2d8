// sdq fixture create: SD-shaped synthetic model dirs for tests and benchmarks at any scale.
import * as path from 'node:path';
import { createFixture, FIXTURE_PRESETS, formatBytes } from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { intOption, noExtraPositionals, stringOption, UsageError } from '../usage.js';
import { clipTokenizerDir } from '../fixtures.js';

export const fixtureCreateCommand: Command = {
  name: 'fixture create',
  summary: 'write an SD-shaped model dir (tiny, small, sd15, sdxl size) with seeded random weights',
  help: `Usage: sdq fixture create --preset ${FIXTURE_PRESETS.join('|')} --out <dir> [--seed N] [--force]

Writes text_encoder/, unet/ (external weights.pb), vae_decoder/, tokenizer/ (the real CLIP
vocabulary) and scheduler/ in the optimum layout, built with sdq's graph builder. Weights
are seeded random values (not trained): use it for latency, memory and conversion tests at
real scale; sd15 has the full SD 1.5 UNet size (859.5M parameters, about 3.4 GB). tiny-sdxl and
sdxl are SDXL dirs (text_encoder_2/, tokenizer_2/, a UNet with text_embeds and time_ids); sdxl
has the SDXL base sizes (UNet 2567.5M parameters, about 10.3 GB; 13.7 GB in all), written one
component at a time with external weights so memory stays bounded.

Options:
  --preset NAME         ${FIXTURE_PRESETS.join(', ')} (required)
  --out DIR             model dir to create (required; must not exist unless --force)
  --seed N              weight seed (default 0)
  --force               replace an existing --out

${COMMON_HELP}

Examples:
  sdq fixture create --preset small --out /tmp/small-sd
  sdq fixture create --preset sd15 --out /data/sd15-fixture
  sdq fixture create --preset sdxl --out /data/sdxl-fixture`,
  options: { preset: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, force: { type: 'boolean' } },
  async run({ values, positionals }, ctx) {
    const name = 'fixture create';
    noExtraPositionals(positionals, 0, name);
    const preset = stringOption(values, 'preset');
    if (!preset) throw new UsageError(`missing --preset ${FIXTURE_PRESETS.join('|')}`, name);
    if (!(FIXTURE_PRESETS as string[]).includes(preset)) throw new UsageError(`--preset must be one of ${FIXTURE_PRESETS.join(', ')}, got "${preset}"`, name);
    const outArg = stringOption(values, 'out');
    if (!outArg) throw new UsageError('missing --out <dir>', name);
    const out = path.resolve(ctx.io.cwd, outArg);
    ctx.writesTo(out);
    const r = await createFixture(preset, out, {
      tokenizerDir: clipTokenizerDir(ctx.io.cwd),
      seed: intOption(values, 'seed', name, 0),
      overwrite: values.force === true,
      onProgress: ctx.progress,
    });
    if (ctx.json) ctx.printJson({ ok: true, preset, ...r });
    else {
      const p = r.parameters;
      ctx.io.stdout(`${r.dir}: ${preset} preset, ${formatBytes(r.bytes)} in ${(r.ms / 1000).toFixed(1)} s; parameters: UNet ${(p.unet / 1e6).toFixed(1)}M, text encoder ${(p.textEncoder / 1e6).toFixed(1)}M${p.textEncoder2 === undefined ? '' : `, text encoder 2 ${(p.textEncoder2 / 1e6).toFixed(1)}M`}, VAE decoder ${(p.vaeDecoder / 1e6).toFixed(1)}M\n`);
    }
  },
};
