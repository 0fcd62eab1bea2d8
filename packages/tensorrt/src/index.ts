/** @sdq/tensorrt: TensorRT engine plans and builds with trtexec, log parsing, INT8 calibration cache, compatibility lint. */
export const PACKAGE = '@sdq/tensorrt';

export {
  parseTrtVersion, formatTrtVersion, compareTrtVersions, trtVersionToNumber, trtVersionFromNumber, trtVersionFromLog,
  toTrtVersion, trtexecCapabilities, MIN_TRT_VERSION,
} from './version.js';
export type { TrtVersion, TrtexecCapabilities } from './version.js';

export { profileForComponent, resolveProfileTarget, formatShapes, isDynamicDim, DEFAULT_PROFILE_TARGET } from './profiles.js';
export type { Dim, ModelInput, ModelInputs, DimRange, ShapeOverride, ProfileTarget, InputProfile, ComponentProfile } from './profiles.js';
export { modelInputsFromModel } from './model-inputs.js';
export { componentModelsFromDirs, ENGINE_COMPONENTS } from './model-dir.js';

export { planEngines, formatPlan, shellQuote, enginePathFor, onnxPrecisionFor, defaultTyping, PRECISIONS, DEFAULT_WORKSPACE_MIB, DEFAULT_BUILDER_OPTIMIZATION_LEVEL } from './plan.js';
export type { Precision, Typing, Int8Source, ComponentModels, PlanOptions, EnginePlan, FormatPlanOptions } from './plan.js';

export { parseTrtexecLog, parseTimingStats } from './log.js';
export type { TrtexecLog, LogEntry, LogSeverity, TimingStats, PerformanceSummary, GpuInfo } from './log.js';

export { runTrtexec, resolveTrtexec, detectTrtexecVersion, relevantErrorLines, TrtexecError, TRTEXEC_MISSING_HELP } from './run.js';
export type { RunTrtexecOptions, TrtexecRunResult, TrtexecLine } from './run.js';

export { buildEngines, hashOnnxSource, sha256File, readEngineManifest, staleReason, manifestKey, MANIFEST_FILE } from './build.js';
export type { BuildEnginesOptions, BuildEnginesResult, BuiltEngine, EngineManifest, EngineManifestEntry, SourceHash, HashedFile } from './build.js';

export {
  readCalibrationCache, writeCalibrationCache, parseCalibrationCache, formatCalibrationCache, calibrationCacheFromRanges,
  trtScaleFromRange, scaleToHex, hexToScale,
} from './calibration-cache.js';
export type { CalibrationCache, CalibrationCacheEntry, CalibrationAlgorithm, TensorRange, RangesInput, CacheFromRangesOptions } from './calibration-cache.js';

export { lintForTensorRT } from './lint.js';
export type { LintFinding, LintCode, LintSeverity, LintOptions } from './lint.js';
