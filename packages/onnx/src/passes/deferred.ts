// Deferred tensor data: a pass gives a tensor still in an external file a replacement whose bytes are made only when
// writeModel writes it (its `deferredData`), so a whole-model pass holds one tensor at a time, not all of them.
import type { DataType } from '@sdq/quant';
import { DataLocation, type TensorProto } from '../proto/types.js';
import { makeTensorProto } from '../builder/proto-factory.js';
import { isExternalTensor } from '../tensor.js';

/** Tensor -> the function that makes its bytes; pass the same map to writeModel's `deferredData`. */
export type DeferredData = Map<TensorProto, () => Uint8Array>;

/** Whether a pass with a deferred map should defer what it makes from `t`: its data is still in a file. */
export function isDeferrable(t: TensorProto, deferred: DeferredData | undefined): deferred is DeferredData {
  return deferred !== undefined && isExternalTensor(t) && t.rawData === undefined;
}

/**
 * A tensor without data whose bytes `make()` returns when written, registered in `deferred`. Its external_data
 * location is a note that no reader resolves, so using it without the map fails loudly.
 */
export function deferredTensor(deferred: DeferredData, fields: { name?: string; dims: readonly number[]; dataType: DataType }, what: string, make: () => Uint8Array): TensorProto {
  const t = makeTensorProto({
    ...(fields.name !== undefined && { name: fields.name }),
    dims: [...fields.dims],
    dataType: fields.dataType,
    dataLocation: DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: `${what}, made when written (pass the pass's deferred map to writeModel)` }],
  });
  deferred.set(t, make);
  return t;
}
