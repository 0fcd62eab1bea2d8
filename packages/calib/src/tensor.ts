import { DataType, SdqError, dtypeInfo, shapeSize } from '@sdq/quant';
import type { TypedArray } from '@sdq/quant';

/** One tensor as calibration code passes it around: ONNX element type, dims, and the values (bit patterns for float16). */
export interface CalibTensor {
  readonly type: DataType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

/** A set of named tensors that feeds one model run, e.g. { sample, timestep, encoder_hidden_states }. */
export type Feeds = Record<string, CalibTensor>;

/** Build a tensor after checking that the element count matches the dims. */
export function makeTensor(type: DataType, dims: readonly number[], data: TypedArray, what = 'tensor'): CalibTensor {
  const expected = shapeSize(dims);
  if (data.length !== expected) {
    throw new SdqError(
      'SHAPE_MISMATCH',
      `${what}: ${data.length} ${dtypeInfo(type).name} values do not fill shape [${dims.join(', ')}] (${expected} expected)`,
    );
  }
  return { type, dims: [...dims], data };
}
