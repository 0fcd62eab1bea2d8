// @sdq/pipeline public API: compose the packages into quantize / build / generate / benchmark, and report.
export { writeReport, renderJson, renderMarkdown, renderHtml, formatTextTable, formatMarkdownTable, formatBytes, tableRows, stageRows, TABLE_HEADER, STAGE_HEADER } from './report/index.js';
export type { ReportImages } from './report/index.js';
export { encodePng, toUint8 } from './image.js';
export type { RgbImage } from './image.js';
export { judgeFidelity, fidelityPromptSet, readPromptLanguage, parseShapesPrompt, colourFraction } from './fidelity.js';
export type { PromptLanguage, FidelityVerdict } from './fidelity.js';
export { latencyStats, percentile } from './stats.js';
export type { LatencyStats } from './stats.js';
export { checkModelDir, modelBytes, ONNX_COMPONENTS } from './model-dir.js';
export type { ModelDirInfo, OnnxComponent } from './model-dir.js';
export { writeFileAtomic, writeDirAtomic, assertWritableParent, sizeOnDisk } from './fs-atomic.js';
export { PRECISIONS } from './types.js';
export type { Precision, BenchmarkReport, PrecisionResult, StageTimes, ImageQuality, FidelityResult, MachineInfo } from './types.js';
