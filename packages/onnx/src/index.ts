/** @sdq/onnx public API. */
export const PACKAGE = '@sdq/onnx';

export * from './proto/types.js';
export { decodeModel, encodeModel, decodeTensor, encodeTensor, sniffForeignFormat, emptyModel, emptyGraph, emptyNode, emptyTensor } from './proto/model.js';
export type { DecodeOptions } from './proto/model.js';
export { decodeMessage, encodeMessage, encodedSize, emptyMessage, MAX_PROTOBUF_BYTES } from './proto/codec.js';
export { MAX_KNOWN_IR_VERSION } from './proto/schema.js';
export { readModel, writeModel, loadExternalData, checkExternalData, planExternalData, inlineModelSize } from './io.js';
export type { ReadModelOptions, WriteModelOptions, WriteModelResult } from './io.js';
export { resolveExternalData, readExternalRange, forEachTensor, forEachGraphTensor, checkRelativeLocation } from './external.js';
export type { ExternalDataRef } from './external.js';
export { tensorBytes, tensorToTypedArray, tensorFromTypedArray, tensorByteLength, tensorElementCount, isExternalTensor } from './tensor.js';
export { readModelDir, isModelDir, SD_COMPONENTS } from './modeldir.js';
export type { ModelDir, ModelDirComponent } from './modeldir.js';
export { inspectModel, inspectModelFile, inspectModelDir, formatInspectReport, formatModelDirReport, valueReport } from './inspect.js';
export type { InspectReport, InspectOptions, ValueReport, TypeTotals, ModelDirReport } from './inspect.js';
export { Graph, topologicalSort, nodeDependencies, outerScopeInputs, subgraphInputs } from './graph.js';
export type { TopoResult } from './graph.js';
export { validateModel } from './validate.js';
export type { Finding, FindingCode } from './validate.js';
// Graph builder, SD-shaped synthetic models, graph passes (builder/, passes/).
export * from './builder/index.js';
export * from './passes/index.js';
