import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeReport, renderJson, renderMarkdown, renderHtml, formatTextTable, tableRows, TABLE_HEADER } from './index.js';
import { sampleReport } from '../testing.js';

describe('report writers', () => {
  const report = sampleReport();
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  const images = { files: new Map([['fp32.png', png], ['fp16.png', png], ['int8.png', png]]) };

  it('report.json is the report, with non-finite numbers as null', () => {
    const withInf = { ...report, totalMs: Number.POSITIVE_INFINITY };
    const parsed = JSON.parse(renderJson(withInf)) as typeof report;
    expect(parsed.totalMs).toBeNull();
    expect(parsed.precisions.map((p) => p.precision)).toEqual(['fp32', 'fp16', 'int8']);
    expect(parsed.precisions[2].latency.medianMs).toBe(810);
  });

  it('the table has one row per precision with speed-up and quality', () => {
    const rows = tableRows(report);
    expect(rows.map((r) => r[0])).toEqual(['FP32', 'FP16', 'INT8']);
    expect(rows[2]).toEqual(['INT8', '836.7', '1.50x', '810.0', '882.0', '40.0', '11.4 MB', '28.25', '0.9800', '0.1200', '1/2', '2/2']);
    expect(rows[0].slice(7, 10)).toEqual(['ref', 'ref', 'ref']);
    const text = formatTextTable(TABLE_HEADER, rows).split('\n');
    expect(text).toHaveLength(5);
    expect(new Set(text.map((l) => l.length)).size).toBe(1); // aligned
  });

  it('report.md has the table, stages and fidelity', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| precision | mean ms | speed-up |');
    expect(md).toContain('| INT8 | 836.7 | 1.50x |');
    expect(md).toContain('## Time per stage');
    expect(md).toContain('| INT8 | 836.7 | 1.50x | 810.0 | 882.0 | 40.0 | 11.4 MB | 28.25 | 0.9800 | 0.1200 | 1/2 | 2/2 |');
    expect(md).toContain('yes (fg 0.11, bg 0.85, fill 0.79, corner gap 0.19 spread 0.04: circle)');
    expect(md).toContain('NO (fg 0.10, bg 0.80, fill 0.60, corner gap 0.22 spread 0.34: triangle)');
    // the legend states the rule: colours and shape
    expect(md).toContain('a triangle when the gaps differ by >= 0.2 and fill is 0.4-0.75, else a square when the mean gap is < 0.14 and fill >= 0.75, a circle when it is >= 0.14 and fill >= 0.6, otherwise no shape');
  });

  it('report.html is self-contained: inline base64 images, inline SVG, escaped text, no external URLs', () => {
    const html = renderHtml(report, images);
    expect(html).toContain(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
    expect(html).toContain('<svg');
    expect(html).toContain('&lt;b&gt;green&lt;/b&gt;');
    expect(html).toContain('a note with &lt;html&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).not.toContain('<b>green</b>');
    expect(html).toContain('INT8 1/2 (colour 2/2)');
    expect(html).toContain('fill 0.60 gap 0.22/0.34: triangle');
  });

  it('writes all files into a new dir and leaves no temp dir', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-report-'));
    const dir = path.join(base, 'report');
    const paths = await writeReport(dir, report, images);
    expect((await fs.readdir(dir)).sort()).toEqual(['fp16.png', 'fp32.png', 'int8.png', 'report.html', 'report.json', 'report.md']);
    expect(JSON.parse(await fs.readFile(paths.json, 'utf8')).model).toBe('shapes-sd');
    expect(await fs.readdir(base)).toEqual(['report']);
    await fs.rm(base, { recursive: true });
  });

  it('an output path under a file fails with one IO_ERROR line and leaves nothing behind', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-report-'));
    await fs.writeFile(path.join(base, 'file'), 'x');
    const dir = path.join(base, 'file', 'report');
    await expect(writeReport(dir, report, images)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(`cannot write ${dir}: a parent of the path is a file`) });
    expect(await fs.readdir(base)).toEqual(['file']);
    await fs.rm(base, { recursive: true });
  });

  it('an unwritable location fails with one IO_ERROR line and leaves nothing behind', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sdq-report-'));
    await fs.chmod(base, 0o500);
    const dir = path.join(base, 'report');
    try {
      if (process.getuid?.() === 0) return; // root writes anywhere; the permission case cannot be staged
      await expect(writeReport(dir, report, images)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(`cannot write ${dir}: permission denied`) });
      expect(await fs.readdir(base)).toEqual([]);
    } finally {
      await fs.chmod(base, 0o700);
      await fs.rm(base, { recursive: true });
    }
  });
});
