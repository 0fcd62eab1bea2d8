// The comparison table shared by the terminal output, report.md and report.html.
import type { BenchmarkReport, PrecisionResult } from '../types.js';
import type { FidelityVerdict } from '../fidelity.js';

export const TABLE_HEADER = [
  'precision',
  'mean ms',
  'speed-up',
  'median ms',
  'p90 ms',
  'UNet ms/step',
  'size',
  'PSNR dB',
  'SSIM',
  'max abs diff',
  'fidelity',
  'colour',
] as const;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');

export function tableRow(r: PrecisionResult): string[] {
  const q = r.quality;
  return [
    r.precision.toUpperCase(),
    ms(r.latency.meanMs),
    r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`,
    ms(r.latency.medianMs),
    ms(r.latency.p90Ms),
    ms(r.unetMsPerStep),
    formatBytes(r.modelBytes),
    q ? (q.psnr === null ? 'inf' : q.psnr.toFixed(2)) : r.precision === 'fp32' ? 'ref' : '-',
    q ? q.ssim.toFixed(4) : r.precision === 'fp32' ? 'ref' : '-',
    q ? q.maxAbsDiff.toFixed(4) : r.precision === 'fp32' ? 'ref' : '-',
    r.fidelity ? `${r.fidelity.faithful}/${r.fidelity.total}` : '-',
    r.fidelity ? `${r.fidelity.colourFaithful}/${r.fidelity.total}` : '-',
  ];
}

/** One image's verdict in words: "yes" or "NO" and the numbers behind it. */
export function verdictText(v: FidelityVerdict): string {
  return `${v.faithful ? 'yes' : 'NO'} (fg ${v.fg.toFixed(2)}, bg ${v.bg.toFixed(2)}, fill ${v.fill.toFixed(2)}, corner gap ${v.cornerGap.toFixed(2)} spread ${v.cornerSpread.toFixed(2)}: ${v.shape ?? 'no shape'})`;
}

/** A sweep's axes, shown after the precision in each row of its tables. */
export const SWEEP_AXES_HEADER = ['recipe', 'scheduler', 'steps', 'image'] as const;

function axesCells(r: PrecisionResult): string[] {
  const c = r.cell;
  return c ? [c.recipe ?? '-', c.scheduler, String(c.steps), `${c.width}x${c.height}`] : [];
}

/** A header with the sweep's axes after the first (precision) column when the report is a sweep's. */
function withAxes(report: BenchmarkReport, header: readonly string[]): string[] {
  return report.sweep ? [header[0], ...SWEEP_AXES_HEADER, ...header.slice(1)] : [...header];
}

function withAxesRow(r: PrecisionResult, cells: string[]): string[] {
  return [cells[0], ...axesCells(r), ...cells.slice(1)];
}

/** TABLE_HEADER, with the axes columns in a sweep's report. */
export function tableHeader(report: BenchmarkReport): string[] {
  return withAxes(report, TABLE_HEADER);
}

export function tableRows(report: BenchmarkReport): string[][] {
  return report.precisions.map((r) => withAxesRow(r, tableRow(r)));
}

/** A row's name in figures and charts: its precision, and in a sweep its axes (e.g. `INT8 minmax ddim 4 64x64`). */
export function rowLabel(r: PrecisionResult): string {
  return [r.precision.toUpperCase(), ...(r.cell ? axesCells(r).filter((c) => c !== '-') : [])].join(' ');
}

/** Plain aligned text table (numbers right-aligned), for terminals. */
export function formatTextTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatMarkdownTable(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const sep = `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

/** One-paragraph description of the run settings, for every report format. */
export function runSettings(report: BenchmarkReport): string {
  if (report.sweep) {
    const a = report.sweep.axes;
    return (
      `sweep ${report.sweep.file}: ${report.sweep.cells} cells (precisions ${a.precisions.join(', ')}; INT8 recipes ${a.recipes.join(', ') || '-'}; ` +
      `schedulers ${a.schedulers.join(', ')}; steps ${a.steps.join(', ')}; sizes ${a.sizes.join(', ')}), guidance ${report.guidance}, ` +
      `seed ${report.seed}, ${report.warmup} warm-up + ${report.runs} timed runs per cell, ${report.threads} threads`
    );
  }
  return (
    `${report.width}x${report.height}, ${report.scheduler} ${report.steps} steps, guidance ${report.guidance}, ` +
    `seed ${report.seed}, ${report.warmup} warm-up + ${report.runs} timed runs per precision, ${report.threads} threads`
  );
}

export function machineLine(report: BenchmarkReport): string {
  const m = report.machine;
  // reports written before --device existed carry no device: they ran on the CPU
  const device = m.device === undefined || m.device === 'cpu' ? 'on the CPU' : `on ${m.gpu ?? 'a GPU'} through onnxruntime's ${m.device === 'webgpu' ? 'WebGPU' : 'CUDA'} provider`;
  return `${device}; ${m.cpuModel} (${m.cpus} cores), ${m.totalMemoryGiB.toFixed(0)} GiB RAM, ${m.platform}, Node ${m.node}, onnxruntime-node ${m.onnxruntime}`;
}

export const STAGES = [
  ['tokenizerMs', 'tokenizer'],
  ['textEncoderMs', 'text encoder'],
  ['unetMs', 'UNet'],
  ['schedulerMs', 'scheduler'],
  ['vaeDecoderMs', 'VAE decoder'],
  ['otherMs', 'other'],
] as const;

export const STAGE_HEADER = ['precision', ...STAGES.map(([, label]) => `${label} ms`), 'overhead'] as const;

/** STAGE_HEADER, with the axes columns in a sweep's report. */
export function stageHeader(report: BenchmarkReport): string[] {
  return withAxes(report, STAGE_HEADER);
}

export function stageRows(report: BenchmarkReport): string[][] {
  return report.precisions.map((r) =>
    withAxesRow(r, [r.precision.toUpperCase(), ...STAGES.map(([key]) => ms(r.stages[key])), `${(r.overheadFraction * 100).toFixed(2)}%`]),
  );
}
