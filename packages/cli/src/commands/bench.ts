// sdq bench: FP32 / FP16 / INT8 latency and quality table (default: the bundled shapes-sd model).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  benchmark, fidelityPromptSet, writeBenchmarkReport, formatTextTable,
  tableRows, stageRows, machineLine, TABLE_HEADER, STAGE_HEADER, prepareModelDirs, openDiffusionGenerator, onnxruntimeVersion,
  readPromptFile, ensureWritableParent, PRECISIONS, FIDELITY_RULE, type Precision,
} from '@sdq/pipeline';
import { COMMON_HELP, type Command } from '../command.js';
import { UsageError, intOption, listOption, noExtraPositionals, stringOption } from '../usage.js';
import { SWEEP_HELP, runBenchSweep } from './bench-sweep.js';
import { DEVICE_HELP, GENERATION_OPTIONS, GENERIC_DEFAULT_PROMPT, SHAPES_DEFAULT_PROMPT, printWarnings, readGenerationSettings } from './generation-options.js';

/** Defaults of the no-argument run on the bundled shapes-sd (measured 12/12 faithful at 10 steps for all precisions). */
export const BUNDLED_STEPS = 15;
export const BUNDLED_FIDELITY_STEPS = 10;
/** INT8 calibration of the bundled run: 24 UNet input sets from 8 generations of 8 steps (keeps npm start short). */
export const BUNDLED_CALIBRATION = { samples: 24, steps: 8 };

const help = `Usage: sdq bench [<model dir>] [options]
       sdq bench [<model dir>] --sweep sweep.json [--queue redis://host:port]

Benchmark a model at FP32, FP16 and INT8: generate the same prompt with a fixed seed,
warm-up + timed runs per precision (interleaved, so machine noise hits all alike), and
print latency (mean, median, p90, UNet ms/step), speed-up over FP32, model size,
quality against the FP32 image (PSNR, SSIM, max abs diff) and, for models with a prompt
language (shapes-sd), prompt fidelity over a prompt set.
FP16 and INT8 models are made from <model dir> into --cache and reused while fresh.
With no <model dir>, uses the bundled shapes-sd model (@sdq/model-shapes-sd).

Options:
  --precisions LIST     comma list of fp32,fp16,int8 (default: all three)
  --runs N              timed runs per precision (default 10)
  --warmup N            untimed warm-up runs per precision (default 1)
  --prompt TEXT         (default: "${SHAPES_DEFAULT_PROMPT}" on shapes-sd, else "${GENERIC_DEFAULT_PROMPT}")
  --negative-prompt TEXT
  --steps N             denoising steps (default 25; ${BUNDLED_STEPS} on the bundled model)
  --scheduler NAME      ddim, euler, euler_a, pndm, lms, dpmpp_2m, ... (default ddim)
  --guidance X          classifier-free guidance scale (default 5 on shapes-sd, else 7.5)
  --seed N              (default 42)
  --size WxH            image size, multiples of the model's size step: VAE factor x 2^(UNet
                        downsamplings), 32 on shapes-sd, 64 on SD 1.5 (default: UNet sample_size x 8)
  --threads N           onnxruntime intra-op threads (default 2)
${DEVICE_HELP}
                        On a GPU the precisions are the GPU recipe: FP32 and FP16 with attention fused,
                        INT8 = weight-only INT8 over FP16 (see sdq convert --to int8-weights)
  --fidelity-prompts F  prompt file for the fidelity check, or "none" (default: 12 prompts of the model's language)
  --fidelity-steps N    steps for the fidelity generations (default: --steps; ${BUNDLED_FIDELITY_STEPS} on the bundled model)
  --calibration-prompts F   prompts to calibrate INT8 on (default: 8 prompts of the model's language not in the
                        fidelity set, else 8 generic prompts)
  --calibration-samples N   UNet input sets for INT8 calibration (default 40; ${BUNDLED_CALIBRATION.samples} on the bundled model)
  --calibration-steps N     steps of each calibration generation (default 10; ${BUNDLED_CALIBRATION.steps} on the bundled model)
  --cache DIR           where FP16/INT8 model dirs are made and reused (default ./out/<model name>)
  --sequential          load one precision at a time (large models); default interleaves runs
  --report DIR          write report.json, report.md and a self-contained report.html (+ PNGs) to DIR
                        (default for the bundled model: <cache>/report)

${SWEEP_HELP}

${COMMON_HELP}

Examples:
  sdq bench
  sdq bench fixtures/models/tiny-sd --prompt "a cat on a sofa" --size 512x512 --report out/tiny-report
  sdq bench my-sd15-onnx --precisions fp32,int8 --runs 5 --json > bench.json
  sdq bench my-sd15-onnx --sweep sweep.json --queue redis://10.0.0.5:6379`;

