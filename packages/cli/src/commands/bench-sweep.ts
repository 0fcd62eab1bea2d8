// sdq bench --sweep sweep.json [--queue URL]: every cell of the sweep (precision x INT8 recipe x scheduler x steps x
// size) benchmarked, in this process or by `sdq worker`s on a Redis queue, and written as one report.
import * as path from 'node:path';
import {
  readSweepFile, resolveSweep, runSweep, writeSweepReport, formatTextTable, tableHeader, tableRows, machineLine, ensureWritableParent,
  type SweepCellRunner,
} from '@sdq/pipeline';
import type { CommandContext } from '../command.js';
import { UsageError, type OptionValues, stringOption } from '../usage.js';
import { printWarnings, readGenerationSettings } from './generation-options.js';

/** bench options that sweep.json holds instead, and the key that does. */
const SET_IN_SWEEP: Readonly<Record<string, string>> = {
  precisions: 'precisions', runs: 'runs', warmup: 'warmup', prompt: 'prompt', 'negative-prompt': 'negativePrompt', steps: 'steps',
  scheduler: 'schedulers', guidance: 'guidance', seed: 'seed', size: 'sizes', threads: 'threads', device: 'device',
  'calibration-prompts': 'calibrationPrompts', 'calibration-samples': 'recipes[].samples', 'calibration-steps': 'recipes[].calibrationSteps',
  'fidelity-prompts': '', 'fidelity-steps': '', sequential: '',
};

export const SWEEP_HELP = `Sweeps (--sweep sweep.json; docs/cli.md has the format):
  --sweep FILE          benchmark every cell of FILE's axes: precisions x INT8 recipes (calibration
                        method, percentile, what stays float) x schedulers x step counts x sizes; one
                        model dir per distinct recipe under --cache; one report (--report, default
                        <cache>/sweep-<FILE name>) with a row per cell. Generation settings come from FILE.
  --queue URL           run the cells as jobs on a Redis queue (redis://host:port) for "sdq worker"s;
                        images and quality numbers are those of an in-process sweep
  --shard-store DIR     with --queue: where cell results are kept, so a rerun reuses them
                        (default ~/.cache/sdq/shards)`;

export async function runBenchSweep(sweepArg: string, values: OptionValues, positionals: readonly string[], ctx: CommandContext, bundledSteps: number): Promise<number> {
  const started = performance.now();
  const name = 'bench';
  for (const [option, key] of Object.entries(SET_IN_SWEEP)) {
    if (values[option] === undefined) continue;
    throw new UsageError(key ? `--${option} does not go with --sweep; set "${key}" in ${sweepArg}` : `--${option} does not go with --sweep (sweeps measure latency and quality, not prompt fidelity)`, name);
  }
  const spec = await readSweepFile(path.resolve(ctx.io.cwd, sweepArg));
  const queue = stringOption(values, 'queue');
  let runCells: SweepCellRunner | undefined;
  const jobs = { total: 0, reused: 0 };
  if (queue) {
    // BullMQ and ioredis load only here; a wrong address fails now, before any model dir is made.
    const { checkQueue, queueCellRunner, openShardStore, defaultShardStore } = await import('@sdq/queue');
    const address = await checkQueue(queue);
    const storeDir = path.resolve(ctx.io.cwd, stringOption(values, 'shard-store') ?? defaultShardStore());
    ctx.writesTo(storeDir);
    runCells = queueCellRunner(address, openShardStore(storeDir), jobs);
  }
  const modelArg = positionals[0] ?? spec.model;
  // The sweep's model, prompt and defaults as `sdq bench` reads them (default model: the bundled shapes-sd).
  const g = await readGenerationSettings(spec.prompt === undefined ? {} : { prompt: spec.prompt }, modelArg, ctx.io.cwd, name, modelArg === undefined ? bundledSteps : 25);
  printWarnings(g.warnings, ctx, name);
  const sweep = await resolveSweep(spec, g.modelDir, { prompt: g.prompt, guidance: g.guidance, steps: g.steps, threads: g.threads ?? 2 });
  const cacheDir = path.resolve(ctx.io.cwd, stringOption(values, 'cache') ?? path.join('out', g.info.name));
  const reportDir = path.resolve(ctx.io.cwd, stringOption(values, 'report') ?? path.join(cacheDir, `sweep-${path.basename(spec.file).replace(/\.json$/i, '')}`));
  await ensureWritableParent(reportDir);
  ctx.writesTo(cacheDir);
  ctx.writesTo(reportDir);

  const outcome = await runSweep(sweep, { cacheDir, runCells, onProgress: ctx.progress, notes: g.warnings });
  const files = await writeSweepReport(reportDir, outcome);
  const wallMs = performance.now() - started;
  const r = outcome.report;
  if (ctx.json) {
    ctx.printJson({ ok: true, report: r, files, wallMs, jobs: queue ? jobs : null, warnings: g.warnings });
    return 0;
  }
  ctx.io.stdout(
    [
      `sdq bench --sweep ${sweepArg} ${r.model}: ${r.sweep!.cells} cells, "${r.prompt}", guidance ${r.guidance}, seed ${r.seed}, ${r.warmup} warm-up + ${r.runs} runs per cell`,
      machineLine(r),
      '',
      formatTextTable(tableHeader(r), tableRows(r)),
      '',
      'speed-up and PSNR/SSIM/max abs diff: against the FP32 cell of the same scheduler, steps and size',
      ...r.notes.map((n) => `note: ${n}`),
      `report: ${files.html}`,
      ...(queue ? [`queue: ${jobs.total} cell jobs, ${jobs.reused} taken from earlier runs (latency too: see --shard-store)`] : []),
      `total ${(wallMs / 1000).toFixed(1)} s wall`,
      '',
    ].join('\n'),
  );
  return 0;
}
