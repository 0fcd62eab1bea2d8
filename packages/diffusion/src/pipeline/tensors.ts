import * as ort from 'onnxruntime-node';
import { SdqError, float16ToFloat32, float32ToFloat16 } from '@sdq/quant';

/** Element types the pipeline feeds float data as: float32, or float16 as Uint16Array bit patterns. */
export type FloatType = 'float32' | 'float16';

/**
 * A float input fed from float32 data: wraps `data` directly for float32 models, converts into a reused Uint16Array
 * for float16 models. The same ort.Tensor is reused across steps (onnxruntime reads the buffer at run time).
 */
export class FloatFeed {
  readonly tensor: ort.Tensor;
  private readonly bits: Uint16Array | null;
  constructor(
    readonly type: FloatType,
    readonly data: Float32Array,
    dims: readonly number[],
  ) {
    this.bits = type === 'float16' ? new Uint16Array(data.length) : null;
    this.tensor = new ort.Tensor(type, this.bits ?? data, dims);
  }

  /** Call after writing `data`: converts to float16 when the model wants it. */
  sync(): ort.Tensor {
    if (this.bits !== null) float32ToFloat16(this.data, this.bits);
    return this.tensor;
  }
}

/** Float32 view of a float32/float16 output tensor (float16 converted into `out` if given). */
export function outputAsFloat32(tensor: ort.Tensor, name: string, out?: Float32Array): Float32Array {
  if (tensor.type === 'float32') {
    if (out === undefined) return tensor.data as Float32Array;
    out.set(tensor.data as Float32Array);
    return out;
  }
  if (tensor.type === 'float16') {
    const data = tensor.data as unknown;
    // onnxruntime-node returns float16 as Uint16Array bits (Node 20 has no Float16Array)
    if (data instanceof Uint16Array) return float16ToFloat32(data, out);
  }
  throw new SdqError('UNSUPPORTED_TYPE', `output ${name} is ${tensor.type}; the pipeline reads float32 or float16 outputs`);
}

/** The float type of an input/output from session metadata, with a clear error for anything else. */
export function floatTypeOf(type: string, where: string): FloatType {
  if (type === 'float32' || type === 'float16') return type;
  throw new SdqError('UNSUPPORTED_TYPE', `${where} is ${type}; expected float32 or float16`);
}