/** When `reportDir` holds the report of an earlier run: that run's time (createdAt), else undefined. */
async function readEarlierReport(reportDir: string): Promise<string | undefined> {
  try {
    const earlier = JSON.parse(await fs.readFile(path.join(reportDir, 'report.json'), 'utf8')) as { createdAt?: unknown };
    return typeof earlier.createdAt === 'string' ? earlier.createdAt : 'an unknown time';
  } catch {
    return undefined;
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark FP32/FP16/INT8: latency, speed-up, quality vs FP32, report',
  help,
  options: {
    precisions: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    ...GENERATION_OPTIONS,
    'fidelity-prompts': { type: 'string' },
    'fidelity-steps': { type: 'string' },
    'calibration-prompts': { type: 'string' },
    'calibration-samples': { type: 'string' },
    'calibration-steps': { type: 'string' },
    cache: { type: 'string' },
    sequential: { type: 'boolean' },
    report: { type: 'string' },
    sweep: { type: 'string' },
    queue: { type: 'string' },
    'shard-store': { type: 'string' },
  },
  async run({ values, positionals }, ctx) {
    const started = performance.now();
    const name = 'bench';
    noExtraPositionals(positionals, 1, name);
    const sweepArg = stringOption(values, 'sweep');
    if (sweepArg !== undefined) return await runBenchSweep(sweepArg, values, positionals, ctx, BUNDLED_STEPS);
    for (const option of ['queue', 'shard-store']) {
      if (values[option] !== undefined) throw new UsageError(`--${option} goes with --sweep (a single sdq bench runs in this process)`, name);
    }
    const precisionList = listOption(values, 'precisions') ?? [...PRECISIONS];
    for (const p of precisionList) {
      if (!(PRECISIONS as readonly string[]).includes(p)) throw new UsageError(`--precisions: unknown precision "${p}"; use fp32, fp16, int8`, name);
    }
    const precisions = precisionList as Precision[];
    const runs = intOption(values, 'runs', name, 1) ?? 10;
    const warmup = intOption(values, 'warmup', name, 0) ?? 1;
    // The bundled model's run (npm start) must finish in about a minute on 2 cores: fewer steps by default there.
    const bundled = positionals[0] === undefined;
    const fidelitySteps = intOption(values, 'fidelity-steps', name, 1);
    const sequential = Boolean(values.sequential);
    const g = await readGenerationSettings(values, positionals[0], ctx.io.cwd, name, bundled ? BUNDLED_STEPS : 25);
    const { info, language, prompt, steps, threads, width, height, device } = g;
    printWarnings(g.warnings, ctx, name);

    const fidelityArg = stringOption(values, 'fidelity-prompts');
    let fidelityPrompts: string[] | undefined;
    if (fidelityArg && fidelityArg !== 'none') fidelityPrompts = await readPromptFile(path.resolve(ctx.io.cwd, fidelityArg));
    else if (!fidelityArg && language) fidelityPrompts = fidelityPromptSet(language, 12);
    if (fidelityPrompts && !language) {
      throw new UsageError(`--fidelity-prompts needs a model with a prompt language (TRAINING.json with colours and shapes); ${info.name} has none, use --fidelity-prompts none`, name);
    }
    const calibrationArg = stringOption(values, 'calibration-prompts');
    const calibrationPrompts = calibrationArg ? await readPromptFile(path.resolve(ctx.io.cwd, calibrationArg)) : undefined;

    const cacheDir = path.resolve(ctx.io.cwd, stringOption(values, 'cache') ?? path.join('out', info.name));
    const reportArg = stringOption(values, 'report');
    // The bundled run always leaves a report next to its models, so `npm start` ends with a page to open.
    const reportDir = reportArg ? path.resolve(ctx.io.cwd, reportArg) : bundled ? path.join(cacheDir, 'report') : undefined;
    // Fail before minutes of work, not after: the report location must be writable now.
    if (reportDir) await ensureWritableParent(reportDir);
    const earlierReport = reportDir ? await readEarlierReport(reportDir) : undefined;
    ctx.writesTo(cacheDir);
    if (reportDir) ctx.writesTo(reportDir);

    const preparing = performance.now();
    const dirs = await prepareModelDirs({
      modelDir: g.modelDir,
      outDir: cacheDir,
      precisions,
      calibrationPrompts,
      int8: {
        samples: intOption(values, 'calibration-samples', name, 1) ?? (bundled ? BUNDLED_CALIBRATION.samples : undefined),
        steps: intOption(values, 'calibration-steps', name, 1) ?? (bundled ? BUNDLED_CALIBRATION.steps : undefined),
        // Calibrate at the size that is benchmarked: activation ranges depend on the latent size.
        size: { width, height },
      },
      threads,
      device,
      onProgress: ctx.progress,
    });
    const prepareMs = performance.now() - preparing;
    const outcome = await benchmark({
      models: precisions.map((p) => ({ precision: p, dir: dirs[p] })),
      modelName: info.name,
      prompt,
      negativePrompt: g.negativePrompt,
      seed: g.seed,
      steps,
      scheduler: g.scheduler,
      guidance: g.guidance,
      width,
      height,
      warmup,
      runs,
      threads,
      device,
      interleave: !sequential,
      fidelity: fidelityPrompts && language ? { prompts: fidelityPrompts, steps: fidelitySteps ?? (bundled ? Math.min(steps, BUNDLED_FIDELITY_STEPS) : steps), language } : undefined,
      onProgress: ctx.progress,
      openGenerator: openDiffusionGenerator,
      onnxruntimeVersion: onnxruntimeVersion(),
      notes: [...g.warnings, ...dirs.notes],
    });
    const written = reportDir ? await writeBenchmarkReport(reportDir, outcome) : undefined;
    // The whole command, as a stopwatch sees it: making the FP16/INT8 dirs, loading, runs, fidelity, the report.
    const wallMs = performance.now() - started;
    const replaced = earlierReport ? `replaced the report of the run of ${earlierReport}` : undefined;
    if (ctx.json) {
      ctx.printJson({ ok: true, report: outcome.report, files: written ?? null, wallMs, prepareMs, replacedReport: earlierReport ?? null, warnings: g.warnings });
      return 0;
    }
    const r = outcome.report;
    ctx.io.stdout(
      [
        `sdq bench ${r.model}: "${r.prompt}", ${r.width}x${r.height}, ${r.scheduler} ${r.steps} steps, guidance ${r.guidance}, seed ${r.seed}, ${r.warmup} warm-up + ${r.runs} runs per precision`,
        machineLine(r),
        '',
        formatTextTable(TABLE_HEADER, tableRows(r)),
        '',
        'time per stage (mean ms per generation):',
        formatTextTable(STAGE_HEADER, stageRows(r)),
        '',
        ...(r.precisions.some((p) => p.fidelity)
          ? [`fidelity = faithful images / prompts (${r.precisions.find((p) => p.fidelity)!.fidelity!.steps} steps); ${FIDELITY_RULE}`]
          : []),
        ...r.notes.map((n) => `note: ${n}`),
        ...(written ? [`report: ${written.html}${replaced ? ` (${replaced}; pass --report DIR to keep both)` : ''}`] : []),
        `total ${(wallMs / 1000).toFixed(1)} s wall: model dirs ${(prepareMs / 1000).toFixed(1)} s, benchmark ${(r.totalMs / 1000).toFixed(1)} s, report ${((wallMs - prepareMs - r.totalMs) / 1000).toFixed(1)} s`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
