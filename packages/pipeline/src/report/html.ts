// report.html: one self-contained file (no network): images inline as base64 PNG, stage bars as inline SVG.
import type { BenchmarkReport } from '../types.js';
import { STAGES, tableHeader, tableRows, stageHeader, stageRows, rowLabel, runSettings, machineLine } from './rows.js';
import { FIDELITY_RULE } from '../fidelity.js';

/** PNG bytes by file name, as referenced from PrecisionResult.image and ReportImages.fidelity. */
export interface ReportImages {
  /** file name -> PNG bytes */
  files: ReadonlyMap<string, Uint8Array>;
  /** precision -> PNG file names of the fidelity prompts, in verdict order */
  fidelity?: ReadonlyMap<string, readonly string[]>;
}

const STAGE_COLOURS = ['#8e7cc3', '#6fa8dc', '#e06666', '#93c47d', '#f6b26b', '#999999'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function dataUri(png: Uint8Array | undefined): string {
  return png ? `data:image/png;base64,${Buffer.from(png).toString('base64')}` : '';
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** Horizontal stacked bars, one per precision, scaled to the slowest generation. */
function stageBars(report: BenchmarkReport): string {
  const rowH = 34;
  // Wide enough for a sweep's labels (precision and axes), 7 px a character.
  const labelW = Math.max(70, ...report.precisions.map((r) => rowLabel(r).length * 7 + 10));
  const barW = 560;
  const totals = report.precisions.map((r) => STAGES.reduce((s, [k]) => s + r.stages[k], 0));
  const maxTotal = Math.max(...totals, 1e-9);
  const h = report.precisions.length * rowH + 40;
  const parts: string[] = [];
  report.precisions.forEach((r, i) => {
    const y = i * rowH + 6;
    parts.push(`<text x="0" y="${y + 17}" class="lbl">${escapeHtml(rowLabel(r))}</text>`);
    let x = labelW;
    STAGES.forEach(([key, label], s) => {
      const w = (r.stages[key] / maxTotal) * barW;
      if (w > 0) {
        parts.push(
          `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="24" fill="${STAGE_COLOURS[s]}"><title>${label}: ${r.stages[key].toFixed(1)} ms</title></rect>`,
        );
      }
      x += w;
    });
    parts.push(`<text x="${(x + 6).toFixed(2)}" y="${y + 17}" class="val">${totals[i].toFixed(0)} ms</text>`);
  });
  const legendY = report.precisions.length * rowH + 22;
  STAGES.forEach(([, label], s) => {
    const x = labelW + s * 95;
    parts.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${STAGE_COLOURS[s]}"/>`);
    parts.push(`<text x="${x + 16}" y="${legendY}" class="leg">${label}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 80}" height="${h}" role="img" aria-label="time per stage">${parts.join('')}</svg>`;
}

export function renderHtml(report: BenchmarkReport, images: ReportImages): string {
  const cards = report.precisions
    .map((r) => {
      const q = r.quality;
      const caption =
        r.precision === 'fp32'
          ? 'reference'
          : q
            ? `PSNR ${q.psnr === null ? 'inf' : q.psnr.toFixed(2)} dB, SSIM ${q.ssim.toFixed(4)}`
            : '';
      const src = r.image ? dataUri(images.files.get(r.image)) : '';
      const { width, height } = r.cell ?? report;
      return `<figure><img src="${src}" alt="${escapeHtml(rowLabel(r))} image" width="256" height="${Math.round((256 * height) / width)}"><figcaption><b>${escapeHtml(rowLabel(r))}</b> ${r.latency.meanMs.toFixed(0)} ms<br>${escapeHtml(caption)}</figcaption></figure>`;
    })
    .join('\n');

  let fidelity = '';
  const withFidelity = report.precisions.filter((r) => r.fidelity);
  if (withFidelity.length > 0) {
    const verdicts = withFidelity[0].fidelity!.verdicts;
    const head = `<tr><th>prompt</th>${withFidelity.map((r) => `<th>${r.precision.toUpperCase()} ${r.fidelity!.faithful}/${r.fidelity!.total} (colour ${r.fidelity!.colourFaithful}/${r.fidelity!.total})</th>`).join('')}</tr>`;
    const rows = verdicts
      .map((v, i) => {
        const cells = withFidelity
          .map((r) => {
            const x = r.fidelity!.verdicts[i];
            const file = images.fidelity?.get(r.precision)?.[i];
            const img = file ? `<img src="${dataUri(images.files.get(file))}" width="64" height="64" alt="">` : '';
            return `<td class="${x.faithful ? 'ok' : 'bad'}">${img}<span>${x.faithful ? '&#10003;' : '&#10007;'} fg ${x.fg.toFixed(2)} bg ${x.bg.toFixed(2)} fill ${x.fill.toFixed(2)} gap ${x.cornerGap.toFixed(2)}/${x.cornerSpread.toFixed(2)}: ${x.shape ?? 'no shape'}</span></td>`;
          })
          .join('');
        return `<tr><td>${escapeHtml(v.prompt)}</td>${cells}</tr>`;
      })
      .join('\n');
    fidelity = `<h2>Prompt fidelity</h2><p class="note">Judge (${withFidelity[0].fidelity!.steps} steps): ${escapeHtml(FIDELITY_RULE)}.</p><table class="fid"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
  }

  const notes = report.notes.length ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sdq bench: ${escapeHtml(report.model)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.note{color:#555;margin:4px 0}
.imgs{display:flex;gap:16px;flex-wrap:wrap}
figure{margin:0;text-align:center}figure img{image-rendering:pixelated;border:1px solid #ccc;display:block}
figcaption{font-size:12px;margin-top:4px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.fid td{text-align:left;font-size:12px}.fid img{image-rendering:pixelated;vertical-align:middle;margin-right:6px}
.ok span{color:#1a7f37}.bad span{color:#c62828;font-weight:600}
svg .lbl{font:600 13px system-ui,sans-serif}svg .val,svg .leg{font:12px system-ui,sans-serif;fill:#333}
</style></head><body>
<h1>sdq bench: ${escapeHtml(report.model)}</h1>
<p class="note">&ldquo;${escapeHtml(report.prompt)}&rdquo; &middot; ${escapeHtml(runSettings(report))}</p>
<p class="note">${escapeHtml(machineLine(report))}</p>
<h2>Images (same prompt and seed)</h2>
<div class="imgs">
${cards}
</div>
<h2>Latency and quality</h2>
${table(tableHeader(report), tableRows(report))}
<p class="note">Speed-up = FP32 mean / mean. PSNR, SSIM, max abs diff: against the FP32 image${report.sweep ? ' of the same scheduler, steps and size' : ''} (RGB in [0,1]).${report.precisions.some((r) => r.fidelity) ? ` Fidelity: faithful images / prompts; ${escapeHtml(FIDELITY_RULE)}.` : ''}</p>
<h2>Time per stage (mean per generation)</h2>
${stageBars(report)}
${table(stageHeader(report), stageRows(report))}
${fidelity}
${notes}
<p class="note">Total bench time ${(report.totalMs / 1000).toFixed(1)} s &middot; ${escapeHtml(report.createdAt)}</p>
</body></html>
`;
}
