// inspectPath: one .onnx file or a whole model dir, as a report and as text (sdq inspect).
import { promises as fs } from 'node:fs';
import { SdqError } from '@sdq/quant';
import { inspectModelFile, inspectModelDir, formatInspectReport, formatModelDirReport } from '@sdq/onnx';
import type { InspectReport, ModelDirReport } from '@sdq/onnx';

export type InspectResult = { kind: 'model'; path: string; report: InspectReport; text: string } | { kind: 'dir'; path: string; report: ModelDirReport; text: string };

export async function inspectPath(target: string): Promise<InspectResult> {
  let st;
  try {
    st = await fs.stat(target);
  } catch {
    throw new SdqError('NOT_FOUND', `${target} does not exist; pass an .onnx file or a model dir`);
  }
  if (st.isDirectory()) {
    const report = await inspectModelDir(target);
    return { kind: 'dir', path: target, report, text: formatModelDirReport(report) };
  }
  const report = await inspectModelFile(target);
  return { kind: 'model', path: target, report, text: formatInspectReport(report, target) };
}
