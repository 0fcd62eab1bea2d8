export { SdqError, isSdqError } from './errors.js';
export type { SdqErrorCode } from './errors.js';
export { DataType, DTYPES, dtypeInfo, byteSize, typedArrayFromBytes, shapeSize } from './dtypes.js';
export type { DTypeInfo, TypedArray, TypedArrayConstructor } from './dtypes.js';
