export { GraphBuilder } from './graph-builder.js';
export type { AttributeInput, GraphBuilderOptions, NodeOptions, RandomNormalOptions, WeightMode } from './graph-builder.js';
export { attr, makeAttribute, makeGraph, makeModel, makeNode, makeTensorProto, makeTensorType, makeValueInfo } from './proto-factory.js';
export type { Dim } from './proto-factory.js';
export { ExternalDataWriter } from './external-data-writer.js';
export type { ExternalDataPlacement, ExternalDataWriterOptions } from './external-data-writer.js';
export { Mulberry32, fnv1a32 } from './prng.js';
export * from './sd/index.js';
