// report.md: the comparison table, per-stage times and fidelity, as GitHub Markdown.
import type { BenchmarkReport } from '../types.js';
import {
  tableHeader, stageHeader, tableRows, stageRows, rowLabel, formatMarkdownTable, runSettings, machineLine, verdictText,
} from './rows.js';
import { FIDELITY_RULE } from '../fidelity.js';

export function renderMarkdown(report: BenchmarkReport): string {
  const lines: string[] = [
    `# sdq bench: ${report.model}`,
    '',
    `Prompt: "${report.prompt}"${report.negativePrompt ? ` (negative: "${report.negativePrompt}")` : ''}`,
    '',
    `Settings: ${runSettings(report)}.`,
    '',
    `Machine: ${machineLine(report)}.`,
    '',
    formatMarkdownTable(tableHeader(report), tableRows(report)),
    '',
    `Speed-up is FP32 mean / this mean. PSNR, SSIM and max abs diff compare the image with the FP32 image of the same prompt and seed${report.sweep ? ', scheduler, steps and size' : ''} (RGB in [0,1]).${report.precisions.some((r) => r.fidelity) ? ` Fidelity: faithful images / prompts; ${FIDELITY_RULE}.` : ''}`,
    '',
    '## Time per stage (mean per generation)',
    '',
    formatMarkdownTable(stageHeader(report), stageRows(report)),
    '',
  ];
  const withFidelity = report.precisions.filter((r) => r.fidelity);
  if (withFidelity.length > 0) {
    lines.push('## Prompt fidelity', '');
    const first = withFidelity[0].fidelity!;
    lines.push(`Judge (${first.steps} steps): ${FIDELITY_RULE}.`, '');
    const header = ['prompt', ...withFidelity.map((r) => r.precision.toUpperCase())];
    const rows = first.verdicts.map((v, i) => [
      v.prompt,
      ...withFidelity.map((r) => {
        const x = r.fidelity!.verdicts[i];
        return verdictText(x);
      }),
    ]);
    lines.push(formatMarkdownTable(header, rows), '');
  }
  const images = report.precisions.filter((r) => r.image);
  if (images.length > 0) {
    lines.push('## Images', '', images.map((r) => `![${rowLabel(r)}](${r.image})`).join(' '), '');
  }
  if (report.notes.length > 0) lines.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  lines.push(`Total bench time ${(report.totalMs / 1000).toFixed(1)} s, ${report.createdAt}.`, '');
  return lines.join('\n');
}
