// writeReport: report.json + report.md + report.html (+ the PNGs) into a directory, all or nothing.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { BenchmarkReport } from '../types.js';
import { renderMarkdown } from './markdown.js';
import { renderHtml, type ReportImages } from './html.js';
import { writeDirAtomic, assertWritableParent } from '../fs-atomic.js';

export { renderMarkdown } from './markdown.js';
export { renderHtml } from './html.js';
export type { ReportImages } from './html.js';
export {
  TABLE_HEADER, STAGE_HEADER, SWEEP_AXES_HEADER, tableHeader, stageHeader, rowLabel, tableRows, stageRows, formatTextTable, formatMarkdownTable, formatBytes, machineLine,
} from './rows.js';

/** JSON with non-finite numbers written as null (JSON has no Infinity/NaN). */
export function renderJson(report: BenchmarkReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/**
 * Write report.json, report.md, report.html and the PNG files into `dir` (created, or replaced as a whole).
 * Returns the paths written.
 */
export async function writeReport(
  dir: string,
  report: BenchmarkReport,
  images: ReportImages = { files: new Map() },
): Promise<{ json: string; markdown: string; html: string }> {
  await assertWritableParent(dir);
  await writeDirAtomic(dir, async (tmp) => {
    for (const [name, png] of images.files) await fs.writeFile(path.join(tmp, name), png);
    await fs.writeFile(path.join(tmp, 'report.json'), renderJson(report));
    await fs.writeFile(path.join(tmp, 'report.md'), renderMarkdown(report));
    await fs.writeFile(path.join(tmp, 'report.html'), renderHtml(report, images));
  });
  return {
    json: path.join(dir, 'report.json'),
    markdown: path.join(dir, 'report.md'),
    html: path.join(dir, 'report.html'),
  };
}
