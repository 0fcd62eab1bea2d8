// Write a BenchmarkOutcome as a report dir: PNGs + report.json/.md/.html.
import type { BenchmarkOutcome } from './benchmark.js';
import { encodePng } from './image.js';
import { writeReport } from './report/index.js';

export async function writeBenchmarkReport(dir: string, outcome: BenchmarkOutcome): Promise<{ json: string; markdown: string; html: string }> {
  const files = new Map<string, Uint8Array>();
  const fidelity = new Map<string, string[]>();
  const report = { ...outcome.report, precisions: outcome.report.precisions.map((p) => ({ ...p })) };
  for (const p of report.precisions) {
    const img = outcome.images.get(p.precision);
    if (img) {
      p.image = `${p.precision}.png`;
      files.set(p.image, encodePng(img));
    }
    const fimgs = outcome.fidelityImages.get(p.precision) ?? [];
    fidelity.set(
      p.precision,
      fimgs.map((fi, i) => {
        const name = `fidelity-${p.precision}-${String(i).padStart(2, '0')}.png`;
        files.set(name, encodePng(fi));
        return name;
      }),
    );
  }
  return writeReport(dir, report, { files, fidelity });
}
