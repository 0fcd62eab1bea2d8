export { convertToFloat16, DEFAULT_FP16_BLOCK_OPS, FP16_ALWAYS_FLOAT_INPUTS } from './float16.js';
export type { ConvertToFloat16Options } from './float16.js';
export { addGraphOutputs } from './graph-outputs.js';
export { inferElemTypes } from './elem-types.js';
export { insertQdq, insertQdqWithReport, qdqTensorsFor } from './qdq.js';
export type { QdqPolicy, QdqRanges, QdqReport, TensorRange } from './qdq.js';
export { fuseAttention } from './attention.js';
export type { FuseAttentionReport } from './attention.js';
